"""Golden outputs: a change of what a seed produces must be a deliberate decision.

If one of these fails after an intended change (of the layout draw order, the fitting, the
instances or the chaos game), update the hash in the same commit and say so in its message.
"""

from __future__ import annotations

import hashlib

import numpy as np

from pcfractal.core import keys
from scene_builder import SceneSettings, make_scene, sample_layout

# Two hand-written contractive systems: no dependence on the category search.
SYSTEMS = [
    np.array(
        [
            [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0.5, 0, 0],
            [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0.5, 0],
            [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0.5],
            [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0],
        ]
    ),
    np.array([[0.6, 0.1, 0, 0, 0.5, 0, 0, 0, 0.4, 0.3, 0, 0], [0.4, 0, 0, 0.2, 0.5, 0, 0, 0, 0.6, -0.3, 0.2, 0.1]]),
]


def test_layout_golden():
    boxes, wanted = sample_layout(keys.generator(0, "scene", 0))
    assert wanted == 16 and len(boxes) == 16
    np.testing.assert_allclose(boxes[0], [7.04725006, 1.96611615, 0.44108271, 0.80296896, 0.87613646, 0.88216543, -0.7188854], atol=1e-8)
    assert hashlib.sha256(boxes.tobytes()).hexdigest() == "c6e8be571e2bec88602f78ad8c284fddee4d2a3d9525eae1ba8e21791c571f68"


def test_scene_golden():
    s = make_scene(SYSTEMS, 1, 0, SceneSettings(base_objects=3, extra_objects_mean=1, instances_per_category=5))
    assert s.num_objects == 4
    digest = hashlib.sha256(s.points.tobytes() + s.semantic_mask.tobytes() + s.boxes.tobytes()).hexdigest()
    assert digest == "147c6e7dbd7c3ea8cffd724e2ee00f6a3cffcfe103a5c319b441293409a3cb2e"
