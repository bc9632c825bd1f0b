import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selfeval import pipeline  # noqa: E402


@pytest.fixture(scope="session")
def seed_tables():
    """The tables parsed from data/raw/ (no cache, nothing written)."""
    return pipeline.collect(ROOT / "data" / "raw")
