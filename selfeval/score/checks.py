"""Consistency checks of every form: its own arithmetic, and its scores against the rule.

One row of the `checks` table per finding: (form_id, indicator_order or null, line,
check, expected, printed, severity, message). A form-level check has no
indicator_order. Printed and computed numbers are compared with the tolerances of
scoring.py: 0.01 points, 0.01 percentage points.

Severities: error = the numbers printed on the form contradict each other;
warning = the form's score departs from the scoring rule, or a target is mis-specified;
note = an indicator-quality signal (the number is consistent, but says little).

derive() is the pipeline's entry point: it adds the re-scored columns to projects
and indicators and builds the checks table.
"""

from __future__ import annotations

from typing import Any

from selfeval.score import scoring
from selfeval.score.scoring import BEIJING, TOLERANCE_POINTS, TOLERANCE_RATE, Rule, close, is_missing
from selfeval.vocab.value_sets import ARITHMETIC, CHECKS, FAR_EXCEEDED, SEVERITIES, Check  # noqa: F401

# Amounts are printed in 万元 with up to 4 decimals: one yuan.
TOLERANCE_AMOUNT = 0.0001
FUND_AMOUNTS = ("initial_budget", "full_year_budget", "executed")

COLUMNS = ["form_id", "indicator_order", "line", "check", "expected", "printed", "severity", "message"]


def _row(check: str, form_id, expected, printed, message, indicator_order=None, line=None) -> dict:
    return {
        "form_id": form_id,
        "indicator_order": indicator_order,
        "line": line,
        "check": check,
        "expected": None if is_missing(expected) else float(expected),
        "printed": None if is_missing(printed) else float(printed),
        "severity": CHECKS[check].severity,
        "message": message,
    }


def _pct(fraction) -> str:
    return f"{fraction * 100:.2f}%"


def _num(x) -> str:
    return f"{float(x):g}"


def form_checks(p: dict, ind: dict) -> list[dict]:
    """The form-level checks of one form (p: a row of scored projects; ind: its
    indicators' sums, scoring.form_sums())."""
    out, fid, line = [], p["form_id"], p.get("first_line")
    printed_rate, computed = p.get("execution_rate"), p.get("computed_execution_rate")
    if not is_missing(printed_rate) and not is_missing(computed) and not close(printed_rate, computed, TOLERANCE_RATE):
        message = (
            f"printed 执行率 {p.get('execution_rate_raw')} but 全年执行数 / 全年预算数 = "
            f"{_num(p['executed'])} / {_num(p['full_year_budget'])} = {_pct(computed)}"
        )
        if p.get("execution_rate_basis") == "initial":
            message += f"; it matches 年初预算数 instead ({_num(p['executed'])} / {_num(p['initial_budget'])})"
        out.append(_row("execution_rate_mismatch", fid, computed, printed_rate, message, line=line))
    rule_budget, printed_budget = p.get("rule_budget_score"), p.get("budget_score")
    if not is_missing(rule_budget):
        if is_missing(printed_budget):
            out.append(
                _row(
                    "budget_score_mismatch",
                    fid,
                    rule_budget,
                    None,
                    f"budget score not printed; the rule gives {rule_budget:g}",
                    line=line,
                )
            )
        elif not close(printed_budget, rule_budget, TOLERANCE_POINTS):
            out.append(
                _row(
                    "budget_score_mismatch",
                    fid,
                    rule_budget,
                    printed_budget,
                    f"printed budget score {printed_budget:g}, rule min({_pct(p['computed_execution_rate'])}, 1)"
                    f" x {_num(p.get('budget_weight') or 10)} = {rule_budget:g}",
                    line=line,
                )
            )
    if (
        ind["n"]
        and not ind["weight_missing"]
        and not is_missing(p.get("budget_weight"))
        and not is_missing(p.get("total_weight"))
    ):
        expected = scoring.round2(p["budget_weight"] + ind["weight"])
        if not close(expected, p["total_weight"], TOLERANCE_POINTS):
            out.append(
                _row(
                    "weights_total_mismatch",
                    fid,
                    expected,
                    p["total_weight"],
                    f"weights add up to {expected:g} (budget {_num(p['budget_weight'])} + indicators "
                    f"{scoring.round2(ind['weight']):g}), printed total weight {_num(p['total_weight'])}",
                    line=line,
                )
            )
    if (
        ind["n"]
        and not ind["score_missing"]
        and not is_missing(p.get("budget_score"))
        and not is_missing(p.get("total_score"))
    ):
        expected = scoring.round2(p["budget_score"] + ind["score"])
        if not close(expected, p["total_score"], TOLERANCE_POINTS):
            out.append(
                _row(
                    "score_total_mismatch",
                    fid,
                    expected,
                    p["total_score"],
                    f"scores add up to {expected:g} (budget {_num(p['budget_score'])} + indicators "
                    f"{scoring.round2(ind['score']):g}), printed total score {_num(p['total_score'])}",
                    line=line,
                )
            )
    return out


