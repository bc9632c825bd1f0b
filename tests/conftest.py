from pathlib import Path

import pytest

from selfeval.analysis import notebook
from selfeval.run import pipeline

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def seed_tables():
    """The tables parsed from data/raw/ (no cache, nothing written)."""
    return pipeline.collect(ROOT / "data" / "raw")


@pytest.fixture(scope="session")
def unit_tables(seed_tables):
    """The seed tables with the `unit` column the notebooks add (notebook.unit_name)."""
    return {**seed_tables, "projects": seed_tables["projects"].assign(unit=notebook.unit_name(seed_tables["projects"]))}
