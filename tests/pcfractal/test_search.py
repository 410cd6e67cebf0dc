import numpy as np
import pytest
from reference import reference_chaos, reference_normalize

from pcfractal.build.executor import LocalExecutor
from pcfractal.pointclouds import search
from pcfractal.pointclouds.search import SearchSettings, candidate_generator, search_categories


def regenerate(seed, cand, n_points=10_000):
    """Rebuild a candidate from its stream position with independent code: the sampler's
    documented draw order (one double for N in {2..7}, then 12 N doubles in [-1, 1])."""
    g = candidate_generator(seed, cand.block, cand.offset)
    n = 2 + int(g.random() * 6)
    params = g.random((n, 12)) * 2.0 - 1.0
    return params, reference_chaos(params, n_points, g)


@pytest.mark.parametrize("threshold", [0.05, 0.15])
def test_accepted_categories_pass_an_independent_variance_check(threshold):
    res = search_categories(3, seed=11, settings=SearchSettings(threshold=threshold))
    assert len(res.categories) == 3
    for cand in res.categories:
        params, cloud = regenerate(11, cand)
        np.testing.assert_array_equal(params, cand.params)
        assert 2 <= params.shape[0] <= 7 and np.all(np.abs(params) <= 1.0)
        assert cloud is not None and np.all(np.isfinite(cloud))
        var = reference_normalize(cloud).var(axis=0)
        assert var.min() > threshold, var
        np.testing.assert_allclose(var, cand.variances, rtol=1e-9)


def test_result_does_not_depend_on_worker_count():
    s = SearchSettings(threshold=0.05, block_size=512)
    one = search_categories(12, seed=4, settings=s, executor=LocalExecutor(1))
    with LocalExecutor(2) as ex:
        two = search_categories(12, seed=4, settings=s, executor=ex)
    assert [(c.block, c.offset) for c in one.categories] == [(c.block, c.offset) for c in two.categories]
    for a, b in zip(one.categories, two.categories):
        assert np.array_equal(a.params, b.params)


def test_exact_mode_and_screened_mode_both_only_accept_valid_categories():
    exact = search_categories(2, seed=2, settings=SearchSettings(threshold=0.05, screen_points=0))
    for cand in exact.categories:
        _, cloud = regenerate(2, cand)
        assert reference_normalize(cloud).var(axis=0).min() > 0.05


def test_acceptance_rate_near_published_at_005():
    # PCFRACTALDB.md: about 1% of the uniform sampler's systems pass at 0.05
    res = search.search_block(0, 0, SearchSettings(threshold=0.05))
    for b in range(1, 6):
        res.accepted += search.search_block(0, b, SearchSettings(threshold=0.05)).accepted
    rate = len(res.accepted) / (6 * search.BLOCK_SIZE)
    assert 0.006 < rate < 0.016, rate


@pytest.mark.parametrize("threshold", [0.0, -0.1, 0.34, float("nan")])
def test_threshold_outside_range_is_refused(threshold):
    with pytest.raises(ValueError, match="threshold"):
        search_categories(1, seed=0, settings=SearchSettings(threshold=threshold))


def test_zero_categories_is_refused():
    with pytest.raises(ValueError, match="positive"):
        search_categories(0, seed=0)
