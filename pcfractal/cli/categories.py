"""``categories``: search 3D IFS categories by the variance check."""

from pcfractal.build.stages import CategoriesSettings, CategoriesStage

from ._common import stage_command


def register(sub) -> None:
    stage_command(
        sub,
        "categories",
        CategoriesSettings,
        CategoriesStage,
        help="search fractal categories (the variance check)",
        description="Rejection-sample 3D IFS systems (the authors' uniform sampler) and keep those whose normalised\n"
        "10,000-point cloud has every per-axis variance above --threshold. Writes categories.json,\n"
        "gallery.png (labelled, depth shaded), stats.json, stats.md and manifest.json.",
        out_help="output folder",
        epilog="example: pcfractal categories --count 1000 --threshold 0.15 --seed 0 --out cats",
    )
