#!/usr/bin/env python
"""View a fractal scene: the same as ``pcfractal view`` (see its --help and docs/SCENES.md)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pcfractal.cli.view import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(prog="view_scene.py"))
