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
    result = subprocess.run([sys.executable, "-m", "selfeval.analysis.findings", "--processed", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    tables = {name: pd.read_parquet(out / f"{name}.parquet") for name in ("projects", "indicators")}
    return result, tables


def test_runs(written):
    result, _ = written
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("What the seed data shows")


def test_missing_tables_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "selfeval.analysis.findings", "--processed", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "run etl.py first" in result.stderr


def _count(stdout: str, pattern: str) -> int:
    match = re.search(pattern, stdout)
    assert match, pattern
    return int(match.group(1))


def test_numbers_equal_an_independent_computation(written):
    result, tables = written
    out = result.stdout
    p, ind = tables["projects"], tables["indicators"]

    # forms scoring 100: the printed 总分 得分
    assert f"{int((p.total_score == 100).sum())} of {len(p)} forms" in out
    assert (p.total_score == 100).sum() == 54 and len(p) == 70

    # full marks on a missed target: met is False and the self-score is the weight
    full = ind[(ind.met == False) & (ind.score >= ind.weight - 0.01)]  # noqa: E712
    assert _count(out, r"- (\d+) forms? give full marks") == full.form_id.nunique() == 3
    assert _count(out, r"\((\d+) indicators\)") == len(full)
    for form_id in full.form_id:
        assert f"    {form_id}: " in out

    # forms that do not add up: printed rate vs executed / full-year, weights and scores vs 总分
    sums = ind.groupby("form_id")[["weight", "score"]].sum()
    q = p.set_index("form_id").join(sums)
    rate_off = (q.executed / q.full_year_budget - q.execution_rate).abs() > 0.0001 + 1e-9
    weights_off = (q.budget_weight + q.weight - q.total_weight).abs() > 0.01 + 1e-9
    scores_off = (q.budget_score + q.score - q.total_score).abs() > 0.01 + 1e-9  # NA budget score: not compared
    off = rate_off.fillna(False) | weights_off.fillna(False) | scores_off.fillna(False)
    assert _count(out, r"- (\d+) forms? do not add up") == int(off.sum()) == 2
    assert f"execution_rate_mismatch {int(rate_off.fillna(False).sum())}," in out
    assert f"weights_total_mismatch {int(weights_off.fillna(False).sum())}," in out
    assert f"score_total_mismatch {int(scores_off.fillna(False).sum())}," in out
    assert "fund_lines_total_mismatch 0." in out  # no seed form's fund lines contradict their total

    # inflation: printed total - (min(rate, 1) x weight rounded + the indicators' rule scores)
    budget = ((q.executed / q.full_year_budget).clip(upper=1) * q.budget_weight).astype(float).round(2)
    inflation = (q.total_score - (budget + ind.groupby("form_id").rule_score.sum())).astype(float).round(2)
    assert f"mean {inflation.mean():+.2f} points per form" in out
    # 003 line 625: the 小关 office prints its department as "618-小关" (and 618001-... as implementing unit)
    units = q.department.replace({"618-小关": XIAOGUAN})
    for unit, values in inflation.groupby(units):
        plural = "form" if len(values) == 1 else "forms"
        assert f"    {unit}: {len(values)} {plural}, mean {values.mean():+.2f}, total {values.sum():+.2f}" in out


def test_readme_quotes_the_command_output(tmp_path):
    """The README's 'what the seed data shows' block is the command's output, not typed by hand."""
    import subprocess
    import sys

    import etl
    from selfeval.run import pipeline as _pipeline

    _pipeline.run(etl.RAW_DIR, tmp_path, use_cache=False)
    out = subprocess.run([sys.executable, "-m", "selfeval.analysis.findings", "--processed", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- findings:start -->")[1].split("<!-- findings:end -->")[0]
    quoted = block.strip().removeprefix("```text").removesuffix("```").strip()
    assert quoted == out.strip().replace(str(tmp_path), "data/processed"), "run `make findings`"
