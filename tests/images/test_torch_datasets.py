"""On-the-fly torch Datasets render what the builds write."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from pcfractal.images import get_generator
from pcfractal.pointclouds.instances import InstanceSettings, make_instance
from pcfractal.torch_datasets import FractalImageDataset, PCFractalDataset


def test_image_dataset_matches_generator_and_loads_in_workers():
    ds = FractalImageDataset.from_preset("rcdb", "tiny", seed=2, count=3, per_category=4, size=32)
    assert len(ds) == 12
    img, label = ds[6]
    assert img.shape == (1, 32, 32) and img.dtype == torch.uint8 and label == 1
    gen = get_generator("rcdb")
    np.testing.assert_array_equal(img[0].numpy(), gen.render(ds.classes.params[1], 1, 2, 2, ds.settings))
    batches = list(DataLoader(ds, batch_size=4, num_workers=2))
    stacked = torch.cat([b[0] for b in batches])
    assert stacked.shape == (12, 1, 32, 32)
    assert torch.equal(stacked[6], img)
    assert torch.cat([b[1] for b in batches]).tolist() == [0] * 4 + [1] * 4 + [2] * 4


def test_pcfractal_dataset_matches_make_instance(tiny_systems):
    s = InstanceSettings(n_points=500)
    ds = PCFractalDataset(tiny_systems, per_category=3, seed=4, settings=s)
    assert len(ds) == len(tiny_systems) * 3
    pts, label = ds[4]
    assert pts.shape == (500, 3) and pts.dtype == torch.float32 and label == 1
    np.testing.assert_array_equal(pts.numpy(), make_instance(tiny_systems, 1, 1, 4, s).points)


def test_multiview_dataset_on_the_fly_and_from_a_folder(tmp_path):
    from pcfractal.images import ClassSet
    from pcfractal.torch_datasets import MultiViewDataset

    gen = get_generator("mvfractaldb")
    s = gen.settings(size=32, n_points=2000)
    system = np.array(
        [
            [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0],
            [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0.5, 0.5, 0.5],
            [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, -0.5, 0.5, 0],
        ]
    )
    classes = ClassSet("mvfractaldb", [system, system * 0.9], 0)
    ds = MultiViewDataset(classes, models_per_category=2, seed=1, settings=s)
    assert len(ds) == 4
    views, label = ds[3]
    assert views.shape == (12, 1, 32, 32) and views.dtype == torch.uint8 and label == 1
    for v in range(12):  # model 1 of category 1 = images 12..23
        np.testing.assert_array_equal(views[v, 0].numpy(), gen.render(system * 0.9, 1, 12 + v, 1, s))
    # the same views written with the generator's file names, read back grouped
    from PIL import Image

    for c in range(2):
        (tmp_path / f"{c:05d}").mkdir()
        for i, img in gen.render_many(classes.params[c], c, range(24), 1, s):
            Image.fromarray(img).save(tmp_path / f"{c:05d}" / gen.image_name(c, i))
    folder = MultiViewDataset.from_folder(tmp_path)
    assert len(folder) == 4
    fv, fl = folder[3]
    assert fl == 1 and torch.equal(fv, views)
    (tmp_path / "00001" / gen.image_name(1, 23)).unlink()
    import pytest

    with pytest.raises(ValueError, match="model 1 has views"):
        MultiViewDataset.from_folder(tmp_path)
