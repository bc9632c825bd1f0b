"""Budget execution: how much of each budget was spent, and how budgets moved in-year.

Execution rate = 全年执行数 / 全年预算数 (the full-year, i.e. adjusted, budget), the
denominator current Beijing forms print; the printed rate is kept beside it.
"""

from __future__ import annotations

import pandas as pd

from selfeval.analysis.measures import UNDER_EXECUTION  # noqa: F401 (one threshold: the measures' own)


def per_project(projects: pd.DataFrame) -> pd.DataFrame:
    p = projects
    full, initial, executed = (p[c].astype("Float64") for c in ("full_year_budget", "initial_budget", "executed"))
    out = pd.DataFrame(
        {
            "form_id": p["form_id"],
            "unit": p["unit"],
            "district": p["district"],
            "year": p["year"],
            "project_name": p["project_name"],
            "initial_budget": initial,
            "full_year_budget": full,
            "executed": executed,
            "rate_printed": p["execution_rate"].astype("Float64"),
            "rate_computed": (executed / full.where(full > 0)).astype("Float64"),
            "budget_change": full - initial,
            "budget_change_share": ((full - initial) / initial.where(initial > 0)).astype("Float64"),
            "unspent": full - executed,
            "total_score": p["total_score"].astype("Float64"),
        }
    )
    out["rate_gap"] = out["rate_printed"] - out["rate_computed"]
    out["under_90"] = out["rate_computed"] < UNDER_EXECUTION
    return out.reset_index(drop=True)


def per_unit(projects_table: pd.DataFrame) -> pd.DataFrame:
    """Totals per unit; the rate is money-weighted (sum executed / sum budget)."""
    g = projects_table.groupby("unit", dropna=False)
    out = g.agg(
        forms=("form_id", "size"),
        full_year_budget=("full_year_budget", "sum"),
        executed=("executed", "sum"),
        unspent=("unspent", "sum"),
        budget_change=("budget_change", "sum"),
        under_90=("under_90", "sum"),
        median_rate=("rate_computed", "median"),
        mean_score=("total_score", "mean"),
    )
    out["rate"] = out["executed"] / out["full_year_budget"].where(out["full_year_budget"] > 0)
    return out.sort_values("full_year_budget", ascending=False)


def budget_changes(projects_table: pd.DataFrame) -> pd.DataFrame:
    """Projects whose full-year budget differs from the initial budget (cut or raised in-year)."""
    changed = projects_table[projects_table["budget_change"].fillna(0).abs() > 1e-9]
    return changed.sort_values("budget_change")


def under_executed(projects_table: pd.DataFrame, threshold: float = UNDER_EXECUTION) -> pd.DataFrame:
    return projects_table[projects_table["rate_computed"] < threshold].sort_values("rate_computed")
