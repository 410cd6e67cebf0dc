#!/usr/bin/env python
"""Build PC-FractalDB and its scenes and images. See ``--help``; the code is in pcfractal.cli."""

import sys

from pcfractal.cli import main

if __name__ == "__main__":
    sys.exit(main())
