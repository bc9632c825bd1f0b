"""`python -m selfeval.analysis.findings` runs on freshly written tables, and every number it prints
equals one computed here directly from the tables' printed columns (not from findings.py)."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest

import etl
from selfeval.paths import ROOT
from selfeval.run import pipeline

XIAOGUAN = "北京市朝阳区人民政府小关街道办事处"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("processed")
    pipeline.run(etl.RAW_DIR, out, use_cache=False)
    result = subprocess.run(
        [sys.executable, "-m", "selfeval.analysis.findings", "--processed", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    tables = {name: pd.read_parquet(out / f"{name}.parquet") for name in ("projects", "indicators")}
    return result, tables


def test_runs(written):
    result, _ = written
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("What the seed data shows")


def test_missing_tables_exit_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "selfeval.analysis.findings", "--processed", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "run etl.py first" in result.stderr


def _count(stdout: str, pattern: str) -> int:
    match = re.search(pattern, stdout)
    assert match, pattern
    return int(match.group(1))


def test_leads_with_evidence_and_the_inflation_range(written):
    lines = written[0].stdout.splitlines()
    assert lines[1].startswith("- Evidence behind the self-awarded points:")
    bullets = [line for line in lines if line.startswith("- ")]
    assert bullets[1].startswith("- Inflation range:")
    assert "assumes every point the form does not contradict was earned" in bullets[1]


def test_numbers_equal_an_independent_computation(written):
    result, tables = written
    out = result.stdout
    p, ind = tables["projects"], tables["indicators"]
    assert len(p) == 70

    # the evidence profile: self-awarded points by the evidence class of their actual; the budget
    # line (every seed form prints its amounts) is measured; 002#005 prints no budget score
    points = ind.groupby("evidence").score.sum()
    budget = p.budget_score.fillna(0).sum()
    total = points.sum() + budget
    measured = (points["measured"] + budget) / total
    assert f"measured {100 * measured:.1f}% of {total:,.2f} points in 70 forms" in out
    assert f"restated {100 * points['restated'] / total:.1f}%" in out

    # the range: self - rule and self - substantiated, per form, mean
    low = (p.self_total - p.rule_total).round(2)
    high = (p.self_total - p.substantiated_total).round(2)
    assert f"Inflation range: {low.mean():+.2f} to {high.mean():+.2f} points per form" in out
    # per unit (003 line 625: the 小关 office prints its department as "618-小关")
    units = p.department.replace({"618-小关": XIAOGUAN})
    for unit, group in p.assign(low=low, high=high).groupby(units):
        assert (
            f"    {unit}: {len(group)} forms; {group.self_total.mean():.2f}, {group.rule_total.mean():.2f}, "
            f"{group.substantiated_total.mean():.2f}; {group.low.mean():+.2f} to {group.high.mean():+.2f}"
        ) in out
    # every form is named
    for form_id in p.form_id:
        stem, _, ordinal = form_id.partition("#")
        assert f"{stem[:3]}#{ordinal}" in out

    # both sides of the rule, one threshold (0.01 points)
    assert _count(out, r"- (\d+) forms score themselves at least 0.01 points above") == int((low >= 0.01).sum()) == 8
    assert _count(out, r"\); (\d+) score below it") == int((low <= -0.01).sum()) == 6

    # full self-score: self total reaches the printed total weight
    assert f"{int((p.self_total >= p.total_weight - 0.01).sum())} of 70 forms" in out
    assert (p.total_score == 100).sum() == 54

    # forms that do not add up: printed rate vs executed / full-year, weights and scores vs 总分
    sums = ind.groupby("form_id")[["weight", "score"]].sum()
    q = p.set_index("form_id").join(sums)
    rate_off = (q.executed / q.full_year_budget - q.execution_rate).abs() > 0.0001 + 1e-9
    weights_off = (q.budget_weight + q.weight - q.total_weight).abs() > 0.01 + 1e-9
    scores_off = (q.budget_score + q.score - q.total_score).abs() > 0.01 + 1e-9  # NA budget score: not compared
    off = rate_off.fillna(False) | weights_off.fillna(False) | scores_off.fillna(False)
    assert _count(out, r"- (\d+) forms? do not add up") == int(off.sum()) == 2
    # the checks named as the reports name them (texts.yaml codes.check)
    assert f"Printed rate differs from the amounts {int(rate_off.fillna(False).sum())}," in out
    assert f"Scores do not add up {int(scores_off.fillna(False).sum())}," in out

    # forms left out are counted and named in the text
    assert "(left out: 12 forms print no initial budget)" in out
    assert f"{int(p.initial_budget.isna().sum())} forms print no initial budget" in out


def test_readme_quotes_the_command_output(tmp_path):
    """The README's 'what the seed data shows' block is the command's output, not typed by hand."""
    import subprocess
    import sys

    import etl
    from selfeval.run import pipeline as _pipeline

    _pipeline.run(etl.RAW_DIR, tmp_path, use_cache=False)
    out = subprocess.run(
        [sys.executable, "-m", "selfeval.analysis.findings", "--processed", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- findings:start -->")[1].split("<!-- findings:end -->")[0]
    quoted = block.strip().removeprefix("```text").removesuffix("```").strip()
    assert quoted == out.strip().replace(str(tmp_path), "data/processed"), "run `make findings`"
