"""Property-based fuzzing of every subcommand's flags: any invalid value gives exit 2, one
error line, and nothing written. The flags are read from the parsers themselves, so a new
flag is fuzzed without touching this file."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pcfractal.cli import build_parser, main

NOT_NUMBERS = ["abc", "", "1,5", "0x1g", "--", "1e", "NaN%"]
NOT_FINITE = ["nan", "inf", "-inf", "1e400"]
# (subcommand, the arguments that make it otherwise valid)
COMMANDS = {
    "categories": [],
    "instances": ["--categories", "{cats}"],
    "scenes": ["--categories", "{cats}"],
    "images": ["--kind", "rcdb"],
    "build": [],
    "export-csv": ["--categories", "{cats}"],
    "import-csv": ["--csv-folder", "{cats}"],
}
SKIP = {"--workers"}  # a how-to-run flag: fuzzed in test_guarantees (capped, negative refused)


def numeric_flags(command: str) -> list[tuple[str, type]]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    out = []
    for a in sub._actions:
        t = getattr(a.type, "__name__", "")
        if a.option_strings and t in ("int", "float") and a.option_strings[-1] not in SKIP:
            if command == "images" and a.dest not in _rcdb_or_common():
                continue  # other kinds' flags are refused by name (test_guarantees)
            out.append((a.option_strings[-1], int if t == "int" else float, a.nargs))
    return out


def _rcdb_or_common() -> set[str]:
    import dataclasses

    from pcfractal.build.stages import ImagesSettings
    from pcfractal.images import get_generator

    return {f.name for f in dataclasses.fields(get_generator("rcdb").Settings)} | {f.name for f in dataclasses.fields(ImagesSettings)}


def invalid_values(kind: type):
    bad = st.sampled_from(NOT_NUMBERS) | st.integers(max_value=-1).map(str)
    if kind is float:
        bad = bad | st.sampled_from(NOT_FINITE) | st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False).map(repr)
    else:
        bad = bad | st.sampled_from(["1.5", "2e3", "nan"])
    return bad


CASES = [(c, flag, kind, nargs) for c in COMMANDS for flag, kind, nargs in numeric_flags(c)]


@pytest.fixture(scope="module")
def cats(tmp_path_factory, refs):
    return refs["categories"]


@pytest.mark.parametrize("command,flag,kind,nargs", CASES, ids=[f"{c} {f}" for c, f, _, _ in CASES])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_invalid_value_exit_2_one_line_nothing_written(tmp_path, cats, command, flag, kind, nargs, data):
    value = data.draw(invalid_values(kind))
    values = [value] * (nargs if isinstance(nargs, int) else 1)
    out = tmp_path / "fuzz-out"
    argv = [command, *[a.format(cats=cats) for a in COMMANDS[command]], flag, *values, "--out", str(out)]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    lines = err.getvalue().strip().splitlines()
    assert code == 2, f"{argv}: exit {code}"
    assert len(lines) == 1, f"{argv}: {lines}"
    assert not out.exists(), f"{argv} wrote {out}"
