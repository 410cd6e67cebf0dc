"""Pieces every subcommand shares: the run options (--out, --workers, --overwrite, --ray,
--dry-run), one-line errors, and the glue from parsed flags to ``run_stage``."""

from __future__ import annotations

import argparse
from pathlib import Path

from pcfractal.build import BuildError, Log, RunOptions, run_stage
from pcfractal.build.progress import NORMAL, QUIET, VERBOSE

from ._flags import add_settings, settings_from

CliError = BuildError  # what subcommands raise for a bad input: one line, exit 2


def add_run_options(p: argparse.ArgumentParser, out_help: str, out_required: bool = True) -> None:
    """--out, --workers, --overwrite, --ray, --ray-address, --dry-run: how to run (never what
    to make: the output bytes do not depend on them)."""
    g = p.add_argument_group("how to run (the output's bytes do not depend on these)")
    g.add_argument("--out", type=Path, required=out_required, help=out_help)
    g.add_argument(
        "--workers", type=int, default=0, help="worker processes; 0 = all cores (default), capped at the cores and at what fits in memory"
    )
    g.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a different pcfractal build in --out (only a folder holding nothing but a pcfractal build)",
    )
    g.add_argument(
        "--ray", action="store_true", help="run the work units on a local Ray started for this build (pip install 'pcfractal[ray]')"
    )
    g.add_argument(
        "--ray-address",
        metavar="A",
        default=None,
        help="run on an existing Ray cluster: 'auto', 'HOST:6379' or 'ray://HOST:10001' (--out must be shared by all nodes)",
    )
    g.add_argument("--dry-run", action="store_true", help="print the plan (files, size, memory, time), check the limits, write nothing")
    g.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="print errors only")
    g.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print plans, notes and the traceback of an unexpected error",
    )


def run_options(args) -> RunOptions:
    return RunOptions(args.workers, args.ray, args.ray_address, args.overwrite, args.dry_run, args.log)


def log_from(args) -> Log:
    level = QUIET if getattr(args, "quiet", False) else VERBOSE if getattr(args, "verbose", False) else NORMAL
    return Log(level=level)


def stage_command(sub, name: str, settings_cls, stage_cls, help: str, description: str, out_help: str, epilog: str | None = None):
    """A subcommand that builds one stage: flags from ``settings_cls``, then ``run_stage``."""
    p = sub.add_parser(name, help=help, description=description, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_settings(p, settings_cls, title=f"what to make (defaults in {settings_cls.__name__})")
    add_run_options(p, out_help)

    def run(args) -> int:
        try:
            stage = stage_cls(settings_from(settings_cls, args))
        except ValueError as e:
            raise BuildError(str(e)) from None
        run_stage(stage, args.out, run_options(args))
        return 0

    p.set_defaults(func=run)
    return p
