"""Ray gives the same bytes as local processes (a cluster started by the test, and --ray
starting its own), and Ray's retries of a task whose worker died are idempotent."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("ray")

from pcfractal.io import manifest  # noqa: E402

from ._util import CATS, HERE, REPO, SMALL, assert_same_tree  # noqa: E402
from ._util import cli as _cli  # noqa: E402

pytestmark = pytest.mark.slow
# The test cluster and its clients use Ray's token authentication (on by default for local
# clusters since Ray 2.59); a client must say so to send the token Ray keeps for the user.
AUTH = {"RAY_AUTH_MODE": "token"}


def cli(*argv, env=None, **kw):
    return _cli(*argv, env={**AUTH, **(env or {})}, **kw)


@pytest.fixture(scope="module")
def ray_address():
    import os

    head = subprocess.Popen(
        [sys.executable, str(HERE / "ray_head.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env={**os.environ, **AUTH},
    )
    try:
        address = head.stdout.readline().strip()
        assert address and ":" in address, "the test Ray cluster did not start"
        yield address
    finally:
        head.stdin.close()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()


def test_categories_and_instances_on_a_ray_cluster_equal_local(cats, small_ref, tmp_path, ray_address):
    r = cli("categories", *CATS, "--ray-address", ray_address, "--out", tmp_path / "c")
    assert r.returncode == 0, r.stderr[-2000:]
    assert_same_tree(tmp_path / "c", cats)
    r = cli("instances", "--categories", cats, *SMALL, "--ray-address", ray_address, "--out", tmp_path / "i")
    assert r.returncode == 0, r.stderr[-2000:]
    assert_same_tree(tmp_path / "i", small_ref)


def test_scenes_and_image_shards_on_ray_equal_local(cats, tmp_path, ray_address):
    scenes = ["scenes", "--categories", cats, "--count", "5", "--points", "500", "--seed", "2"]
    images = ["images", "--kind", "rcdb", "--count", "4", "--per-category", "5", "--size", "48", "--layout", "both", "--shard-size", "6"]
    for argv in (scenes, images):
        r1 = cli(*argv, "--workers", "1", "--out", tmp_path / f"{argv[0]}1")
        r2 = cli(*argv, "--ray-address", ray_address, "--out", tmp_path / f"{argv[0]}r")
        assert r1.returncode == 0 and r2.returncode == 0, (r1.stderr[-1500:], r2.stderr[-1500:])
        assert_same_tree(tmp_path / f"{argv[0]}1", tmp_path / f"{argv[0]}r")


def test_ray_retries_are_idempotent(cats, small_ref, tmp_path, ray_address):
    flags = tmp_path / "flags"
    flags.mkdir()
    out = tmp_path / "i"
    r = cli(
        "instances",
        "--categories",
        cats,
        *SMALL,
        "--ray-address",
        ray_address,
        "--out",
        out,
        driver=HERE / "ray_retry_driver.py",
        env={"PCFRACTAL_FLAGS": str(flags)},
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in flags.iterdir()) == ["died-1", "died-2"], "the workers were meant to die once each"
    assert_same_tree(out, small_ref)  # no duplicate, no gap, no partial file left
    assert manifest.verify(out) == []


def test_a_unit_error_on_ray_reaches_the_user_as_itself(cats, tmp_path, ray_address):
    flags = tmp_path / "flags"
    flags.mkdir()
    r = cli(
        "instances",
        "--categories",
        cats,
        *SMALL,
        "--ray-address",
        ray_address,
        "--out",
        tmp_path / "i",
        driver=HERE / "ray_retry_driver.py",
        env={"PCFRACTAL_FLAGS": str(flags), "PCFRACTAL_FAIL": "enospc"},
    )
    assert r.returncode == 2 and "error: disk full while writing" in r.stderr, r.stderr[-2000:]


def test_local_ray_started_by_the_build(small_ref, cats, tmp_path):
    r = cli("instances", "--categories", cats, *SMALL, "--ray", "--workers", "2", "--out", tmp_path / "i")
    assert r.returncode == 0, r.stderr[-2000:]
    assert_same_tree(tmp_path / "i", small_ref)
