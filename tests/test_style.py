"""One formatter for the whole tree: ruff format, and ruff check's error and import rules
(pyproject.toml [tool.ruff]). Fix with: .venv/bin/ruff check --fix . && .venv/bin/ruff format ."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_the_tree_is_formatted():
    r = ruff("format", "--check", ".")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


def test_ruff_finds_no_error():
    r = ruff("check", ".")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
