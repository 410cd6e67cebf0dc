"""``instances``: PC-FractalDB instances of every category (FractalNoiseMix)."""

from pcfractal.build.stages import InstancesSettings, InstancesStage

from ._common import stage_command


def register(sub) -> None:
    stage_command(
        sub,
        "instances",
        InstancesSettings,
        InstancesStage,
        help="make instances of every category (fluctuation + FractalNoiseMix)",
        description="For each category, --per-category instances: a fluctuated copy of the category (weight table)\n"
        "with its own random stream, mixed with noise points from another category. Writes\n"
        "{c:06d}.npy (M, points, 3), {c:06d}.info.npy (M, 3) int32, instances.json, manifest.json.",
        out_help="output folder for the instance arrays",
        epilog="example: pcfractal instances --categories cats --per-category 1000 --out insts",
    )