def _has(value) -> bool:
    return not is_missing(value)


def indicator_checks(r: dict) -> list[dict]:
    """The indicator-level checks of one row of scored indicators."""
    out = []
    at = dict(form_id=r["form_id"], indicator_order=r["indicator_order"], line=r.get("line"))
    name = r.get("indicator_name") or ""
    weight: Any = r.get("weight")  # numbers, or None (tested before use)
    score: Any = r.get("score")
    scored = _has(weight) and _has(score)
    target_raw, actual_raw = r.get("target_raw"), r.get("actual_raw")
    if scored and score > weight + TOLERANCE_POINTS:
        out.append(
            _row(
                "score_above_weight",
                expected=weight,
                printed=score,
                message=f"{name}: score {score:g} above weight {weight:g}",
                **at,
            )
        )
    verifiable, met = bool(r.get("verifiable")), r.get("met")
    t: Any = r.get("compared_target")
    a: Any = r.get("compared_actual")
    if verifiable and met is False and scored and score >= weight - TOLERANCE_POINTS:
        out.append(
            _row(
                "full_score_missed_target",
                expected=r.get("rule_score"),
                printed=score,
                message=f"{name}: target {target_raw!s}, actual {actual_raw!s} ({r['direction']} is better) "
                f"scored {score:g} of {weight:g}; the rule gives {r.get('rule_score'):g}",
                **at,
            )
        )
    if verifiable and met is True and scored and score < weight - TOLERANCE_POINTS:
        out.append(
            _row(
                "below_weight_met_target",
                expected=weight,
                printed=score,
                message=f"{name}: target {target_raw!s} met by {actual_raw!s} but scored {score:g} of {weight:g}",
                **at,
            )
        )
    if verifiable and r.get("target_comparator") in (">=", "<=") and abs(a - t) <= 1e-9 * max(1.0, abs(t)):
        out.append(
            _row(
                "actual_at_threshold",
                expected=t,
                printed=a,
                message=f"{name}: actual {actual_raw!s} is exactly the bound of {target_raw!s}",
                **at,
            )
        )
    if verifiable and met is True:
        ratio = None
        if r["direction"] == "higher":
            ratio = a / t if t > 0 else None
            fires = (ratio is not None and ratio > FAR_EXCEEDED) or (t == 0 and a > 0)
            what = "target set low"
        elif r["direction"] == "lower":
            ratio = t / a if a > 0 else None
            fires = (ratio is not None and ratio > FAR_EXCEEDED) or (a == 0 and t > 0)
            what = "ceiling set high"
        else:
            fires = False
        if fires:
            how = f"{ratio:.2f}x" if ratio is not None else "a target of 0" if t == 0 else "an actual of 0"
            out.append(
                _row(
                    "target_far_exceeded",
                    expected=FAR_EXCEEDED,
                    printed=ratio,
                    message=f"{name}: target {target_raw!s}, actual {actual_raw!s} ({how}): {what}",
                    **at,
                )
            )
    if (
        r.get("target_unit") == "%"
        and _has(r.get("target_number"))
        and r["target_number"] > 100 + TOLERANCE_POINTS
        and r.get("target_comparator") not in ("<=", "<")
    ):
        out.append(
            _row(
                "percent_target_above_100",
                expected=100,
                printed=r["target_number"],
                message=f"{name}: percentage target {target_raw!s} above 100%",
                **at,
            )
        )
    if scoring.same_text(target_raw, actual_raw):
        out.append(
            _row(
                "actual_repeats_target",
                expected=r.get("target_number"),
                printed=r.get("actual_number"),
                message=f"{name}: actual {actual_raw!s} is the target's text",
                **at,
            )
        )
    if r.get("target_comparator") in (">=", ">") and scoring.is_cost(r.get("level1"), r.get("level2")):
        if verifiable:
            how = (
                f"scored as a ceiling: {'met' if met else 'missed'}, rule {_num(r.get('rule_score'))}; "
                f"as printed: {'met' if r.get('literal_met') else 'missed'}, rule {_num(r.get('literal_rule_score'))}"
                if _has(r.get("rule_score")) and _has(r.get("literal_rule_score"))
                else f"scored as a ceiling: {'met' if met else 'missed'}"
            )
        else:
            how = "not re-scored (" + str(r.get("unverifiable_reason")) + ")"
        out.append(
            _row(
                "cost_target_floor",
                expected=r.get("target_number"),
                printed=a if verifiable else r.get("actual_number"),
                message=f"{name}: cost target {target_raw!s} is printed as a floor; actual {actual_raw!s}; {how}",
                **at,
            )
        )
    return out


