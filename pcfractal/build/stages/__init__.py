"""One module per build stage; each declares its Settings dataclass and its Stage."""

from .categories import CategoriesSettings, CategoriesStage
from .csv import ExportCsvSettings, ExportCsvStage, ImportCsvSettings, ImportCsvStage
from .images import ImagesSettings, ImagesStage
from .instances import InstancesSettings, InstancesStage
from .scenes import ScenesSettings, ScenesStage

# stage kind -> (Settings, Stage): what a replayed config names.
STAGE_TYPES = {
    "categories": (CategoriesSettings, CategoriesStage),
    "instances": (InstancesSettings, InstancesStage),
    "scenes": (ScenesSettings, ScenesStage),
    "images": (ImagesSettings, ImagesStage),
    "export-csv": (ExportCsvSettings, ExportCsvStage),
    "import-csv": (ImportCsvSettings, ImportCsvStage),
}

__all__ = [
    "STAGE_TYPES",
    "CategoriesSettings",
    "CategoriesStage",
    "ExportCsvSettings",
    "ExportCsvStage",
    "ImagesSettings",
    "ImagesStage",
    "ImportCsvSettings",
    "ImportCsvStage",
    "InstancesSettings",
    "InstancesStage",
    "ScenesSettings",
    "ScenesStage",
]
