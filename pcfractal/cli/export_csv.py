"""``export-csv`` and ``import-csv``: the authors' format, one CSV per category
(``{index:06d}.csv``, N rows x 13 columns a..l, p)."""

from __future__ import annotations

from pathlib import Path

from pcfractal.pointclouds.category_file import CATEGORY_FILE, CategorySet, export_csv, import_csv
from ._common import OutputDir, check_writable_parent, summary


def register(sub) -> None:
    p = sub.add_parser("export-csv", help="write categories in the authors' CSV format",
                       description="One CSV per category, N rows of a..l and p, for the authors' code.")
    p.add_argument("categories", type=Path, help="a category folder or file")
    p.add_argument("--out", type=Path, required=True, help="folder for {index:06d}.csv files")
    p.add_argument("--overwrite", action="store_true", help="replace an existing, different export")
    p.set_defaults(func=run_export)
    q = sub.add_parser("import-csv", help="read categories from the authors' CSV files",
                       description="Read a folder of the authors' CSVs (sorted by name) into a category file.")
    q.add_argument("csv_folder", type=Path, help="folder of *.csv files (N rows x 13: a..l, p)")
    q.add_argument("--out", type=Path, required=True, help="output folder for categories.json")
    q.add_argument("--overwrite", action="store_true", help="replace an existing, different build in --out")
    q.set_defaults(func=run_import)


def run_export(args) -> int:
    cats = CategorySet.load(args.categories)
    check_writable_parent(args.out)
    out = OutputDir(args.out, "export-csv", {"source": str(Path(args.categories).resolve())}, args.overwrite).open()
    paths = export_csv(cats, out.path)
    summary(f"export-csv: {len(paths)} files -> {args.out}", [("format", "N rows x 13 (a..l, p), no header")])
    return 0


def run_import(args) -> int:
    cats = import_csv(args.csv_folder)
    check_writable_parent(args.out)
    out = OutputDir(args.out, "import-csv", {"source": str(Path(args.csv_folder).resolve())}, args.overwrite).open()
    cats.save(out.file(CATEGORY_FILE))
    summary(f"import-csv: {len(cats)} categories -> {args.out / CATEGORY_FILE}", [("maps per system", sorted({len(s) for s in cats.systems}))])
    return 0
