"""``pcfractal``: one command-line tool, one module per subcommand.

Each subcommand module defines ``register(subparsers)``, which adds its parser (flags
built from the stage's Settings dataclass) and sets ``func`` to a ``run(args) -> int``.
``main(argv)`` is importable and testable in-process; it never lets a traceback reach the
user: bad input is one line and exit 2 (``--verbose`` shows the traceback of a bug).
"""

from __future__ import annotations

import argparse
import sys
import traceback

from pcfractal import __version__
from pcfractal.build import BuildError

from . import build, categories, export_csv, images, instances, scenes, verify, view
from ._common import log_from

PROG = "pcfractal"
SUBCOMMANDS = (build, categories, instances, scenes, images, export_csv, verify, view)  # --help order
EPILOG = """\
examples:
  pcfractal build --preset tiny --out pcfractal_demo          # the whole pipeline, small
  pcfractal categories --count 1000 --threshold 0.15 --out cats
  pcfractal instances --categories cats --per-category 1000 --out insts
  pcfractal scenes --categories cats --count 10000 --out scenes
  pcfractal images --kind rcdb --out rcdb                     # also exfractaldb, mvfractaldb, fractaldb
  pcfractal export-csv --categories cats --out cats_csv       # the authors' CSV format
  pcfractal verify pcfractal_demo                             # recheck every file's sha256
  pcfractal view scenes --index 0 --screenshot s.png
Every subcommand has its own --help. Same --seed, same bytes, whatever --workers; running
the same command again resumes an interrupted build and repairs a damaged one.
"""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the message and where to read the options."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Formula-driven pre-training data: PC-FractalDB (3D fractal categories, instances, scenes with boxes) "
        "and the image sets ExFractalDB, MV-FractalDB, FractalDB and RCDB.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pcfractal {__version__}")
    loud = parser.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    loud.add_argument("-v", "--verbose", action="store_true", help="print plans, notes and the traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    for mod in SUBCOMMANDS:
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the tool; return the exit code (0 ok, 1 verify found problems, 2 bad input or
    a failed build, 130 interrupted)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, --version, or a one-line argparse error
        return int(e.code or 0) if not isinstance(e.code, str) else 2
    args.log = log_from(args)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"{PROG}: error: out of memory; use fewer --workers or a smaller size (--dry-run shows the memory per unit)", file=sys.stderr)
        return 2
    except (BuildError, ValueError, OSError, RuntimeError, ImportError) as e:
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"{PROG} {args.command}: error: {text}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return 2
    except Exception as e:  # a bug: one line, the traceback on request
        print(
            f"{PROG} {args.command}: internal error: {type(e).__name__}: {e} (run with --verbose for the traceback and report it)",
            file=sys.stderr,
        )
        if args.verbose:
            traceback.print_exc()
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
