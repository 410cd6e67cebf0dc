"""The damage matrix: every file kind x every way a folder gets damaged. ``verify`` names
the damage, and running the same command again either restores bytes equal to a clean
build or refuses with one line saying what to do; it never exits 0 with damage left."""

from __future__ import annotations

import shutil

import pytest

from .conftest import argv_of, run, tree

DATA = {
    "categories": "categories.json",
    "instances": "000001.npy",
    "scenes": "points/000001.bin",
    "images": "train/00001/00001_00001.png",
    "shards": "shards/train-000000.tar",
}
SUMMARY = {
    "categories": "stats.json",
    "instances": "instances.json",
    "scenes": "pcfractal_infos_train.pkl",
    "images": "classes.json",
    "shards": "classes.json",
}


def flip(path, offset=None):
    data = bytearray(path.read_bytes())
    data[len(data) // 2 if offset is None else offset] ^= 0x55
    path.write_bytes(bytes(data))


def damage(d, kind, how):
    """Damage folder ``d`` (a copy of the reference build of ``kind``); return the names
    verify must mention."""
    target = d / DATA[kind]
    if how == "flip":
        flip(target)
    elif how == "flip-summary":
        flip(d / SUMMARY[kind])
        return [SUMMARY[kind]]
    elif how == "truncate":
        target.write_bytes(target.read_bytes()[:-7])
    elif how == "delete":
        target.unlink()
    elif how == "rename":
        target.rename(target.with_name(target.name + ".bak"))
        return [DATA[kind], DATA[kind] + ".bak"]
    elif how == "extra":
        extra = target.with_name("extra" + target.suffix)
        extra.write_bytes(b"not ours")
        return [str(extra.relative_to(d))]
    elif how == "garbage-manifest":
        (d / "manifest.json").write_text("{ not json")
        return ["manifest.json"]
    elif how == "lost-manifest+flip":
        (d / "manifest.json").unlink()
        flip(target)
        return ["manifest.json"]
    elif how == "garbage-marker":
        (d / ".pcfractal" / "build.json").write_text("garbage")
        return ["build.json"]
    elif how == "lost-journal+flip":
        (d / ".pcfractal" / "journal.jsonl").unlink()
        flip(target)
    return [DATA[kind]]


HOWS = [
    "flip",
    "flip-summary",
    "truncate",
    "delete",
    "rename",
    "extra",
    "garbage-manifest",
    "lost-manifest+flip",
    "garbage-marker",
    "lost-journal+flip",
]
FOREIGN = {"rename", "extra"}


@pytest.mark.parametrize("kind", list(DATA))
@pytest.mark.parametrize("how", HOWS)
def test_damage_is_named_and_repaired_or_refused(capsys, refs, copy_of, kind, how):
    d = copy_of(kind)
    names = damage(d, kind, how)
    code, _, err = run(capsys, "verify", d)
    assert code == 1, f"verify passed a damaged folder ({how})"
    for n in names:
        assert n in err, f"verify does not name {n}: {err}"
    advice = err.strip().splitlines()[-1]
    assert ("move the" in advice) == (how in FOREIGN), advice  # its advice works for this damage

    code, _, err = run(capsys, *argv_of(kind, refs, d))
    if how in FOREIGN:
        assert code == 2 and len(err.strip().splitlines()) == 1 and "not written by this build" in err, err
        foreign = d / names[-1]
        assert foreign.exists(), "a foreign file was deleted"
        foreign.unlink()
        code, _, err = run(capsys, *argv_of(kind, refs, d))
    assert code == 0, err
    assert tree(d) == tree(refs[kind]), "the repaired build differs from a clean one"
    assert run(capsys, "verify", d)[0] == 0


def test_damaged_input_category_file_is_refused(capsys, refs, tmp_path):
    cats = tmp_path / "cats"
    shutil.copytree(refs["categories"], cats)
    text = (cats / "categories.json").read_text()
    (cats / "categories.json").write_text(text.replace('"index": 1', '"index": 1 ', 1))
    code, _, err = run(capsys, "instances", "--categories", cats, "--per-category", "2", "--out", tmp_path / "inst")
    assert code == 2 and "changed since its build was sealed" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "inst").exists()


def test_damaged_classes_json_is_made_again_not_reused(capsys, refs, copy_of):
    d = copy_of("images")
    (d / "classes.json").write_text((d / "classes.json").read_text().replace("0.", "9.", 3))
    code, _, err = run(capsys, *argv_of("images", refs, d))
    assert code == 0 and "classes.json" in err
    assert tree(d) == tree(refs["images"])


def test_extra_class_folder_and_extra_shard_are_refused(capsys, refs, copy_of):
    d = copy_of("images")
    (d / "train" / "00099").mkdir()
    (d / "train" / "00099" / "00099_00000.png").write_bytes(b"x")
    code, _, err = run(capsys, *argv_of("images", refs, d))
    assert code == 2 and "00099" in err
    s = copy_of("shards")
    shutil.copy(s / "shards" / "train-000000.tar", s / "shards" / "train-000042.tar")
    code, _, err = run(capsys, *argv_of("shards", refs, s))
    assert code == 2 and "train-000042.tar" in err
