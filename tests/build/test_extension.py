"""A new image dataset is one registered module and a new scene format one writer class:
the CLI, the build engine, resume and verify pick them up with no other change."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from pcfractal.images import ClassSet, ImageGenerator, _registry, list_generators
from scene_builder.writers import _base as writers

from .conftest import run


@dataclass(frozen=True)
class StripesSettings:
    size: int = field(default=16, metadata={"help": "image side, pixels"})
    period: int = field(default=4, metadata={"help": "stripe period, pixels"})

    def validate(self):
        if self.size < 4 or self.period < 1:
            raise ValueError("size must be >= 4 and period >= 1")
        return self


class Stripes(ImageGenerator):
    name = "stripes-test"
    Settings = StripesSettings
    presets = {"tiny": {"categories": 3, "per_category": 2}}

    def make_classes(self, count, seed, settings, executor=None, progress=None):
        return ClassSet(self.name, [np.array([float(c)]) for c in range(count)], seed)

    def render(self, params, category, index, seed, settings):
        x = np.arange(settings.size)
        return (
            np.where(((x[None, :] + index + int(params[0])) // settings.period) % 2 == 0, 255, 0).astype(np.uint8).repeat(settings.size, 0)
        )


class CountWriter(writers.SceneWriter):
    name = "count-test"
    options = ()

    def owns(self, rel, count):
        return rel.endswith(".txt") and rel[:-4].isdigit() and int(rel[:-4]) < count

    def write_scene(self, w, scene):
        w.write_text(f"{scene.index:06d}.txt", f"{scene.num_objects}\n")
        return {"objects": int(scene.num_objects)}


@pytest.fixture
def registered():
    _registry.register(Stripes)
    writers.register(CountWriter)
    try:
        yield
    finally:
        _registry._GENERATORS.pop(Stripes.name, None)
        writers._WRITERS.pop(CountWriter.name, None)


def test_a_new_image_dataset_is_one_module(capsys, tmp_path, registered):
    assert Stripes.name in list_generators()
    out = tmp_path / "stripes"
    code, _, err = run(capsys, "images", "--kind", Stripes.name, "--period", "2", "--workers", "1", "--out", out)
    assert code == 0, err
    assert sorted(p.name for p in (out / "train").iterdir()) == ["00000", "00001", "00002"]
    code, _, err = run(capsys, "images", "--kind", "rcdb", "--period", "2", "--out", tmp_path / "x")
    assert code == 2 and "--period does not apply to --kind rcdb" in err
    assert run(capsys, "verify", out)[0] == 0


def test_a_new_scene_format_is_one_writer(capsys, refs, tmp_path, registered):
    out = tmp_path / "counts"
    code, _, err = run(
        capsys,
        "scenes",
        "--categories",
        refs["categories"],
        "--format",
        CountWriter.name,
        "--count",
        "3",
        "--per-category",
        "2",
        "--points",
        "100",
        "--base-objects",
        "2",
        "--extra-objects",
        "0",
        "--workers",
        "1",
        "--out",
        out,
    )
    assert code == 0, err
    assert [int((out / f"{i:06d}.txt").read_text()) for i in range(3)] == [2, 2, 2]
    assert run(capsys, "verify", out)[0] == 0
