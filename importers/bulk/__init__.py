"""Bulk batch registration from CSV and XLSX sheets (customs declaration sheets, farm ledgers, vaccine lots).

``import_batches`` is the service (API and worker); ``run_import`` is the CLI's entry with a progress bar.
Reading (``reading``), cell parsing (``cells``), header layout (``layout``) and the row checks (``checks``) are
kept apart so each can be read on one screen.
"""

from importers.bulk.layout import RowError
from importers.bulk.run import run_import
from importers.bulk.service import ImportedRow, ImportLimits, ImportReport, import_batches

__all__ = ["ImportLimits", "ImportReport", "ImportedRow", "RowError", "import_batches", "run_import"]
