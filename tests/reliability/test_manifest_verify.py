"""Manifest and verify: a flipped byte, a missing file, a truncated shard, an extra file
are each named; a rerun repairs them; the manifest has nothing run-specific in it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pcfractal.io import manifest, shards

from ._util import assert_same_tree, run_main, tree


@pytest.fixture
def build(small_ref, tmp_path) -> Path:
    d = tmp_path / "build"
    shutil.copytree(small_ref, d)
    return d


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_clean_build_verifies(capsys, build):
    code, out, err = run_main(capsys, "verify", build)
    assert code == 0 and "ok: instances" in out and err == ""


def test_manifest_lists_every_file_with_its_hash(small_ref):
    m = manifest.load(small_ref)
    listed = {e["path"] for e in m["files"]}
    assert listed == set(tree(small_ref)) - {manifest.MANIFEST_FILE}
    assert m["kind"] == "instances" and m["seed"] == 5 and m["counts"]["instances"] == 32
    npy = next(e for e in m["files"] if e["path"] == "000001.npy")
    assert npy["shape"] == [8, 1000, 3] and npy["dtype"] == "<f2" and len(npy["sha256"]) == 64


def test_manifest_is_location_and_run_independent(small_ref):
    text = (small_ref / manifest.MANIFEST_FILE).read_text()
    assert str(small_ref) not in text and "/tmp" not in text and "workers" not in text
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


# (The marker .pcfractal/build.json is state, not output: it is not in the manifest;
# tests/build/test_damage.py covers a damaged marker.)
@pytest.mark.parametrize("name", ["000002.npy", "instances.json", "build_config.json"])
def test_flipped_byte_is_named(capsys, build, name):
    flip_byte(build / name, 200 if name.endswith(".npy") else 10)
    code, _, err = run_main(capsys, "verify", build)
    assert code == 1 and f"{name}: sha256 differs" in err


def test_missing_file_is_named(capsys, build):
    (build / "000003.info.npy").unlink()
    code, _, err = run_main(capsys, "verify", build)
    assert code == 1 and "000003.info.npy: missing" in err


def test_truncated_file_is_named(capsys, build):
    p = build / "000000.npy"
    p.write_bytes(p.read_bytes()[:-100])
    code, _, err = run_main(capsys, "verify", build)
    assert code == 1 and "000000.npy: size" in err and "truncated" in err


def test_extra_and_partial_files_are_named(capsys, build):
    (build / "stray.txt").write_text("x")
    (build / "000001.npy.1234abcd.partial").write_bytes(b"half")
    code, _, err = run_main(capsys, "verify", build)
    assert code == 1 and "stray.txt: unexpected file" in err and "000001.npy.1234abcd.partial: unexpected file (a leftover partial" in err


def test_unfinished_build_is_reported(capsys, build):
    (build / manifest.MANIFEST_FILE).unlink()
    code, _, err = run_main(capsys, "verify", build)
    assert code == 1 and "manifest.json: missing: the build did not finish" in err and "run the same command again" in err


def test_not_a_build(capsys, tmp_path):
    code, _, err = run_main(capsys, "verify", tmp_path)
    assert code == 2 and "no manifest.json" in err and len(err.strip().splitlines()) == 1


def test_moved_folder_still_verifies(capsys, build, tmp_path):
    moved = tmp_path / "elsewhere" / "x"
    shutil.move(str(build), moved)
    assert run_main(capsys, "verify", moved)[0] == 0


def test_rerun_repairs_damage_and_gives_the_same_bytes(capsys, cats, small_ref, build):
    from ._util import SMALL

    flip_byte(build / "000002.npy", 300)
    (build / "000001.info.npy").unlink()
    (build / "000003.npy.deadbeef.partial").write_bytes(b"junk")
    code, _, err = run_main(capsys, "instances", "--categories", cats, *SMALL, "--workers", "1", "--out", build)
    assert code == 0 and "000002.npy: bytes changed; made it again" in err and "000001.info.npy: missing; made it again" in err
    assert not (build / "000003.npy.deadbeef.partial").exists()
    assert_same_tree(build, small_ref)


def test_verify_a_folder_of_stages(capsys, tmp_path):
    code, _, _ = run_main(
        capsys,
        "build",
        "--preset",
        "tiny",
        "--count",
        "3",
        "--per-category",
        "2",
        "--threshold",
        "0.05",
        "--workers",
        "1",
        "--out",
        tmp_path / "demo",
    )
    assert code == 0
    code, out, _ = run_main(capsys, "verify", tmp_path / "demo")
    assert code == 0 and "categories" in out and "instances" in out
    flip_byte(tmp_path / "demo/categories/gallery.png", 100)
    code, _, err = run_main(capsys, "verify", tmp_path / "demo")
    assert code == 1 and "gallery.png: sha256 differs" in err


# --- shards -------------------------------------------------------------------------------

SAMPLES = [(f"{i:06d}", {"png": bytes([i]) * (100 + i), "cls": str(i % 3).encode()}) for i in range(20)]


def test_shard_bytes_are_reproducible_and_metadata_fixed(tmp_path):
    import tarfile

    a = shards.write_shard(tmp_path / "a.tar", SAMPLES)
    b = shards.write_shard(tmp_path / "b.tar", iter(SAMPLES))
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes() and a.sha256 == b.sha256
    with tarfile.open(tmp_path / "a.tar") as t:
        ms = t.getmembers()
    assert [m.name for m in ms[:4]] == ["000000.cls", "000000.png", "000001.cls", "000001.png"]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) for m in ms} == {(0, 0, 0, "", "", 0o644)}
    assert a.samples == 20 and a.members == 40
    assert [k for k, _ in shards.read_shard(tmp_path / "a.tar")] == [k for k, _ in SAMPLES]
    assert list(tmp_path.glob("*.partial")) == []


@pytest.mark.parametrize(
    "samples,match",
    [
        ([("000001", {"png": b"x"}), ("000001", {"png": b"y"})], "duplicate sample key '000001'"),
        ([], "empty shard"),
        ([("000001", {})], "no fields"),
        ([("a.b", {"png": b"x"})], "bad sample key"),
    ],
)
def test_bad_shards_raise_and_leave_nothing(tmp_path, samples, match):
    with pytest.raises(shards.ShardError, match=match):
        shards.write_shard(tmp_path / "shard-000000.tar", samples)
    assert list(tmp_path.iterdir()) == []


def test_shard_of_depends_on_the_index_only():
    assert shards.shard_of(0, 100) == (0, 0) and shards.shard_of(1234, 100) == (12, 34)
    assert [len(r) for r in shards.shard_ranges(250, 100)] == [100, 100, 50]


def test_truncated_shard_is_named_by_verify(tmp_path):
    d = tmp_path / "b"
    d.mkdir()
    for s, r in enumerate(shards.shard_ranges(len(SAMPLES), 8)):
        shards.write_shard(d / shards.shard_name(s), [SAMPLES[i] for i in r])
    manifest.write(d, manifest.build(d, "demo", 0, {}, {"samples": 20}))
    m = manifest.load(d)
    assert [e["samples"] for e in m["files"]] == [8, 8, 4]
    assert manifest.verify(d) == []
    p = d / "shard-000001.tar"
    p.write_bytes(p.read_bytes()[:3000])
    problems = [str(x) for x in manifest.verify(d)]
    assert problems == [f"shard-000001.tar: size 3,000 bytes, the manifest says {m['files'][1]['size']:,} (truncated)"]
    with pytest.raises(shards.ShardError, match="shard-000001.tar: truncated"):
        shards.check_shard(p)
