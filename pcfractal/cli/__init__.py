"""``build_pcfractal.py``: one command-line tool, one module per subcommand.

Each subcommand module defines ``register(subparsers)``, which adds its parser and sets
``func`` to a ``run(args) -> int``. ``main(argv)`` is importable and testable in-process.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pcfractal import __version__
from ._common import CliError

# Subcommand modules, in --help order. Later features add their module here.
SUBCOMMANDS = ["build", "categories", "instances", "export_csv"]
OPTIONAL_SUBCOMMANDS = ["scenes", "images", "verify"]

PROG = "build_pcfractal.py"
EPILOG = """\
examples:
  %(prog)s build --preset tiny --out pcfractal_demo        # the whole pipeline, small
  %(prog)s categories --count 1000 --threshold 0.15 --seed 0 --out cats
  %(prog)s instances --categories cats --per-category 1000 --out insts
  %(prog)s export-csv cats --out cats_csv                   # the authors' CSV format
Every subcommand has its own --help. Same --seed, same bytes, whatever --workers.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Build PC-FractalDB: 3D fractal categories, instances and scenes, from formulas only.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pcfractal {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS + OPTIONAL_SUBCOMMANDS:
        try:
            mod = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if name in OPTIONAL_SUBCOMMANDS and e.name == f"{__name__}.{name}":
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the tool; return the exit code (0 ok, 2 bad input or failure)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except (CliError, ValueError, OSError, RuntimeError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
