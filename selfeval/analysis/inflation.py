"""Score inflation: self-scores against the official rule applied to the same form.

The per-indicator and per-form re-scores are made in scoring.py during the ETL;
this module only aggregates them for the report. Thresholds and definitions (a full
self-score, a form above or below the rule) are measures.py's, so a count here is the
count in the README and the report index.
"""

from __future__ import annotations

import pandas as pd

from selfeval.analysis import measures
from selfeval.vocab.value_sets import ARITHMETIC


def score_distribution(projects: pd.DataFrame) -> pd.DataFrame:
    """Per unit: forms, share scoring the full 100, share at 90 or more (优), mean self total."""
    p = projects.assign(
        full=measures.full_self_score(projects).fillna(False).astype(bool), excellent=projects["self_total"] >= 90
    )
    return p.groupby("unit").agg(
        forms=("form_id", "size"),
        share_100=("full", "mean"),
        share_90_plus=("excellent", "mean"),
        mean_self=("self_total", "mean"),
    )


def by_unit(projects: pd.DataFrame) -> pd.DataFrame:
    """Per unit: mean self, rule and substantiated totals, the inflation range (mean_inflation
    is the lower bound, mean_inflation_upper the upper), and the forms above and below the rule
    (measures.off_rule: one threshold)."""
    side = measures.off_rule(projects["inflation"])
    p = projects.assign(_above=(side == "above"), _below=(side == "below"))
    return (
        p.groupby("unit")
        .agg(
            forms=("form_id", "size"),
            mean_self=("self_total", "mean"),
            mean_rule=("rule_total", "mean"),
            mean_substantiated=("substantiated_total", "mean"),
            mean_inflation=("inflation", "mean"),
            total_inflation=("inflation", "sum"),
            mean_inflation_upper=("inflation_upper", "mean"),
            forms_inflated=("_above", "sum"),
            forms_deflated=("_below", "sum"),
            verifiable_weight_share=("verifiable_weight_share", "mean"),
        )
        .sort_values("mean_inflation", ascending=False)
    )


def by_category(indicators: pd.DataFrame) -> pd.DataFrame:
    """Per level-1/level-2 category: weight, points self-given, points by rule, verifiable share."""
    i = indicators.assign(verifiable_weight=indicators["weight"].where(indicators["verifiable"], 0))
    out = i.groupby(["level1", "level2"], dropna=False).agg(
        indicators=("form_id", "size"),
        weight=("weight", "sum"),
        self_points=("score", "sum"),
        rule_points=("rule_score", "sum"),
        verifiable_weight=("verifiable_weight", "sum"),
    )
    out["inflation"] = out["self_points"] - out["rule_points"]
    out["verifiable_share"] = out["verifiable_weight"] / out["weight"].where(out["weight"] > 0)
    return out.sort_values("weight", ascending=False)


def full_marks_on_missed_targets(indicators: pd.DataFrame, projects: pd.DataFrame) -> pd.DataFrame:
    missed = indicators[(indicators["met"] == False) & (indicators["score"] >= indicators["weight"])]  # noqa: E712
    cols = [
        "form_id",
        "indicator_order",
        "line",
        "indicator_name",
        "target_raw",
        "actual_raw",
        "weight",
        "score",
        "rule_score",
    ]
    return missed[cols].merge(projects[["form_id", "unit", "project_name"]], on="form_id", how="left")


def arithmetic_failures(checks: pd.DataFrame) -> pd.DataFrame:
    """Checks where the form's printed numbers contradict each other."""
    return checks[checks["check"].isin(ARITHMETIC)]
