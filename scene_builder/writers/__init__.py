"""One module per output format, each translating ``scene_builder.Scene``:
``mmdet3d`` (mmdetection3d 1.x info files and .bin arrays) and ``mesh`` (PLY / GLB via trimesh)."""
