import json

import numpy as np
import pytest

from pcfractal.core import ifs
from pcfractal.pointclouds.category_file import CategoryFileError, CategorySet, export_csv, import_csv


@pytest.fixture
def cats(tiny_search):
    c = tiny_search.categories
    return CategorySet([x.params for x in c], 0, {"threshold": 0.05}, [{"block": x.block, "offset": x.offset} for x in c])


def test_json_round_trip_is_exact(cats, tmp_path):
    path = cats.save(tmp_path / "categories.json")
    back = CategorySet.load(tmp_path)
    assert len(back) == len(cats) and back.seed == 0 and back.settings == {"threshold": 0.05}
    for a, b in zip(cats.systems, back.systems):
        assert np.array_equal(a, b)
    d = json.loads(path.read_text())
    for entry, sys in zip(d["categories"], cats.systems):
        np.testing.assert_allclose(entry["probabilities"], ifs.probabilities(sys), rtol=1e-15)
    assert d["pcfractal_version"] and d["parameter_names"] == list("abcdefghijkl")


def test_authors_csv_round_trip(cats, tmp_path):
    paths = export_csv(cats, tmp_path / "csv")
    assert [p.name for p in paths] == [f"{i:06d}.csv" for i in range(len(cats))]
    rows = paths[0].read_text().strip().splitlines()
    assert len(rows) == cats.systems[0].shape[0] and all(len(r.split(",")) == 13 for r in rows)
    back = import_csv(tmp_path / "csv")
    for a, b in zip(cats.systems, back.systems):
        assert np.array_equal(a, b)


def test_csv_with_header_row_is_accepted(tmp_path):
    sys = np.array([[0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0], [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5, 0.5, 0.5, 0.5]])
    lines = ["a,b,c,d,e,f,g,h,i,j,k,l,p"] + [",".join(map(str, [*r, 0.5])) for r in sys]
    (tmp_path / "000000.csv").write_text("\n".join(lines))
    assert np.array_equal(import_csv(tmp_path).systems[0], sys)


@pytest.mark.parametrize(
    "content,match",
    [
        ("1,2,3\n", "13"),
        ("a,b,c,d,e,f,g,h,i,j,k,l,p\n", "no rows"),
        ("0.5,0,0,0,0.5,0,0,0,0.5,0,0,0,x\n", "not a number"),
        ("0.5,0,0,0,0.5,0,0,0,0.5,0,0,0,0.9\n0.25,0,0,0,0.25,0,0,0,0.25,0,0,0,0.1\n", "normalised"),
    ],
)
def test_malformed_csv_names_the_problem(tmp_path, content, match):
    (tmp_path / "000000.csv").write_text(content)
    with pytest.raises(CategoryFileError, match=match):
        import_csv(tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        json.dumps({"format": "other"}),
        json.dumps({"format": "pcfractal.categories", "format_version": 1, "categories": [{"maps": [[1, 2]]}]}),
    ],
)
def test_malformed_category_file(tmp_path, text):
    (tmp_path / "categories.json").write_text(text)
    with pytest.raises(CategoryFileError, match="categories.json"):
        CategorySet.load(tmp_path)
