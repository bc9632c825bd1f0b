"""What the data shows, computed from data/processed, so the README quotes printed numbers.

    python -m selfeval.analysis.findings [--processed DIR]

Prints a short list: how many forms score 100, how many give full marks on a missed
target, how many do not add up, how much of the weight the rule can re-score, and the
mean inflation (self total - rule total, points) per unit.
Run etl.py first: this reads the tables as they are and rebuilds nothing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from selfeval.analysis import notebook
from selfeval.paths import PROCESSED_DIR, README
from selfeval.store import outputs
from selfeval.vocab.value_sets import ARITHMETIC, CHECKS

GRADE_ZH = {"excellent": "优", "good": "良", "fair": "中", "poor": "差"}
def _plural(k: int, word: str) -> str:
    return f"{k} {word}" + ("" if k == 1 else "s")


def compute(tables: dict[str, pd.DataFrame]) -> dict:
    """The numbers behind the list, as plain Python values."""
    projects, indicators, checks = tables["projects"], tables["indicators"], tables["checks"]
    n = len(projects)
    fired = checks.groupby("check")["form_id"]
    forms_with = {name: set(fired.get_group(name)) if name in fired.groups else set() for name in CHECKS}
    rows_with = {name: int((checks["check"] == name).sum()) for name in CHECKS}
    missed = checks[checks["check"] == "full_score_missed_target"]
    weight_total = projects["budget_weight"].fillna(0).sum() + indicators["weight"].fillna(0).sum()
    verifiable_weight = (projects["verifiable_weight_share"] * (
        projects["budget_weight"].fillna(0) + projects["form_id"].map(indicators.groupby("form_id")["weight"].sum())
        .fillna(0))).sum()

    units = notebook.unit_name(projects).fillna("(not printed)")
    by_unit = sorted(((unit, int(g.notna().sum()), float(g.mean()), float(g.sum()))
                      for unit, g in projects["inflation"].groupby(units)), key=lambda row: (-row[2], row[0]))

    return {
        "files": int(projects["source_file"].nunique()),
        "forms": n,
        "indicators": len(indicators),
        "score_100": int((projects["self_total"] == 100).sum()),
        "self_grades": {g: int((projects["self_grade"] == g).sum()) for g in GRADE_ZH},
        "rule_grades": {g: int((projects["rule_grade"] == g).sum()) for g in GRADE_ZH},
        "grade_changed": int((projects["self_grade"] != projects["rule_grade"]).sum()),
        "full_marks_missed_forms": len(forms_with["full_score_missed_target"]),
        "full_marks_missed_indicators": rows_with["full_score_missed_target"],
        "full_marks_missed_examples": [
            (row.form_id, row.message) for row in missed.itertuples()],
        "not_add_up_forms": len(set().union(*(forms_with[c] for c in ARITHMETIC))),
        "not_add_up_by_check": {c: len(forms_with[c]) for c in ARITHMETIC},
        "budget_score_off_forms": len(forms_with["budget_score_mismatch"]),
        "verifiable_indicators": int(indicators["verifiable"].sum()),
        "verifiable_weight_share": float(verifiable_weight / weight_total) if weight_total else None,
        "unverifiable_reasons": {str(k): int(v) for k, v in
                                 indicators["unverifiable_reason"].value_counts().items()},
        "inflation_mean": float(projects["inflation"].mean()),
        "inflation_total": float(projects["inflation"].sum()),
        "inflated_forms": int((projects["inflation"] > 0.01).sum()),
        "deflated_forms": int((projects["inflation"] < -0.01).sum()),
        "by_unit": by_unit,
        "checks": rows_with,
        "checks_forms": {name: len(forms) for name, forms in forms_with.items()},
    }


def _grades(counts: dict) -> str:
    return ", ".join(f"{GRADE_ZH[g]} {n}" for g, n in counts.items() if n)


def render(f: dict, source: str = "data/processed") -> str:
    n = f["forms"]
    pct = lambda k: f"{100 * k / n:.0f}%" if n else "-"  # noqa: E731
    lines = [f"What the seed data shows ({source}: {n} forms from {f['files']} files, {f['indicators']} indicators)"]
    lines.append(f"- {f['score_100']} of {n} forms ({pct(f['score_100'])}) give themselves exactly 100 points; "
                 f"self grades: {_grades(f['self_grades'])}; rule grades: {_grades(f['rule_grades'])} "
                 f"({f['grade_changed']} forms change grade).")
    lines.append(f"- {_plural(f['full_marks_missed_forms'], 'form')} give full marks on a quantitative target their own printed "
                 f"actual misses ({f['full_marks_missed_indicators']} indicators):")
    lines += [f"    {form_id}: {message}" for form_id, message in f["full_marks_missed_examples"]]
    parts = ", ".join(f"{c} {k}" for c, k in f["not_add_up_by_check"].items())
    lines.append(f"- {_plural(f['not_add_up_forms'], 'form')} do not add up (printed numbers contradict each other): {parts}.")
    lines.append(f"- {_plural(f['budget_score_off_forms'], 'form')} print a budget-execution score other than the rule's "
                 "min(executed / full-year budget, 1) x weight (or none).")
    share = f["verifiable_weight_share"]
    reasons = ", ".join(f"{k} {v}" for k, v in f["unverifiable_reasons"].items())
    lines.append(f"- The rule can re-score {f['verifiable_indicators']} of {f['indicators']} indicators and "
                 f"{100 * share:.1f}% of all weight (budget lines included); the others keep their self-score "
                 f"({reasons}).")
    lines.append(f"- Inflation (self total - rule total): mean {f['inflation_mean']:+.2f} points per form, "
                 f"{f['inflation_total']:+.2f} in all; {f['inflated_forms']} forms above the rule, "
                 f"{f['deflated_forms']} below it.")
    lines.append("- Mean inflation per unit (主管部门 without its budget code; forms, mean, total points):")
    lines += [f"    {unit}: {_plural(k, 'form')}, mean {mean:+.2f}, total {total:+.2f}"
              for unit, k, mean, total in f["by_unit"]]
    fired = ", ".join(f"{name} {k} ({_plural(f['checks_forms'][name], 'form')})" for name, k in f["checks"].items())
    lines.append(f"- Checks fired (rows): {fired}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--processed", type=Path, default=PROCESSED_DIR, help="folder of the tables (data/processed)")
    parser.add_argument("--update-readme", action="store_true",
                        help="also write the list into README.md between its findings markers")
    args = parser.parse_args(argv)
    try:
        tables = outputs.read_tables(args.processed)
    except OSError as exc:
        print(f"error: cannot read the tables in {args.processed}: {exc}; run etl.py first", file=sys.stderr)
        return 2
    if "checks" not in tables or "inflation" not in tables.get("projects", pd.DataFrame()).columns:
        print(f"error: {args.processed} has no re-scored tables; run etl.py first", file=sys.stderr)
        return 2
    source = "data/processed" if args.processed.resolve() == PROCESSED_DIR else str(args.processed)
    text = render(compute(tables), source)
    print(text)
    if args.update_readme:
        update_readme(text)
    return 0


START, END = "<!-- findings:start -->", "<!-- findings:end -->"


def update_readme(text: str, readme: Path = README) -> None:
    """Replace the block between the README's findings markers with the command's output."""
    content = readme.read_text(encoding="utf-8")
    head, rest = content.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n```text\n{text}\n```\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
