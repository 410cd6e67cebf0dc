"""``export-csv`` and ``import-csv``: the authors' category format."""

from pcfractal.build.stages import ExportCsvSettings, ExportCsvStage, ImportCsvSettings, ImportCsvStage

from ._common import stage_command


def register(sub) -> None:
    stage_command(
        sub,
        "export-csv",
        ExportCsvSettings,
        ExportCsvStage,
        help="write categories in the authors' CSV format",
        description="One CSV per category in OUT/csv/ (N rows of a..l and p, no header): a folder holding\n"
        "exactly what the authors' scripts read; the build's record sits beside it in OUT.",
        out_help="output folder (the CSV files go to OUT/csv/)",
    )
    stage_command(
        sub,
        "import-csv",
        ImportCsvSettings,
        ImportCsvStage,
        help="read categories from the authors' CSV files",
        description="Read a folder of the authors' CSVs (sorted by name) into OUT/categories.json.",
        out_help="output folder for categories.json",
    )
