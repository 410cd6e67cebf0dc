"""The ``images`` stage: an image pre-training set (ExFractalDB, MV-FractalDB, FractalDB,
RCDB: any registered generator) as PNGs that image loaders read with no extra arguments.

Layout of ``OUT``::

    OUT/train/{class}/{image}.png     the ImageFolder tree: its root holds class folders only
                                      (each with a SHA256SUMS, ``sha256sum -c`` works)
    OUT/shards/train-NNNNNN.tar       --layout shards|both: webdataset shards (keys
    OUT/shards/_info.json             {class}_{image}, fields png and cls) + timm's split info
    OUT/classes.json                  the categories every image is rendered from
    OUT/gallery.png  OUT/README.md    labelled gallery; dataset card (HuggingFace YAML header)
    OUT/images.json  OUT/manifest.json

Work units: one class folder, or one shard (its samples mix the classes). The class set
comes first (a search, or ``--categories``), journaled like a unit: a damaged
``classes.json`` is made again, never reused.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pcfractal import __version__
from pcfractal.core import keys
from pcfractal.images import ClassSet, get_generator, list_generators
from pcfractal.images._base import settings_dict
from pcfractal.images.gallery import image_gallery_png
from pcfractal.io import card, png, shards

from ..plan import BuildError, Plan, array_bytes
from ..stage import RunContext, Stage, UnitWriter

TRAIN_DIR = "train"
SHARD_DIR = "shards"
SHARD_PATTERN = "train-{:06d}.tar"
TIMM_INFO = "_info.json"
CLASSES_FILE = "classes.json"
GALLERY_FILE = "gallery.png"
SUMMARY_FILE = "images.json"
CARD_FILE = "README.md"
LAYOUTS = ("folder", "shards", "both")
_SHARD = re.compile(r"^shards/train-(\d{6})\.tar$")


def class_name(category: int) -> str:
    return f"{category:05d}"


@dataclass(frozen=True)
class ImagesSettings:
    """An image build: the generator (``kind``), its size, the writer options, and
    ``options``: overrides of the generator's own Settings fields (validated by it)."""

    kind: str = field(default=None, metadata={"help": "the dataset: a registered image generator (the groups below)", "required": True})
    preset: str = field(
        default="tiny",
        metadata={"help": "tiny (each kind), or a paper size such as exfractaldb-1k, fractaldb-1k, rcdb-1k (see --help of --kind)"},
    )
    count: int | None = field(
        default=None, metadata={"help": "classes (default: the preset's, or every category of --categories)", "metavar": "N"}
    )
    per_category: int | None = field(
        default=None, metadata={"help": "images per class (default: the preset's; 1,000 for the paper sizes)", "metavar": "M"}
    )
    seed: int = field(default=0, metadata={"help": "the one seed every random draw derives from"})
    categories: Path | None = field(
        default=None,
        metadata={
            "help": "categories to render instead of a search: a category folder/file (exfractaldb, mvfractaldb) or the authors' CSV folder (fractaldb)"
        },
    )
    png_encoder: str = field(
        default=png.DEFAULT_ENCODER,
        metadata={
            "help": "deflate of the PNGs: isal (fastest) or zlib (smallest at high levels; see docs/IMAGES.md)",
            "choices": tuple(png.ENCODERS),
        },
    )
    png_level: int = field(default=png.DEFAULT_LEVEL, metadata={"help": "compression level: isal 0-3, zlib 0-9"})
    gallery: int = field(default=16, metadata={"help": "classes shown in gallery.png (0 = none)"})
    layout: str = field(
        default="folder",
        metadata={"help": "folder: OUT/train/{class}/*.png; shards: webdataset tars in OUT/shards/; both", "choices": LAYOUTS},
    )
    shard_size: int = field(default=1000, metadata={"help": "images per tar shard"})
    options: dict = field(default_factory=dict, metadata={"cli": False})

    def validate(self) -> "ImagesSettings":
        keys.check_seed(self.seed)
        if self.kind not in list_generators():
            raise ValueError(f"--kind must be one of {', '.join(list_generators())}, got {self.kind!r}")
        png.check_level(self.png_level, self.png_encoder)
        for name in ("count", "per_category"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {v}")
        if self.gallery < 0 or self.shard_size < 1:
            raise ValueError(f"--gallery must be >= 0 and --shard-size >= 1, got {self.gallery} and {self.shard_size}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"--layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        return self


class ImagesStage(Stage):
    kind = "images"
    durable_units = False  # thousands of small files: one syncfs per unit instead of an fsync each

    def __init__(self, settings: ImagesSettings):
        self.s = settings.validate()
        self.gen = get_generator(self.s.kind)
        try:
            self.pre = self.gen.preset(self.s.preset)
            self.gs = self.gen.settings(self.s.preset, **self.s.options)
        except ValueError as e:
            raise BuildError(str(e)) from None
        self.per_cat = self.s.per_category or self.pre["per_category"]
        self.count = self.s.count or self.pre["categories"]
        self.classes: ClassSet | None = None
        if self.s.categories is not None:
            self.classes = self._imported()
            self.imported_digest = _digest(self.classes)
            if self.s.count is not None and self.s.count > len(self.classes):
                raise BuildError(
                    f"--categories {self.s.categories} holds {len(self.classes)} categories, fewer than --count {self.s.count}"
                )
            self.count = self.s.count or len(self.classes)

    def _imported(self) -> ClassSet:
        from ._inputs import load_categories

        path = Path(self.s.categories)
        if path.is_dir() and not (path / "categories.json").is_file() and not any(path.glob("*.csv")):
            raise BuildError(f"--categories {path}: no categories.json and no CSV files there")
        if (path / "categories.json").is_file() or path.suffix == ".json":
            load_categories(path)  # checks the file against its build's manifest
        try:
            return self.gen.classes_from_path(path, self.s.count, self.gs)
        except (ValueError, OSError) as e:
            raise BuildError(f"--categories: {e}") from None

    def inputs(self):
        return [Path(self.s.categories)] if self.s.categories is not None else []

    def settings_dict(self) -> dict:
        d = {
            "kind": self.s.kind,
            "preset": self.s.preset,
            "seed": self.s.seed,
            "count": self.count,
            "per_category": self.per_cat,
            "png_level": self.s.png_level,
            "png_encoder": self.s.png_encoder,
            "settings": settings_dict(self.gs),
        }
        if self.s.categories is not None:
            d["categories_sha256"] = self.imported_digest
        else:
            d["categories"] = "search" if self.s.kind != "rcdb" else "drawn"
        if self.s.layout != "folder":
            d.update(layout=self.s.layout, shard_size=self.s.shard_size)
        if self.s.gallery:
            d["gallery"] = self.s.gallery
        return d

    @property
    def n_shards(self) -> int:
        return -(-self.count * self.per_cat // self.s.shard_size)

    def owns(self, rel: str) -> bool:
        if rel in (CLASSES_FILE, GALLERY_FILE, SUMMARY_FILE, CARD_FILE):
            return True
        parts = rel.split("/")
        if self.s.layout != "shards" and len(parts) == 3 and parts[0] == TRAIN_DIR and parts[1].isdigit() and len(parts[1]) == 5:
            c = int(parts[1])
            return c < self.count and (parts[2] == "SHA256SUMS" or parts[2] in self._names(c))
        if self.s.layout != "folder":
            m = _SHARD.match(rel)
            return rel == f"{SHARD_DIR}/{TIMM_INFO}" or bool(m and int(m.group(1)) < self.n_shards)
        return False

    def _names(self, c: int) -> set[str]:
        cached = getattr(self, "_name_cache", None)  # folders are walked one at a time
        if cached is None or cached[0] != c:
            cached = self._name_cache = (c, {self.gen.image_name(c, i) for i in range(self.per_cat)})
        return cached[1]

    def plan(self, probe: bool = False) -> Plan:
        return plan_images(self, probe)

    # -- the class set, then the units --------------------------------------------------------
    def prepare(self, ctx: RunContext) -> None:
        ctx.serial_unit("classes", lambda w: self._make_classes(w, ctx))
        try:
            self.classes = ClassSet.load(ctx.root / CLASSES_FILE)
        except ValueError as e:  # the journal vouched for these bytes: this is a bug, said plainly
            raise BuildError(str(e)) from None

    def _make_classes(self, w: UnitWriter, ctx: RunContext) -> dict:
        if self.classes is None:
            with ctx.log.progress(self.count, f"{self.s.kind} categories", "cat") as bar:
                try:
                    classes = self.gen.make_classes(
                        self.count, self.s.seed, self.gs, executor=ctx.executor, progress=lambda n: bar.update(n - bar.n)
                    )
                except RuntimeError as e:
                    raise BuildError(str(e)) from None
        else:
            classes = self.classes
        w.write_json(CLASSES_FILE, classes.to_dict())
        return {"classes": len(classes)}

    def units(self):
        if self.s.layout != "shards":
            for c in range(self.count):
                yield f"class-{c:05d}", ("class", c)
        if self.s.layout != "folder":
            for k in range(self.n_shards):
                yield f"shard-{k:06d}", ("shard", k)

    def run_unit(self, w: UnitWriter, what: str, k: int) -> dict:
        if what == "class":
            folder = f"{TRAIN_DIR}/{class_name(k)}"
            total = 0
            for i, image in self.gen.render_many(self.classes.params[k], k, range(self.per_cat), self.s.seed, self.gs):
                data = png.encode(image, self.s.png_level, encoder=self.s.png_encoder)
                w.write(f"{folder}/{self.gen.image_name(k, i)}", data)
                total += len(data)
            w.sync()
            w.seal_folder(folder)
            return {"bytes": total}
        rel = f"{SHARD_DIR}/{SHARD_PATTERN.format(k)}"
        info = shards.write_shard(w.path(rel), self._shard_samples(k))
        w.record_file(rel, info.size, info.sha256, {"samples": info.samples, "members": info.members})
        return {"bytes": info.size}

    def _shard_samples(self, k: int):
        for c, i in shard_samples(self.count, self.per_cat, k, self.s.shard_size):
            data = png.encode(
                self.gen.render(self.classes.params[c], c, i, self.s.seed, self.gs), self.s.png_level, encoder=self.s.png_encoder
            )
            yield self.gen.image_name(c, i).rsplit(".", 1)[0], {"png": data, "cls": str(c).encode()}

    def finish(self, ctx: RunContext, results: list) -> dict:
        s, w = self.s, ctx.writer
        names = [class_name(c) for c in range(self.count)]
        if s.gallery:
            w.write(
                GALLERY_FILE,
                image_gallery_png(
                    self.gen,
                    self.classes,
                    s.seed,
                    self.gs,
                    max_classes=min(s.gallery, self.count),
                    per_class=min(4, self.per_cat),
                    class_name=class_name,
                ),
            )
        info = {
            **self.settings_dict(),
            "classes": self.count,
            "images": self.count * self.per_cat,
            "class_names": names,
            "image_size": getattr(self.gs, "size", None),
            "category_search": self.classes.info,
            "pcfractal_version": __version__,
        }
        if s.layout != "shards":
            info["folder"] = f"{TRAIN_DIR}/{{class}}/{self.gen.image_name(0, 0).replace('00000_00000', '{class}_{image}')}"
        if s.layout != "folder":
            pattern = f"{SHARD_DIR}/train-{{000000..{self.n_shards - 1:06d}}}.tar"
            info.update(shards=self.n_shards, shard_size=s.shard_size, shard_pattern=pattern)
            w.write_json(f"{SHARD_DIR}/{TIMM_INFO}", timm_info(s.kind, self.count * self.per_cat, s.shard_size, self.count))
        w.write_json(SUMMARY_FILE, info)
        w.write_text(
            CARD_FILE,
            card.dataset_card(
                kind=s.kind,
                class_names=names,
                images_per_class=self.per_cat,
                seed=s.seed,
                settings=self.settings_dict(),
                command=f"pcfractal build --config {Path('build_config.json')}",
                layout=s.layout,
                image_size=getattr(self.gs, "size", None),
            ),
        )
        self.info = info
        return {"classes": self.count, "images": self.count * self.per_cat}

    def summary(self, ctx, results):
        s = self.s
        secs = time.perf_counter() - ctx.t0
        where = []
        if s.layout != "shards":
            where.append(f"{TRAIN_DIR}/{{class}}/*.png (give {ctx.folder.given / TRAIN_DIR} to ImageFolder)")
        if s.layout != "folder":
            where.append(self.info["shard_pattern"])
        return f"images ({s.kind}): {self.count} classes x {self.per_cat} images -> {ctx.folder.given}", [
            ("image", f"{getattr(self.gs, 'size', '?')} px PNG ({s.png_encoder} level {s.png_level})"),
            ("throughput", f"{self.count * self.per_cat / max(secs, 1e-9):,.0f} images/s (resumed units included)"),
            ("files", ", ".join(where + [CLASSES_FILE, SUMMARY_FILE, CARD_FILE] + ([GALLERY_FILE] if s.gallery else []))),
        ]


def _digest(classes: ClassSet) -> str:
    import hashlib

    return hashlib.sha256(b"".join(np.asarray(p, dtype=np.float64).tobytes() for p in classes.params)).hexdigest()


def shard_samples(count: int, per_category: int, shard: int, shard_size: int) -> list[tuple[int, int]]:
    """(category, image) of a shard's samples. Position p of the whole set is image
    p // count of category p % count, so every shard mixes the classes; shard s holds
    positions s * shard_size onwards. A function of the indices only."""
    start = shard * shard_size
    return [(p % count, p // count) for p in range(start, min(start + shard_size, count * per_category))]


def timm_info(kind: str, samples: int, shard_size: int, n_classes: int) -> dict:
    """timm's webdataset reader reads the splits from ``_info.json`` beside the shards: per
    split, its shard names and their sample counts."""
    n_shards = -(-samples // shard_size)
    lengths = [min(shard_size, samples - k * shard_size) for k in range(n_shards)]
    return {
        "name": kind,
        "num_classes": n_classes,
        "splits": {
            "train": {
                "name": "train",
                "num_samples": samples,
                "filenames": [SHARD_PATTERN.format(k) for k in range(n_shards)],
                "shard_lengths": lengths,
            }
        },
    }


def plan_images(stage: ImagesStage, probe: bool) -> Plan:
    """Files and bytes from the mean PNG size of images rendered here (``probe``), or a
    floor from the image size; memory per unit from the generator's buffers."""
    s, gs = stage.s, stage.gs
    n = stage.count * stage.per_cat
    size = int(getattr(gs, "size", 256))
    n_points = int(getattr(gs, "n_points", 0))
    unit_bytes = array_bytes(size, size, itemsize=3 * 8 + 16) + array_bytes(n_points, 3, itemsize=8 * 3)
    pngb, unit_seconds, notes = size * size // 16, None, []
    if probe:
        classes = stage.classes or stage.gen.make_classes(1, s.seed, gs)
        stage.gen.render(classes.params[0], 0, 0, s.seed, gs)  # load the compiled kernels
        t = time.perf_counter()
        sizes = [len(png.encode(stage.gen.render(classes.params[0], 0, i, s.seed, gs), s.png_level, encoder=s.png_encoder)) for i in (1, 2)]
        per_image = (time.perf_counter() - t) / 2
        pngb = sum(sizes) // 2
        unit_seconds = per_image * stage.per_cat * (1.1 if s.layout != "both" else 2.2)
        notes.append(f"probe: {per_image * 1e3:.1f} ms and {pngb:,} bytes per image on one core (the category search is extra)")
    files, n_bytes = 6, 40_000 + 300 * stage.count
    if s.layout != "shards":
        files += n + stage.count
        n_bytes += n * (pngb + 80)
    if s.layout != "folder":
        files += stage.n_shards + 1
        n_bytes += n * (pngb + 2048) + stage.n_shards * 10_240
        notes.append(f"shards: {stage.n_shards:,} x {s.shard_size:,} images in {SHARD_DIR}/")
    units = (stage.count if s.layout != "shards" else 0) + (stage.n_shards if s.layout != "folder" else 0)
    return Plan(
        files=files,
        bytes=n_bytes,
        units=units,
        unit_seconds=unit_seconds,
        unit_bytes=unit_bytes,
        serial_seconds=2.0,
        notes=notes,
        memory_flag="--size/--n-points",
    )
