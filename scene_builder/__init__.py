"""Fractal scenes for 3D detection pre-training (PCFRACTALDB.md, "3D scenes").

The pure API (no disk; a torch or mmengine dataset can call it per item):

>>> from pcfractal.pointclouds.category_file import CategorySet
>>> from scene_builder import SceneSettings, make_scene
>>> # systems = CategorySet.load("build/categories").systems
>>> # scene = make_scene(systems, index=0, seed=0)          # Scene: points, masks, boxes, labels

Writers translate a ``Scene`` into one format each: ``scene_builder.writers.mmdet3d``
(info .pkl + .bin files, as mmdetection3d 1.x reads ScanNet) and
``scene_builder.writers.mesh`` (PLY / GLB with the boxes, through trimesh).
``scene_builder.viewer`` shows a scene in Open3D or renders a screenshot.
"""

from pcfractal.pointclouds.instances import InstanceSettings

from .compose import LABEL_MODES, Scene, ScenePlan, SceneSettings, class_names, fit_into_box, make_scene, plan_scene, seg_label_mapping
from .layout import BOX_EDGES, box_corners, overlap_violations, sample_layout

__all__ = [
    "BOX_EDGES",
    "InstanceSettings",
    "LABEL_MODES",
    "Scene",
    "ScenePlan",
    "SceneSettings",
    "box_corners",
    "class_names",
    "fit_into_box",
    "make_scene",
    "overlap_violations",
    "plan_scene",
    "sample_layout",
    "seg_label_mapping",
]
