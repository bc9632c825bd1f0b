"""What the data shows, computed from data/processed, so the README quotes printed numbers.

    python -m selfeval.analysis.findings [--processed DIR] [--update-readme]

Every number comes from selfeval/analysis/measures.py (each measure defined once, with the forms it
leaves out). The list leads with what an auditor asks first: the evidence behind the
self-awarded points and the inflation range (self - rule ... self - substantiated), for the
whole corpus and by unit, with the forms named; then the other measures.
Run etl.py first: this reads the tables as they are and rebuilds nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from selfeval.analysis import measures
from selfeval.analysis.measures import GRADE_ZH
from selfeval.paths import PROCESSED_DIR, README
from selfeval.score.values import EVIDENCE_CLASSES
from selfeval.store import outputs

# after the two leading measures, in this order
OTHERS = [
    "forms_off_rule",
    "grade_changes",
    "full_self_score",
    "missed_targets",
    "weight_split",
    "bare_claim_achievements",
    "empty_notes_on_misses",
    "verifiable_weight_share",
    "cost_restates_budget",
    "near_duplicate_names",
    "execution_rate",
    "under_execution",
    "budget_changed",
    "execution_vs_indicator_score",
    "forms_not_adding_up",
    "checks_fired",
]


def compute(tables: dict[str, pd.DataFrame]) -> dict[str, measures.Result]:
    """The results behind the list (measures.compute on every measure)."""
    return measures.compute(tables)


def _pct(x) -> str:
    return "-" if x is None or pd.isna(x) else f"{100 * x:.1f}%"


def render(results: dict[str, measures.Result], tables: dict[str, pd.DataFrame], source: str = "data/processed") -> str:
    p = tables["projects"]
    lines = [
        f"What the seed data shows ({source}: {len(p)} forms from {p['source_file'].nunique()} files, "
        f"{len(tables['indicators'])} indicators)"
    ]
    profile = results["evidence_profile"]
    lines.append(f"- {profile.text}.")
    lines.append(
        "  Classes: measured = a value of its own (the budget line when its amounts are printed); restated = "
        "the actual repeats the target (≥90% -> 90%); bare claim = 已完成, 达标, 可达到预期指标, 优, ..."
    )
    lines.append("  By unit (forms: " + " / ".join(c.replace("_", " ") for c in EVIDENCE_CLASSES) + "):")
    for unit, row in (profile.by_unit if profile.by_unit is not None else pd.DataFrame()).iterrows():
        lines.append(f"    {unit}: {int(row['forms'])} forms: " + " / ".join(_pct(row[c]) for c in EVIDENCE_CLASSES))
    inflation = results["inflation_range"]
    lines.append(f"- {inflation.text}.")
    lines.append("  By unit (forms; mean self, rule, substantiated; range of inflation):")
    for unit, row in (inflation.by_unit if inflation.by_unit is not None else pd.DataFrame()).iterrows():
        lines.append(
            f"    {unit}: {int(row['forms'])} forms; {row['self_mean']:.2f}, {row['rule_mean']:.2f}, "
            f"{row['substantiated_mean']:.2f}; {row['lower']:+.2f} to {row['upper']:+.2f}"
        )
    lines.append(
        "  Forms (self / rule / substantiated, grades 自评/规则/有据, range; measured share of the points; "
        "forms with the same numbers on one line):"
    )
    shares = profile.forms.set_index("form_id")["measured_share"]
    forms = inflation.forms.assign(measured=inflation.forms["form_id"].map(shares))
    for unit, group in forms.groupby(forms["unit"].fillna("(not printed)"), sort=True):
        lines.append(f"    {unit}:")
        group = group.assign(
            key=[
                f"{r.self_total:.2f} / {r.rule_total:.2f} / {r.substantiated_total:.2f} "
                + "/".join(GRADE_ZH.get(g, "-") for g in (r.self_grade, r.rule_grade, r.substantiated_grade))
                + f", {r.lower:+.2f} to {r.upper:+.2f}; measured {_pct(r.measured)}"
                for r in group.itertuples()
            ]
        )
        for key, same in sorted(group.groupby("key", sort=False), key=lambda kv: -kv[1]["upper"].iloc[0]):
            if len(same) == 1:
                r = same.iloc[0]
                lines.append(f"      {measures._short(r.form_id)} {r.project_name}: {key}")
            else:
                ids = ", ".join(measures._short(f) for f in sorted(same["form_id"]))
                lines.append(f"      {len(same)} forms ({ids}): {key}")
    for name in OTHERS:
        lines.append(f"- {results[name].text}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--processed", type=Path, default=PROCESSED_DIR, help="folder of the tables (data/processed)")
    parser.add_argument(
        "--update-readme", action="store_true", help="also write the list into README.md between its findings markers"
    )
    args = parser.parse_args(argv)
    try:
        tables = outputs.read_tables(args.processed)
    except OSError as exc:
        print(f"error: cannot read the tables in {args.processed}: {exc}; run etl.py first", file=sys.stderr)
        return 2
    if "checks" not in tables or "inflation_upper" not in tables.get("projects", pd.DataFrame()).columns:
        print(f"error: {args.processed} has no re-scored tables; run etl.py first", file=sys.stderr)
        return 2
    source = "data/processed" if args.processed.resolve() == PROCESSED_DIR else str(args.processed)
    text = render(compute(tables), tables, source)
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
