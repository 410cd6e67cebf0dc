"""Fixtures for the scene tests: a tiny category set searched in a second (no ../shared)."""

from __future__ import annotations

import pytest

from pcfractal.pointclouds.category_file import CategorySet
from pcfractal.pointclouds.search import SearchSettings, search_categories


@pytest.fixture(scope="session")
def systems():
    """Five categories at the authors' threshold 0.05 (fast to find)."""
    res = search_categories(5, 0, SearchSettings(threshold=0.05))
    return [c.params for c in res.categories]


@pytest.fixture(scope="session")
def category_dir(tmp_path_factory, systems):
    d = tmp_path_factory.mktemp("cats")
    CategorySet(systems, seed=0, settings={"threshold": 0.05}).save(d / "categories.json")
    return d