def fund_checks(funds: list[dict]) -> list[dict]:
    """年度资金总额 against the sum of the fund lines below it, per amount column; a
    column is compared only when at least one fund line prints an amount in it.
    (Plain Python over the parsed rows: a pandas group-by per form costs more than the sums.)"""
    out = []
    by_form: dict[str, list[dict]] = {}
    for fund in funds:
        by_form.setdefault(fund["form_id"], []).append(fund)
    for form_id, lines in by_form.items():
        total = next((f for f in lines if f["fund_line"] == "total"), None)
        parts = [f for f in lines if f["fund_line"] != "total"]
        if total is None or not parts:
            continue
        for column in FUND_AMOUNTS:
            printed = total.get(column)
            values = [f[column] for f in parts if not is_missing(f.get(column))]
            if is_missing(printed) or not values:
                continue
            expected = float(sum(values))
            if not close(expected, printed, TOLERANCE_AMOUNT):
                out.append(
                    _row(
                        "fund_lines_total_mismatch",
                        form_id,
                        expected,
                        printed,
                        f"{column}: fund lines add up to {expected:g} 万元, 年度资金总额 prints {_num(printed)}",
                        line=total.get("line"),
                    )
                )
    return out


def check_rows(
    projects: list[dict], indicators: list[dict], funds: list[dict] | None = None, sums: dict[str, dict] | None = None
) -> list[dict]:
    """The checks table's rows for scored projects and indicators (rows; sums from
    scoring.sums_by_form), ordered by form, indicator (form-level first) and check."""
    sums = scoring.sums_by_form(indicators) if sums is None else sums
    rows = fund_checks(funds) if funds else []
    for p in projects:
        rows += form_checks(p, sums.get(p["form_id"], scoring.NO_INDICATORS))
    for r in indicators:
        rows += indicator_checks(r)
    order = {name: i for i, name in enumerate(CHECKS)}
    return sorted(rows, key=lambda c: (c["form_id"], c["indicator_order"] or 0, order[c["check"]]))


def derive(rows: dict[str, list[dict]], rule: Rule = BEIJING) -> dict[str, list[dict]]:
    """The pipeline's rows (dicts, missing values as None) with the re-scored columns
    added to projects and indicators (in place: the rows are the pipeline's own), and the
    checks table's rows; other tables passed through. Plain Python over rows: a batch of 3,000 forms paid more for building
    DataFrames and converting them back than for the scoring itself."""
    indicators = scoring.score_indicator_rows(rows.get("indicators", []), rule)
    sums = scoring.sums_by_form(indicators)
    projects = scoring.score_project_rows(rows.get("projects", []), sums, rule)
    checks = check_rows(projects, indicators, rows.get("funds", []), sums)
    return {**rows, "projects": projects, "indicators": indicators, "checks": checks}
