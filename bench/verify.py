"""Compare the ETL's tables for a synthetic corpus with the generator's expected.csv."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

TOLERANCE = 1e-6


def mismatches(expected_csv: Path, processed_dir: Path) -> pd.DataFrame:
    """Rows of expected.csv whose form is missing or differs in any expected value."""
    expected = pd.read_csv(expected_csv, dtype={"form_id": str})
    projects = pd.read_parquet(processed_dir / "projects.parquet")
    indicators = pd.read_parquet(processed_dir / "indicators.parquet")
    sums = indicators.groupby("form_id").agg(weight_sum_got=("weight", "sum"), score_sum_got=("score", "sum"))
    got = projects.merge(sums, left_on="form_id", right_index=True, how="left")
    merged = expected.merge(got, on="form_id", how="left", suffixes=("", "_got"), indicator=True)
    bad = merged["_merge"] != "both"
    for column in ("project_name", "department", "district"):
        bad |= merged[column] != merged[f"{column}_got"]
    bad |= merged["year"] != merged["year_got"]
    bad |= merged["n_indicators"] != merged["n_indicators_got"]
    for column in ("full_year_budget", "executed", "total_score", "weight_sum", "score_sum"):
        bad |= (merged[column] - merged[f"{column}_got"].astype(float)).abs().fillna(1) > TOLERANCE
    return merged[bad]


if __name__ == "__main__":
    out = mismatches(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{len(out)} mismatching forms")
    sys.exit(1 if len(out) else 0)
