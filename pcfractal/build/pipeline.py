"""``build``: the PC-FractalDB pipeline (categories -> instances -> scenes) as composed
stages, each in a sub-folder of ``OUT``, with the limits of the WHOLE plan checked before
the first stage writes anything. A config file replays any build to the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pcfractal import __version__
from pcfractal.core import keys
from pcfractal.io import atomic
from pcfractal.pointclouds.instances import InstanceSettings
from pcfractal.pointclouds.presets import PRESETS, preset

from .output import BuildFolder
from .plan import BuildError
from .settings import settings_from_dict, settings_to_dict
from .stage import CONFIG_FILE, RunOptions, Stage, plan_checks, print_plan, run_stage, summary
from .stages._inputs import load_categories
from .stages.categories import CategoriesSettings, CategoriesStage
from .stages.instances import InstancesSettings, InstancesStage
from .stages.scenes import ScenesSettings, ScenesStage

STAGES = ("categories", "instances", "scenes")


@dataclass(frozen=True)
class BuildSettings:
    """The whole pipeline; each field feeds the stages that use it."""

    preset: str = field(
        default="tiny",
        metadata={
            "help": "build size: tiny (demo), small, paper (PC-FractalDB-1k: 1,000 x 1,000 at 0.15, 10,000 scenes)",
            "choices": tuple(PRESETS),
        },
    )
    seed: int = field(default=0, metadata={"help": "the one seed every random draw derives from"})
    count: int | None = field(default=None, metadata={"help": "categories (default: the preset's)", "metavar": "N"})
    per_category: int | None = field(default=None, metadata={"help": "instances per category (default: the preset's)", "metavar": "M"})
    scenes: int | None = field(default=None, metadata={"help": "scenes (default: the preset's)", "metavar": "N"})
    threshold: float = field(default=CategoriesSettings.threshold, metadata={"help": "variance threshold of the category search"})
    stages: str = field(
        default=",".join(STAGES),
        metadata={"help": "the stages to run, in order, comma-separated (a later stage needs the earlier ones' output)"},
    )
    instance: InstanceSettings = field(default_factory=InstanceSettings)

    def stage_names(self) -> list[str]:
        names = [x.strip() for x in self.stages.split(",") if x.strip()]
        bad = [x for x in names if x not in STAGES]
        if bad or not names or len(set(names)) != len(names):
            raise ValueError(f"--stages takes a comma-separated subset of {','.join(STAGES)}, got {self.stages!r}")
        return [s for s in STAGES if s in names]

    def validate(self) -> "BuildSettings":
        keys.check_seed(self.seed)
        preset(self.preset)
        self.stage_names()
        self.instance.validate()
        return self


def make_stages(b: BuildSettings, out: Path) -> list[tuple[str, Stage]]:
    """The stage objects of a build (categories are read from ``out/categories`` once made)."""
    out = Path(out)
    cats = CategoriesSettings(count=b.count, preset=b.preset, seed=b.seed, threshold=b.threshold)
    n_cat = cats.validate().n
    inst = InstancesSettings(categories=out / "categories", per_category=b.per_category, preset=b.preset, seed=b.seed, instance=b.instance)
    scn = ScenesSettings(
        categories=out / "categories", count=b.scenes, preset=b.preset, seed=b.seed, per_category=b.per_category, instance=b.instance
    )
    stages = {"categories": CategoriesStage(cats), "instances": InstancesStage(inst), "scenes": ScenesStage(scn)}
    stages["instances"].planned_categories = n_cat
    stages["scenes"].planned_categories = n_cat
    return [(name, stages[name]) for name in b.validate().stage_names()]


def run_build(b: BuildSettings, out: str | Path, opts: RunOptions | None = None) -> int:
    """Run the pipeline into ``out``; every stage folder is a build of its own."""
    opts = opts or RunOptions()
    out = Path(out)
    stages = make_stages(b, out)
    identity = {k: v for k, v in settings_to_dict(b).items() if k != "stages"}  # running fewer stages is the same build
    top = BuildFolder(out, "build", identity, _owns_top, [])
    if opts.dry_run:
        _probe_categories(stages, out, b.seed)
    plans, workers, notes = plan_checks([s for _, s in stages], [top.path / n for n, _ in stages], opts, probe=opts.dry_run)
    if opts.dry_run:
        for (name, stage), plan in zip(stages, plans):
            print(f"== {name}")
            print_plan(stage, out / name, plan, workers, opts)
        print(
            f"total: {sum(p.files for p in plans):,} files, {sum(p.bytes for p in plans) / 2**30:,.2f} GiB; the free space was checked for all of it"
        )
        return 0
    if "categories" not in [n for n, _ in stages] and not (out / "categories").is_dir():
        raise BuildError(f"--stages without categories needs {out / 'categories'} from an earlier build")
    with top.open(opts.overwrite) as folder:
        ran = [n for n, _ in stages]
        done = ",".join(n for n in STAGES if n in ran or (folder.path / n / "manifest.json").is_file())
        config = {"pcfractal_config": 1, "pcfractal_version": __version__, "build": {**settings_to_dict(b), "stages": done}}
        atomic.write_json(folder.path / CONFIG_FILE, config)
        for name, stage in stages:
            opts.log.info(f"== {name}")
            if name != "categories":
                stage._cats = _loaded(stage, load_categories(out / "categories", at_least=2))
            run_stage(stage, out / name, _stage_opts(opts, out / name), checked=True)
        folder.append_journal([{"unit": "build", "files": {}, "result": [n for n, _ in stages]}])
    summary(f"build: done -> {out}", [(n, out / n) for n, _ in stages])
    return 0


def _probe_categories(stages, out: Path, seed: int) -> None:
    """For a dry run: the later stages are timed on the categories already in
    ``out/categories``, else on two quickly found ones (a note says which)."""
    if (out / "categories" / "manifest.json").is_file():
        loaded = load_categories(out / "categories", at_least=2)
        note = f"timed on: the categories in {out / 'categories'}"
    else:
        from pcfractal.pointclouds.category_file import CategorySet
        from pcfractal.pointclouds.search import SearchSettings, search_categories

        found = search_categories(2, seed, SearchSettings(threshold=0.05))
        loaded = (CategorySet([c.params for c in found.categories], seed), "probe")
        note = "timed on: 2 probe categories (threshold 0.05; the real ones come from the categories stage)"
    for name, stage in stages:
        if name != "categories":
            stage._cats = _loaded(stage, loaded)
            stage.probe_note = note


def _loaded(stage: Stage, loaded):
    cats, digest = loaded
    return (cats, digest) if isinstance(stage, InstancesStage) else (cats.systems, digest)


def _stage_opts(opts: RunOptions, folder: Path) -> RunOptions:
    # A stage of an --overwrite build replaces only its own folder's previous build; its
    # config names the categories as ../categories, so the whole build can move.
    return RunOptions(opts.workers, opts.ray, opts.ray_address, opts.overwrite, False, opts.log, config_base=folder)


def _owns_top(rel: str) -> bool:
    return rel == CONFIG_FILE or rel.split("/", 1)[0] in STAGES


def load_config(path: Path) -> dict:
    """A replayable config (``OUT/build_config.json`` of any build)."""
    try:
        cfg = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BuildError(f"--config {path}: cannot read it ({e})") from None
    if not isinstance(cfg, dict) or cfg.get("pcfractal_config") != 1 or not ("build" in cfg or "stages" in cfg):
        raise BuildError(f"--config {path}: not a pcfractal build config (the build_config.json a build writes)")
    return cfg


def replay(cfg: dict, out: Path, opts: RunOptions, base: Path | None = None) -> int:
    """Run a config again into ``out``: the same bytes as the build that wrote it (input
    paths are relative to ``base``, the config file's folder)."""
    from .stages import STAGE_TYPES

    try:
        if "build" in cfg:
            return run_build(settings_from_dict(BuildSettings, cfg["build"]), out, opts)
        for st in cfg["stages"]:
            settings_cls, stage_cls = STAGE_TYPES[st["stage"]]
            run_stage(stage_cls(settings_from_dict(settings_cls, st["settings"], base)), out, opts)
    except (KeyError, TypeError, ValueError) as e:
        raise BuildError(f"--config: not a valid pcfractal config ({type(e).__name__}: {e})") from None
    return 0
