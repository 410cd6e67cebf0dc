"""A small image output made by the real command, for the loader tests:

    pcfractal images --kind rcdb --preset tiny --count 3 --per-category 4 --size 32 --layout L

which writes (PCFRACTALDB images layout)

    OUT/README.md  classes.json  gallery.png  images.json  manifest.json  build_config.json
    OUT/train/{class}/{class}_{image}.png          (layout folder or both)
    OUT/shards/train-NNNNNN.tar + _info.json       (layout shards or both)
"""

from __future__ import annotations

from pathlib import Path

from pcfractal.cli import main

ROOT = Path(__file__).resolve().parents[2]
LOADERS_PYTHON = ROOT / ".venv-loaders" / "bin" / "python"

KIND, COUNT, PER_CLASS, SIZE, SEED, SHARD_SIZE = "rcdb", 3, 4, 32, 0, 5


def make_image_output(out: Path, layout: str = "both") -> tuple[Path, list[str]]:
    """Build the output with ``pcfractal images``; return it and the class names in label order."""
    code = main(
        [
            "images",
            "--kind",
            KIND,
            "--preset",
            "tiny",
            "--count",
            str(COUNT),
            "--per-category",
            str(PER_CLASS),
            "--size",
            str(SIZE),
            "--seed",
            str(SEED),
            "--workers",
            "1",
            "--layout",
            layout,
            "--shard-size",
            str(SHARD_SIZE),
            "--out",
            str(out),
        ]
    )
    assert code == 0, f"pcfractal images exited with {code}"
    return out, [f"{c:05d}" for c in range(COUNT)]
