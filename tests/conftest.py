"""Shared fixtures: small category sets built once per session."""

from __future__ import annotations

import pytest

from pcfractal.pointclouds.search import SearchSettings, search_categories


@pytest.fixture(scope="session")
def tiny_search():
    """Six categories at the authors' threshold 0.05 (fast), seed 0."""
    return search_categories(6, seed=0, settings=SearchSettings(threshold=0.05))


@pytest.fixture(scope="session")
def tiny_systems(tiny_search):
    return [c.params for c in tiny_search.categories]
