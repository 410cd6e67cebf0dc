"""Shared set-up for the mmdetection3d glue tests.

The whole folder is skipped, with the reason shown, when mmdet3d (with mmcv's
compiled ops) is not importable; ``bash scripts/install.sh --test`` installs
it. Anything else that fails to import is a real failure.
"""

import sys

import pytest

_HOW = "run `bash scripts/install.sh --test` (it calls scripts/install_mmdet3d.sh) to test the mmdetection3d glue"


def _loading_as_initial_conftest():
    """True when pytest was pointed inside this folder: it then loads this
    file while parsing its arguments, where a skip cannot be raised."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "pytest_load_initial_conftests":
            return True
        frame = frame.f_back
    return False


try:
    pytest.importorskip("mmdet3d", reason=f"mmdet3d is not installed: {_HOW}")
    pytest.importorskip("mmcv.ops", reason=f"mmcv was built without its compiled ops: {_HOW}")
except pytest.skip.Exception as skip:
    if not _loading_as_initial_conftest():
        raise  # pytest reports the folder as skipped, with the reason
    _REASON = str(skip)
    collect_ignore_glob = ["*.py"]

    def pytest_terminal_summary(terminalreporter):
        terminalreporter.write_line(f"SKIPPED tests/mmdet3d: {_REASON}")


@pytest.fixture(scope="session", autouse=True)
def pcfractal_mmdet3d():
    """Import ``pcfractal.mmdet3d``, which installs the CPU ops and the
    checkpoint loader, once for the session."""
    import pcfractal.mmdet3d as glue

    return glue
