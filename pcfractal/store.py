"""Old name of ``pcfractal.pointclouds.category_file`` (kept so existing scripts run)."""

from .pointclouds.category_file import *  # noqa: F401,F403
from .pointclouds.category_file import CATEGORY_FILE, CategoryFileError, CategorySet, export_csv, import_csv  # noqa: F401
