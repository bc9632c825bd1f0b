"""Where the project's folders are: defined once (the notebooks, the CLI and the reports all use these)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent  # the project: etl.py, data/, notebooks/, reports/
RAW_DIR = ROOT / "data" / "raw"  # the published files, byte for byte (never written)
PROCESSED_DIR = ROOT / "data" / "processed"  # the tables (rebuilt by the ETL)
NOTEBOOKS_DIR = ROOT / "notebooks"
REPORTS_DIR = ROOT / "reports"
CONFIG_DIR = ROOT / "config"
README = ROOT / "README.md"
