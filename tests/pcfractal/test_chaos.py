import numpy as np
import pytest
from reference import reference_chaos

from pcfractal.core import chaos, ifs


def test_matches_an_independent_chaos_game():
    params = np.random.default_rng(1).uniform(-0.6, 0.6, (4, 12))
    ours = chaos.chaos_game(params, 5000, np.random.default_rng(42))
    ref = reference_chaos(params, 5000, np.random.default_rng(42))
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_two_dimensional_systems_share_the_kernel():
    params = np.array([[0.5, 0, 0, 0.5, 0, 0], [0.5, 0, 0, 0.5, 0.5, 0], [0.5, 0, 0, 0.5, 0.25, 0.5]])
    ours = chaos.chaos_game(params, 3000, np.random.default_rng(0))
    ref = reference_chaos(params, 3000, np.random.default_rng(0))
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    # Sierpinski triangle: every point inside the triangle (0,0), (1,0), (0.5,1)
    x, y = ours[:, 0], ours[:, 1]
    assert np.all(y >= -1e-12) and np.all(y <= 2 * x + 1e-9) and np.all(y <= 2 * (1 - x) + 1e-9)


def test_same_seed_same_points_other_seed_other_points():
    params = np.random.default_rng(1).uniform(-0.6, 0.6, (3, 12))
    a = chaos.chaos_game(params, 1000, np.random.default_rng(5))
    b = chaos.chaos_game(params, 1000, np.random.default_rng(5))
    c = chaos.chaos_game(params, 1000, np.random.default_rng(6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_diverging_system_stops_early():
    params = np.hstack([np.tile((2.0 * np.eye(3)).ravel(), (2, 1)), np.ones((2, 3))])
    assert chaos.chaos_game(params, 10_000, np.random.default_rng(0)) is None
    a, t = ifs.split(params)
    u = np.random.default_rng(0).random(10_000)
    ok, steps = chaos.CHAOS_FILL[3](a, t, chaos.cumulative(ifs.probabilities(params)), u, np.empty((10_000, 3)), np.zeros(3), 0, 1e9)
    assert not ok and steps < 40  # 2^30 > 1e9: it stops at the first step past the bound


def test_burn_in_drops_the_first_steps():
    params = np.random.default_rng(1).uniform(-0.6, 0.6, (3, 12))
    full = chaos.chaos_game(params, 1100, np.random.default_rng(9))
    burned = chaos.chaos_game(params, 1000, np.random.default_rng(9), burn_in=100)
    np.testing.assert_array_equal(burned, full[100:])


def test_rejects_nonpositive_point_count():
    with pytest.raises(ValueError):
        chaos.chaos_game(np.random.default_rng(1).uniform(-0.6, 0.6, (3, 12)), 0, np.random.default_rng(0))


def test_long_orbits_drawn_in_chunks_equal_one_pass():
    params = np.random.default_rng(1).uniform(-0.6, 0.6, (4, 12))
    burn, n = chaos.DRAW_CHUNK * 2 + 17, chaos.DRAW_CHUNK * 3 + 5
    chunked = chaos.chaos_game(params, n, np.random.default_rng(3), burn_in=burn)
    a, t = ifs.split(params)
    out = np.empty((n, 3))
    u = np.random.default_rng(3).random(burn + n)
    ok, _ = chaos.CHAOS_FILL[3](a, t, chaos.cumulative(ifs.probabilities(params)), u, out, np.zeros(3), burn, 1e9)
    assert ok and np.array_equal(chunked, out)
