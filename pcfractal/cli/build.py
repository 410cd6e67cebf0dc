"""``build``: the whole PC-FractalDB pipeline (categories -> instances -> scenes), or any
build again from its config file."""

from __future__ import annotations

import argparse
from pathlib import Path

from pcfractal.build import BuildError
from pcfractal.build.pipeline import BuildSettings, load_config, replay, run_build

from ._common import add_run_options, run_options
from ._flags import add_settings, settings_from

EPILOG = """\
examples:
  pcfractal build --preset tiny --out pcfractal_demo            # the demo, seconds
  pcfractal build --preset paper --out data/pcfractal           # PC-FractalDB-1k + 10,000 scenes
  pcfractal build --preset paper --out data/pcfractal --dry-run # plan every stage, write nothing
  pcfractal build --config data/pcfractal/build_config.json --out copy   # the same bytes again
"""


def register(sub) -> None:
    p = sub.add_parser(
        "build",
        help="the whole pipeline: categories, instances and scenes (or --config FILE)",
        description="Run every stage into sub-folders of --out (categories/, instances/, scenes/), after checking\n"
        "the free space, memory and workers for the WHOLE plan. Every build writes build_config.json;\n"
        "--config replays any build (a stage's or the pipeline's) to the same bytes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--config", metavar="FILE", help="replay the build_config.json of an earlier build (other 'what to make' flags are ignored)"
    )
    add_settings(p, BuildSettings, title="what to make")
    add_run_options(p, "output folder (gets categories/, instances/ and scenes/)")
    p.set_defaults(func=run)


def run(args) -> int:
    opts = run_options(args)
    if args.config:
        return replay(load_config(args.config), args.out, opts, Path(args.config).parent)
    try:
        settings = settings_from(BuildSettings, args).validate()
    except ValueError as e:
        raise BuildError(str(e)) from None
    return run_build(settings, args.out, opts)
