"""Fixtures for the reliability tests: a small category set and clean reference builds,
made once per session in-process with 1 worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from pcfractal.cli import main

from ._util import CATS, LARGE, SMALL


@pytest.fixture(scope="session")
def rel_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("reliability")


@pytest.fixture(scope="session")
def cats(rel_root) -> Path:
    d = rel_root / "cats_ref"
    assert main(["categories", *CATS, "--workers", "1", "--out", str(d)]) == 0
    return d


@pytest.fixture(scope="session")
def small_ref(cats, rel_root) -> Path:
    d = rel_root / "small_ref"
    assert main(["instances", "--categories", str(cats), *SMALL, "--workers", "1", "--out", str(d)]) == 0
    return d


@pytest.fixture(scope="session")
def large_ref(cats, rel_root) -> Path:
    d = rel_root / "large_ref"
    assert main(["instances", "--categories", str(cats), *LARGE, "--workers", "1", "--out", str(d)]) == 0
    return d
