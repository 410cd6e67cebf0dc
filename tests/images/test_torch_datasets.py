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
