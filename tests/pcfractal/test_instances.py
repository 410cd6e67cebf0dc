import numpy as np
import pytest
from reference import reference_chaos, reference_normalize

from pcfractal.core import ifs, keys
from pcfractal.pointclouds.instances import InstanceSettings, make_category_instances, make_instance


def span(points):
    return float(points.max() - points.min())


def test_defaults_are_the_published_data_rules():
    s = InstanceSettings()
    assert s.probabilities == "keep" and s.noise_placement == "centred" and s.n_points == 4000 and s.ratio == 0.8


@pytest.mark.parametrize("probabilities", ["keep", "recompute"])
def test_split_count_and_separate_normalisation(tiny_systems, probabilities):
    s = InstanceSettings(probabilities=probabilities)  # noise_placement: the default, "centred"
    inst = make_instance(tiny_systems, 2, 5, seed=0, settings=s)
    assert inst.points.shape == (4000, 3) and inst.points.dtype == np.float32
    assert s.n_main == 3200
    assert inst.category == 2 and inst.attempts == 0
    # Rebuild it independently from the documented stream: noise category, then the main
    # system fluctuated by weight row (5 mod 145), 3,200 points, its maps picked with the
    # category's own p (keep, the default: |det| of the unfluctuated maps) or with p of the
    # fluctuated maps (recompute); then 800 noise points; each part normalised and centred on
    # its own ("centred"), concatenated, re-centred.
    g = keys.generator(0, "instance", 2, 5)
    k = int(g.integers(len(tiny_systems) - 1))
    noise_cat = k + 1 if k >= 2 else k
    fluctuated = tiny_systems[2] * ifs.weight_table(145)[5]
    if probabilities == "keep":
        dets = np.abs(np.linalg.det(tiny_systems[2][:, :9].reshape(-1, 3, 3)))
        main = reference_normalize(reference_chaos(fluctuated, 3200, g, dets / dets.sum()))
    else:
        main = reference_normalize(reference_chaos(fluctuated, 3200, g))
    noise = reference_normalize(reference_chaos(tiny_systems[noise_cat], 800, g))
    both = np.concatenate([main, noise])
    both -= both.mean(axis=0)
    assert inst.noise_category == noise_cat
    np.testing.assert_allclose(inst.points, both, atol=2e-6)


def test_keep_and_recompute_differ(tiny_systems):
    """The probabilities rule matters for a fluctuated row (row 5 is not the identity)."""
    a = make_instance(tiny_systems, 2, 5, seed=0, settings=InstanceSettings(probabilities="keep"))
    b = make_instance(tiny_systems, 2, 5, seed=0, settings=InstanceSettings(probabilities="recompute"))
    assert not np.allclose(a.points[:3200], b.points[:3200], atol=1e-3)


def test_noise_never_from_the_main_category(tiny_systems):
    seen = set()
    for i in range(60):
        inst = make_instance(tiny_systems, 0, i, seed=1)
        assert inst.noise_category != 0
        seen.add(inst.noise_category)
    assert seen == set(range(1, len(tiny_systems)))  # every other category gets drawn


def test_instances_of_one_category_differ_and_repeat_with_the_seed(tiny_systems):
    pts, info = make_category_instances(tiny_systems, 1, 20, seed=3)
    flat = pts.reshape(20, -1)
    assert len({row.tobytes() for row in flat}) == 20
    again, info2 = make_category_instances(tiny_systems, 1, 20, seed=3)
    assert np.array_equal(pts, again) and np.array_equal(info, info2)
    other, _ = make_category_instances(tiny_systems, 1, 20, seed=4)
    assert not np.array_equal(pts, other)
    assert list(info[:, 1]) == list(range(20))  # weight row i mod 145, identity first


def test_start_offset_gives_the_same_instances(tiny_systems):
    all_, _ = make_category_instances(tiny_systems, 3, 10, seed=0)
    tail, _ = make_category_instances(tiny_systems, 3, 4, seed=0, start=6)
    assert np.array_equal(all_[6:], tail)


def test_diverging_fluctuation_is_replaced_deterministically():
    # two maps with a = 0.7 (x-contraction): rows that multiply a by >= 1.5 make |a| > 1
    base = np.array([[0.7, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0.1, 0.2, 0.3], [0.7, 0.1, 0, 0, 0.5, 0, 0, 0.1, 0.5, -0.3, 0.1, 0.0]])
    other = np.array([[0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0], [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0.5, 0.5, 0.5]])
    table = ifs.weight_table(145, 12)
    assert table[11, 0] == pytest.approx(1.5)  # row 11 scales a by 1.5
    inst = make_instance([base, other], 0, 11, seed=0)
    assert inst.attempts >= 1 and inst.weight_row != 11
    assert np.all(np.isfinite(inst.points)) and 1.0 < span(inst.points[:3200]) <= 2.0 + 1e-5
    again = make_instance([base, other], 0, 11, seed=0)
    assert np.array_equal(inst.points, again.points) and again.weight_row == inst.weight_row


@pytest.mark.parametrize("kwargs", [dict(ratio=0.0), dict(ratio=1.0), dict(ratio=1.5), dict(n_points=1), dict(weight_rows=100)])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        InstanceSettings(**kwargs).validate()


def test_needs_two_categories(tiny_systems):
    with pytest.raises(ValueError, match="2 categories"):
        make_instance(tiny_systems[:1], 0, 0, seed=0)
