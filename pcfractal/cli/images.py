"""``images``: an image pre-training set (ExFractalDB, MV-FractalDB, FractalDB, RCDB).

Its flags are the ImagesSettings fields plus every generator's own Settings fields (one
group per --kind); a flag that does not belong to the chosen --kind is refused.
"""

from __future__ import annotations

import argparse
import dataclasses

from pcfractal.build import BuildError, run_stage
from pcfractal.build.stages import ImagesSettings, ImagesStage
from pcfractal.images import get_generator, list_generators

from ._common import add_run_options, run_options
from ._flags import add_field, add_settings, fields_of, given, settings_from

EPILOG = """\
layout of --out: train/{class}/{image}.png (give OUT/train to torchvision's ImageFolder,
timm or HuggingFace imagefolder: it holds class folders only), classes.json, gallery.png,
README.md (dataset card), images.json, manifest.json; --layout shards adds
shards/train-NNNNNN.tar (webdataset: keys {class}_{image}, fields png and cls).

examples:
  pcfractal images --kind rcdb --out rcdb_tiny
  pcfractal images --kind fractaldb --preset fractaldb-1k --out fractaldb1k
  pcfractal images --kind exfractaldb --categories cats --per-category 1000 --out exf
"""


def _generator_fields() -> dict[str, list]:
    """kind -> [(field, type)] of its Settings."""
    return {k: fields_of(get_generator(k).Settings) for k in list_generators()}


def register(sub) -> None:
    p = sub.add_parser(
        "images",
        help="image datasets: " + ", ".join(list_generators()) + " (PNG ImageFolder / webdataset shards)",
        description="Render an image pre-training dataset from formulas only.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_settings(p, ImagesSettings, title="what to make")
    kind = next(a for a in p._actions if a.dest == "kind")
    kind.choices = list_generators()  # the registry now, so a new generator module is a new --kind
    seen = {"--" + f.name.replace("_", "-") for f, _ in fields_of(ImagesSettings)}
    for kind, fields in _generator_fields().items():
        gen = get_generator(kind)
        g = p.add_argument_group(f"--kind {kind} ({gen.description or kind}; presets: {', '.join(gen.presets)})")
        for f, tp in fields:
            add_field(g, f, tp, seen=seen)
    add_run_options(p, "output folder (see the layout below)")
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        s = settings_from(ImagesSettings, args)
        fields = {f.name for f, _ in fields_of(get_generator(s.kind).Settings)}
        others = {f.name for fs in _generator_fields().values() for f, _ in fs} - fields
        wrong = sorted(n for n in others if given(args, n))
        if wrong:
            raise BuildError(f"--{wrong[0].replace('_', '-')} does not apply to --kind {s.kind} (see pcfractal images --help)")
        options = {n: (tuple(v) if isinstance(v, list) else v) for n in fields if given(args, n) for v in [getattr(args, n)]}
        stage = ImagesStage(dataclasses.replace(s, options=options))
    except ValueError as e:
        raise BuildError(str(e)) from None
    run_stage(stage, args.out, run_options(args))
    return 0
