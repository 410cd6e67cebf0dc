"""``scenes``: fractal scenes with exact oriented boxes, as an mmdetection3d dataset."""

from pcfractal.build.stages import ScenesSettings, ScenesStage

from ._common import stage_command


def register(sub) -> None:
    stage_command(
        sub,
        "scenes",
        ScenesSettings,
        ScenesStage,
        help="fractal scenes with 3D boxes (mmdetection3d format)",
        description="Random rooms of fractal objects (PC-FractalDB instances made on the fly) with exact, tight\n"
        "oriented 3D boxes, written as mmdetection3d 1.x reads ScanNet: points/*.bin (float32 xyz),\n"
        "instance_mask/ and semantic_mask/*.bin (int64), PREFIX_infos_{train,val}.pkl.",
        out_help="output folder for the scenes",
        epilog="example: pcfractal scenes --categories cats --count 10000 --out scenes",
    )
