"""The ``export-csv`` and ``import-csv`` stages: the authors' category format.

``export-csv`` writes ``OUT/csv/{index:06d}.csv`` (N rows x 13: a..l, p, no header): that
folder holds exactly the files the authors' scripts read; the build's own record
(manifest, config) sits beside it in ``OUT``. ``import-csv`` reads such a folder into
``OUT/categories.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pcfractal.pointclouds.category_file import CATEGORY_FILE, CategoryFileError, csv_text, import_csv

from ..plan import BuildError, Plan
from ..stage import RunContext, Stage
from ._inputs import category_file, load_categories

CSV_DIR = "csv"
_CSV = re.compile(r"^csv/(\d{6})\.csv$")


@dataclass(frozen=True)
class ExportCsvSettings:
    categories: Path = field(default=None, metadata={"help": "a category folder or file", "required": True})


@dataclass(frozen=True)
class ImportCsvSettings:
    csv_folder: Path = field(
        default=None, metadata={"help": "folder of the authors' *.csv files (N rows x 13: a..l, p), read in name order", "required": True}
    )


class ExportCsvStage(Stage):
    kind = "export-csv"

    def __init__(self, settings: ExportCsvSettings):
        self.s = settings
        self._cats = None

    def check_inputs(self) -> None:
        if self._cats is None:
            self._cats = load_categories(self.s.categories)

    def inputs(self):
        return [category_file(self.s.categories)]

    def settings_dict(self) -> dict:
        self.check_inputs()
        return {"categories_sha256": self._cats[1]}

    def owns(self, rel: str) -> bool:
        m = _CSV.match(rel)
        return bool(m) and int(m.group(1)) < len(self._cats[0])

    def plan(self, probe: bool = False) -> Plan:
        n = len(self._cats[0]) if self._cats else 1000
        return Plan(files=n, bytes=n * 900, units=1, unit_bytes=2**20)

    def units(self):
        return []

    def finish(self, ctx: RunContext, results: list) -> dict:
        cats = self._cats[0]
        for i, sys in enumerate(cats.systems):
            ctx.writer.write_text(f"{CSV_DIR}/{i:06d}.csv", csv_text(sys))
        return {"categories": len(cats)}

    def summary(self, ctx, results):
        return f"export-csv: {len(self._cats[0])} files -> {ctx.folder.given / CSV_DIR}", [
            ("format", "N rows x 13 (a..l, p), no header: give this folder to the authors' scripts")
        ]


class ImportCsvStage(Stage):
    kind = "import-csv"

    def __init__(self, settings: ImportCsvSettings):
        self.s = settings
        self._cats = None

    def check_inputs(self) -> None:
        if self._cats is None:
            try:
                self._cats = import_csv(self.s.csv_folder)
            except CategoryFileError as e:
                raise BuildError(str(e)) from None

    def inputs(self):
        return [Path(self.s.csv_folder)]

    def settings_dict(self) -> dict:
        self.check_inputs()
        import hashlib

        digest = hashlib.sha256(b"".join(csv_text(s).encode() for s in self._cats.systems)).hexdigest()
        return {"csv_sha256": digest, "categories": len(self._cats)}

    def owns(self, rel: str) -> bool:
        return rel == CATEGORY_FILE

    def plan(self, probe: bool = False) -> Plan:
        n = len(self._cats) if self._cats else 1000
        return Plan(files=1, bytes=n * 1600, units=1, unit_bytes=2**20)

    def units(self):
        return []

    def finish(self, ctx: RunContext, results: list) -> dict:
        ctx.writer.write_json(CATEGORY_FILE, self._cats.to_dict())
        return {"categories": len(self._cats)}

    def summary(self, ctx, results):
        return f"import-csv: {len(self._cats)} categories -> {ctx.folder.given / CATEGORY_FILE}", [
            ("maps per system", sorted({len(s) for s in self._cats.systems}))
        ]
