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


def seed_with(base: Path, extra: dict[str, bytes]):
    """The seed files plus *extra* files (name -> bytes) in base/raw, run through the ETL into
    base/processed: (the processed folder, its tables as the notebooks load them)."""
    import shutil

    raw = base / "raw"
    shutil.copytree(ROOT / "data" / "raw", raw)
    for name, data in extra.items():
        (raw / name).write_bytes(data)
    processed = base / "processed"
    pipeline.run(raw, processed, use_cache=False)
    return processed, notebook.load(processed)
