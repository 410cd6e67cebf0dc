"""Shared set-up for the mmdetection3d glue tests.

The whole folder is skipped, with the reason shown, when mmdet3d (with mmcv's
compiled ops) is not importable; ``bash scripts/install.sh --test`` installs
it. Anything else that fails to import is a real failure.
"""
import pytest

pytest.importorskip(
    'mmdet3d',
    reason='mmdet3d is not installed: run `bash scripts/install.sh --test` '
    '(it calls scripts/install_mmdet3d.sh) to test the mmdetection3d glue')
pytest.importorskip(
    'mmcv.ops',
    reason='mmcv was built without its ops: rebuild it with '
    'scripts/install_mmdet3d.sh (MMCV_WITH_OPS=1)')


@pytest.fixture(scope='session', autouse=True)
def pcfractal_mmdet3d():
    """Import ``pcfractal.mmdet3d``, which installs the CPU ops and the
    checkpoint loader, once for the session."""
    import pcfractal.mmdet3d as glue
    return glue
