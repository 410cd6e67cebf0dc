import itertools

import numpy as np
import pytest

from pcfractal.core import ifs


@pytest.mark.parametrize(
    "rows,factors",
    [
        (145, [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6]),
        (121, [0.5, 0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.3, 1.4, 1.5]),
        (97, [0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.3, 1.4]),
        (73, [0.7, 0.8, 0.9, 1.1, 1.2, 1.3]),
        (49, [0.8, 0.9, 1.1, 1.2]),
        (25, [0.9, 1.1]),
    ],
)
def test_weight_tables_follow_the_spec(rows, factors):
    t = ifs.weight_table(rows, 12)
    assert t.shape == (rows, 12)
    assert np.all(t[0] == 1.0)
    seen = set()
    for row in t[1:]:
        changed = np.flatnonzero(row != 1.0)
        assert len(changed) == 1  # ONE parameter per row
        seen.add((int(changed[0]), round(float(row[changed[0]]), 6)))
    assert seen == {(j, f) for j, f in itertools.product(range(12), factors)}


def test_fractaldb_table_over_six_parameters():
    t = ifs.weight_table(25, 6)
    assert sorted({round(float(v), 6) for v in t.ravel()} - {1.0}) == [0.8, 0.9, 1.1, 1.2]
    t4 = ifs.weight_table(25, 6, step=0.4)
    assert sorted({round(float(v), 6) for v in t4.ravel()} - {1.0}) == [0.2, 0.6, 1.4, 1.8]


def test_none_table_is_identity_and_bad_sizes_fail():
    assert np.all(ifs.weight_table(1, 12) == 1.0)
    with pytest.raises(ValueError):
        ifs.weight_table(100, 12)


def test_probabilities_are_normalised_abs_det():
    rng = np.random.default_rng(3)
    params = rng.uniform(-1, 1, (5, 12))
    a = params[:, :9].reshape(5, 3, 3)
    # Rule of Sarrus, independent of numpy's LU determinant
    det = (
        a[:, 0, 0] * a[:, 1, 1] * a[:, 2, 2]
        + a[:, 0, 1] * a[:, 1, 2] * a[:, 2, 0]
        + a[:, 0, 2] * a[:, 1, 0] * a[:, 2, 1]
        - a[:, 0, 2] * a[:, 1, 1] * a[:, 2, 0]
        - a[:, 0, 0] * a[:, 1, 2] * a[:, 2, 1]
        - a[:, 0, 1] * a[:, 1, 0] * a[:, 2, 2]
    )
    np.testing.assert_allclose(ifs.probabilities(params), np.abs(det) / np.abs(det).sum(), rtol=1e-12)


def test_singular_system_is_rejected():
    with pytest.raises(ValueError, match="singular"):
        ifs.probabilities(np.zeros((3, 12)))


def test_uniform_sampler_ranges_and_map_count_distribution():
    rng = np.random.default_rng(0)
    counts = np.zeros(8, dtype=int)
    for _ in range(6000):
        p = ifs.sample_system(rng)
        assert p.shape[1] == 12 and np.all(np.abs(p) <= 1.0)
        counts[p.shape[0]] += 1
    assert counts[:2].sum() == 0
    # 1000 expected per value of N; 5 sigma of a binomial(6000, 1/6) is about 144
    assert np.all(np.abs(counts[2:] - 1000) < 144), counts


def test_unknown_sampler_names_the_choices():
    with pytest.raises(ValueError, match="uniform"):
        ifs.sample_system(np.random.default_rng(0), sampler="nope")
