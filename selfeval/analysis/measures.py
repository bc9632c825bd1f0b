"""Every measure the reports quote, defined once: name, labels, unit, definition, threshold
and the function that computes it from the tables.

Interface (for the notebooks, the report index and `python -m selfeval.analysis.findings`):

    from selfeval.analysis import measures
    results = measures.compute(tables)                 # dict name -> Result, every measure
    results = measures.compute(tables, ["inflation_range", "evidence_profile"])
    top = measures.headline(tables, "02_score_inflation")   # list[Result], 3-7 per notebook
    measures.MEASURES["forms_off_rule"]                # the Measure: labels, definition, threshold

`tables` is the dict of DataFrames `etl.load()` or `notebook.load()` returns (projects,
indicators, funds, checks, ...); a selection's tables (`notebook.select(...).tables`) work
the same, so a notebook computes a measure on its own forms. Projects need no `unit`
column: it is added from notebook.unit_name() when absent.

A Result has:
    value      the number (int / float), or a dict of numbers for a measure with several
               sides ({"above": 7, "below": 6, "equal": 57}) or classes (the evidence profile)
    forms      DataFrame form_id, project_name, unit (+ the measure's own columns): the
               forms it concerns (e.g. the forms above the rule)
    left_out   DataFrame form_id, project_name, reason: the forms the measure cannot use
    by_unit    DataFrame (or None): the measure per unit
    sentence(lang)  one sentence in zh or en with the value, and the forms left out (the
               texts are in vocab/texts.yaml measure_sentences and measure_left_out)
    text, text_zh   sentence("en"), sentence("zh")
    as_dict()  plain values for findings.json

A measure that reads indicators or totals (needs_complete, the default) is computed without
the forms cut off (projects.completeness == "partial"); they are its left-out forms, reason
"partial", so every sentence says how many it could not use. Budget execution reads only the
fund lines a partial form still has, and keeps it. A form read a second time from another file
(projects.same_form_as) is left out of every measure, reason "same_form".

NOTEBOOKS maps each notebook ('01_budget_execution', '02_score_inflation',
'03_indicator_phrasing') to its headline measures. Thresholds are module constants, named
in each measure's definition, so a number means the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from selfeval.analysis import present
from selfeval.analysis.phrasing import EMPTY_NOTES, NEAR_DUPLICATE
from selfeval.score.values import BARE_CLAIMS, EVIDENCE_CLASSES, UNIT_INFO, evidence_text
from selfeval.vocab.value_sets import ARITHMETIC, CHECKS, COST_LEVEL2, TOLERANCE_POINTS

# Inflation printed to the cent: a form is above (below) the rule when self - rule >= 0.01
# (<= -0.01) points, the precision of the printed scores (scoring.TOLERANCE_POINTS).
OFF_RULE = TOLERANCE_POINTS
UNDER_EXECUTION = 0.9  # "projects under 90% execution"
# 财预〔2020〕10号: 产出 50, 效益 30, 满意度 10 (with 10 for budget execution).
WEIGHT_NORM = {"output": 50.0, "effect": 30.0, "satisfaction": 10.0}
# actual / target ratios that look like a misplaced decimal point or a lost "万": x10, /10, x100, /100
TYPO_RATIOS = (10.0, 0.1, 100.0, 0.01)
TYPO_TOLERANCE = 1e-6  # relative: "exactly" x10
AMOUNT_TOLERANCE = 0.0001  # 万元: one yuan, the precision the amounts are printed in
CLASS_ZH = {"measured": "实测", "restated": "复述指标值", "bare_claim": "空泛声明", "missing": "缺失"}
GRADE_ZH = {"excellent": "优", "good": "良", "fair": "中", "poor": "差"}


@dataclass(frozen=True)
class Measure:
    name: str
    label_zh: str
    label_en: str
    unit: str
    definition_en: str
    definition_zh: str
    threshold: float | None
    function: Callable[[dict[str, pd.DataFrame], Measure], Result] = field(repr=False)
    # reads indicators or totals: a form cut off (completeness partial) would count as a form
    # with fewer indicators or no total, so compute() leaves partial forms out and says so
    needs_complete: bool = True


@dataclass
class Result:
    measure: Measure
    value: Any
    forms: pd.DataFrame
    left_out: pd.DataFrame  # form_id, project_name, reason (a key of texts.yaml measure_left_out)
    sentences: dict[str, str]  # the sentence in each language, without the left-out clause
    by_unit: pd.DataFrame | None = None
    # a measure of indicators: every indicator row it counts (form_id, line, indicator_name,
    # target_raw, actual_raw); its sentence names the first few
    rows: pd.DataFrame | None = None

    @property
    def name(self) -> str:
        return self.measure.name

    def sentence(self, lang: str, brief: bool = False) -> str:
        """The measure's sentence in *lang* with its numbers, and the forms it left out; *brief*:
        without the indicator rows it lists, where it lists some (for the findings box)."""
        left = self.left_out_text(lang)
        said = self.sentences.get(f"{lang}_brief", self.sentences[lang]) if brief else self.sentences[lang]
        return said + (present.text("measure_sentences.left_out", lang, reasons=left) if left else "")

    @property
    def text(self) -> str:
        return self.sentence("en")

    @property
    def text_zh(self) -> str:
        return self.sentence("zh")

    def left_out_text(self, lang: str = "en") -> str:
        """'12 forms print no initial budget' (one clause per reason), or ''."""
        if self.left_out.empty:
            return ""
        counts = self.left_out.groupby("reason", sort=False).size()
        return present.list_sep(lang).join(_reason(reason, n, lang) for reason, n in counts.items())

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "label_en": self.measure.label_en,
            "label_zh": self.measure.label_zh,
            "unit": self.measure.unit,
            "threshold": self.measure.threshold,
            "value": _plain(self.value),
            "forms": [f"{r.form_id} {r.project_name}" for r in self.forms.itertuples()],
            "left_out": [f"{r.form_id}: {_reason(r.reason, 1, 'en')[2:]}" for r in self.left_out.itertuples()],
            "rows": [_line(r, "en", values=True) for r in self.rows.itertuples()] if self.rows is not None else [],
            "text": self.text,
            "text_zh": self.text_zh,
        }


def _reason(reason: str, n: int, lang: str) -> str:
    """'12 forms print no initial budget' from the reason's key (texts.yaml measure_left_out)."""
    return present.text(f"measure_left_out.{reason}", lang, n=n)


MEASURES: dict[str, Measure] = {}


def measure(name, label_zh, label_en, unit, definition_en, definition_zh, threshold=None, needs_complete=True):
    """Register the decorated function as the measure `name`."""

    def register(function):
        MEASURES[name] = Measure(
            name, label_zh, label_en, unit, definition_en, definition_zh, threshold, function, needs_complete
        )
        return function

    return register


def compute(tables: dict[str, pd.DataFrame], names=None) -> dict[str, Result]:
    """The measures (all, or `names`) on these tables, by name, in registry order.

    A form published twice (projects.same_form_as) counts once: every measure leaves the
    later reading out. A measure that needs whole forms is computed without the partial
    ones. Both are listed as left out, so each sentence says how many forms it could not use."""
    tables = _prepared(tables)
    tables, again = analysable_forms(tables)
    complete, partial = complete_forms(tables)
    chosen = list(MEASURES) if names is None else list(names)
    results = {}
    for name in chosen:
        m = MEASURES[name]
        cut = m.needs_complete and not partial.empty
        r = m.function(complete if cut else tables, m)
        r.left_out = _concat(
            r.left_out,
            _left_out(partial, np.ones(len(partial), dtype=bool), "partial") if cut else _none_left_out(),
            _left_out(again, np.ones(len(again), dtype=bool), "same_form"),
        )
        results[name] = r
    return results


def analysable_forms(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The tables without the forms read a second time (projects.same_form_as: the same
    report as .docx and .pdf, say), and those forms' projects rows."""
    return _without(tables, "same_form_as", lambda column: column.notna())


def complete_forms(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The tables without the forms cut off (projects.completeness == "partial"), and those
    forms' projects rows."""
    return _without(tables, "completeness", lambda column: column == "partial")


def _without(tables, column: str, test) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The tables without the forms whose projects.<column> passes *test*, and their projects
    rows. Tables written before the column existed hold no such form."""
    projects = tables["projects"]
    if column not in projects:
        return tables, projects.iloc[0:0]
    out = test(projects[column]).fillna(False).to_numpy(dtype=bool)
    if not out.any():
        return tables, projects.iloc[0:0]
    dropped = projects[out].reset_index(drop=True)
    gone = set(dropped["form_id"])
    kept = {
        name: (frame[~frame["form_id"].isin(gone)].reset_index(drop=True) if "form_id" in frame else frame)
        for name, frame in tables.items()
    }
    return kept, dropped


NOTEBOOKS = {
    "01_budget_execution": [
        "execution_rate",
        "under_execution",
        "budget_changed",
        "execution_vs_indicator_score",
        "cost_restates_budget",
    ],
    "02_score_inflation": [
        "evidence_profile",
        "inflation_range",
        "forms_off_rule",
        "grade_changes",
        "missed_targets",
        "full_self_score",
        "weight_split",
    ],
    "03_indicator_phrasing": [
        "evidence_profile",
        "bare_claim_achievements",
        "verifiable_weight_share",
        "empty_notes_on_misses",
        "near_duplicate_names",
    ],
}


def headline(tables: dict[str, pd.DataFrame], notebook: str) -> list[Result]:
    """The 3-7 headline results of a notebook (NOTEBOOKS), in order."""
    results = compute(tables, NOTEBOOKS[notebook])
    return [results[name] for name in NOTEBOOKS[notebook]]


# --- helpers -------------------------------------------------------------------------------


def _prepared(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    projects = tables["projects"]
    if "unit" not in projects:
        from selfeval.analysis import notebook  # the one definition of a form's unit

        projects = projects.assign(unit=notebook.unit_name(projects))
    return {**tables, "projects": projects.reset_index(drop=True)}


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    return value


def _forms(projects: pd.DataFrame, mask=None, **columns) -> pd.DataFrame:
    p = projects if mask is None else projects[np.asarray(mask, dtype=bool)]
    out = pd.DataFrame(
        {
            "form_id": p["form_id"].astype(str),
            "project_name": p["project_name"].astype(object),
            "unit": p["unit"].astype(object),
        }
    )
    for name, values in columns.items():
        out[name] = (
            (values[np.asarray(mask, dtype=bool)] if mask is not None else values).to_numpy()
            if isinstance(values, pd.Series)
            else values
        )
    return out.reset_index(drop=True)


def _left_out(projects: pd.DataFrame, mask, reason: str) -> pd.DataFrame:
    p = projects[np.asarray(mask, dtype=bool)]
    return pd.DataFrame(
        {"form_id": p["form_id"].astype(str), "project_name": p["project_name"].astype(object), "reason": reason}
    ).reset_index(drop=True)


def _none_left_out() -> pd.DataFrame:
    return pd.DataFrame(columns=["form_id", "project_name", "reason"])


def _concat(*frames: pd.DataFrame) -> pd.DataFrame:
    frames = tuple(f for f in frames if not f.empty)
    return pd.concat(frames, ignore_index=True) if frames else _none_left_out()


def _float(series: pd.Series) -> pd.Series:
    return series.astype("Float64").astype(float)


def _names(frame: pd.DataFrame, lang: str, limit: int = 8) -> str:
    """'002#005 智能民情图, ...' (form number in its file and project name), at most *limit*."""
    shown = [f"{_short(r.form_id)} {r.project_name}" for r in frame.head(limit).itertuples()]
    return _joined(shown, len(frame), lang)


def _lines(frame: pd.DataFrame, lang: str, values: bool = False, limit: int = 5) -> str:
    """'003#035 line 800 name 100% -> 98%' for each indicator row of *frame*, at most *limit*."""
    shown = [_line(r, lang, values) for r in frame.head(limit).itertuples()]
    return _joined(shown, len(frame), lang, {"zh": "；", "en": "; "})


def _line(r, lang: str, values: bool) -> str:
    return present.text(
        "measure_sentences.line_values" if values else "measure_sentences.line",
        lang,
        form=_short(r.form_id),
        line=r.line,
        name=r.indicator_name,
        target=getattr(r, "target_raw", ""),
        actual=getattr(r, "actual_raw", ""),
    )


_ROW_COLUMNS = ["form_id", "line", "indicator_name", "target_raw", "actual_raw"]


def _joined(shown: list[str], total: int, lang: str, sep: dict[str, str] | None = None) -> str:
    if not shown:
        return present.text("measure_sentences.none", lang)
    more = total - len(shown)
    return (sep or {"zh": "、", "en": ", "})[lang].join(shown) + (
        " " + present.text("measure_sentences.more", lang, n=more) if more > 0 else ""
    )


def _short(form_id: str) -> str:
    stem, _, ordinal = form_id.partition("#")
    return f"{stem[:3]}#{ordinal}"


def _pct(x) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.1f}%"


def _sentences(key: str, **values) -> dict[str, str]:
    """The sentence *key* (texts.yaml measure_sentences) in each language; a value that is
    a function is called with the language (lists of names, words). A sentence that lists
    indicator rows may have a brief form without them (`<key>_brief`, as "<lang>_brief"): the
    findings box names the forms itself."""
    keys = {lang: key for lang in present.LANGS}
    if f"{key}_brief" in present.entry("measure_sentences"):
        keys |= {f"{lang}_brief": f"{key}_brief" for lang in present.LANGS}
    return {
        name: present.text(
            f"measure_sentences.{which}",
            name[:2],
            **{k: (v(name[:2]) if callable(v) else v) for k, v in values.items()},
        )
        for name, which in keys.items()
    }


def _result(m: Measure, value, forms, left, sentences: dict[str, str], by_unit=None, rows=None) -> Result:
    return Result(m, value, forms, left, sentences, by_unit, None if rows is None else rows[_ROW_COLUMNS])


# --- evidence and inflation (02) -----------------------------------------------------------------

SHARE_COLUMNS = [f"evidence_{c}_share" for c in EVIDENCE_CLASSES]


def _points_by_class(projects: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """Per form, the self-awarded points in each evidence class (as the projects' shares
    weight them: printed budget score + indicator scores)."""
    ind = indicators[indicators["form_id"].isin(projects["form_id"])]
    points = ind.assign(score=_float(ind["score"]).fillna(0)).pivot_table(
        index="form_id", columns="evidence", values="score", aggfunc="sum", fill_value=0.0
    )
    points = points.reindex(columns=list(EVIDENCE_CLASSES), fill_value=0.0).reindex(projects["form_id"], fill_value=0.0)
    budget = _float(projects["budget_score"]).fillna(0).to_numpy()
    has_amounts = projects["rule_budget_score"].notna().to_numpy()
    points["measured"] += np.where(has_amounts, budget, 0.0)
    points["missing"] += np.where(~has_amounts, budget, 0.0)
    return points.reset_index(drop=True)


@measure(
    "evidence_profile",
    "自评得分的证据构成",
    "Evidence behind the self-awarded points",
    "share of points",
    "Of all self-awarded points (printed budget score + indicator scores), the share whose actual is "
    "measured (a value of its own; the budget line when its amounts are printed), restated (repeats the "
    "target), a bare claim (已完成, 达标, ...) or missing.",
    "自评得分(预算执行得分+各指标得分)中，实际完成值为实测值、复述指标值、空泛声明或缺失的得分所占比例。",
)
def _evidence_profile(tables, m):
    p, ind = tables["projects"], tables["indicators"]
    points = _points_by_class(p, ind)
    total = points.sum(axis=1)
    none = total <= 0
    value = {c: float(points[c].sum() / total.sum()) if total.sum() > 0 else None for c in EVIDENCE_CLASSES}
    by_unit = points.groupby(p["unit"].fillna("(not printed)").to_numpy()).sum()
    by_unit = by_unit.div(by_unit.sum(axis=1).where(by_unit.sum(axis=1) > 0), axis=0)
    by_unit.insert(0, "forms", p.groupby(p["unit"].fillna("(not printed)")).size())
    forms = _forms(p, ~none, **{f"{c}_share": points[c] / total.where(total > 0) for c in EVIDENCE_CLASSES})
    classes = {
        "en": ", ".join(f"{c.replace('_', ' ')} {_pct(value[c])}" for c in EVIDENCE_CLASSES),
        "zh": "，".join(f"{CLASS_ZH[c]} {_pct(value[c])}" for c in EVIDENCE_CLASSES),
    }
    said = _sentences(
        "evidence_profile", classes=classes.get, points=f"{total.sum():,.2f}", forms=present.count(int((~none).sum()))
    )
    return _result(m, value, forms, _left_out(p, none, "award_no_points"), said, by_unit)


@measure(
    "inflation_range",
    "自评虚高区间",
    "Inflation range (self - rule ... self - substantiated)",
    "points per form",
    "Mean per form of self total minus rule total (the lower bound: the rule re-scores only what the "
    "printed numbers contradict and keeps every other self-score) and of self total minus substantiated "
    "total (the upper bound: points count only on measured indicators, 有据得分).",
    "每张表自评总分减规则总分(下限：只改正表中数字相矛盾之处)与自评总分减有据得分(上限：只计有实测依据的得分)的平均值。",
)
def _inflation_range(tables, m):
    p = tables["projects"]
    self_, rule, sub = (_float(p[c]) for c in ("self_total", "rule_total", "substantiated_total"))
    ok = self_.notna() & rule.notna() & sub.notna()
    low, high = (self_ - rule)[ok].round(2), (self_ - sub)[ok].round(2)
    value = {
        "lower": float(low.mean()) if ok.any() else None,
        "upper": float(high.mean()) if ok.any() else None,
        "lower_total": float(low.sum()),
        "upper_total": float(high.sum()),
        "self_mean": float(self_[ok].mean()) if ok.any() else None,
        "rule_mean": float(rule[ok].mean()) if ok.any() else None,
        "substantiated_mean": float(sub[ok].mean()) if ok.any() else None,
    }
    q = p[ok.to_numpy()].assign(
        low=low.to_numpy(),
        high=high.to_numpy(),
        self_=self_[ok].to_numpy(),
        rule=rule[ok].to_numpy(),
        sub=sub[ok].to_numpy(),
    )
    by_unit = (
        q.groupby(q["unit"].fillna("(not printed)"))
        .agg(
            forms=("form_id", "size"),
            self_mean=("self_", "mean"),
            rule_mean=("rule", "mean"),
            substantiated_mean=("sub", "mean"),
            lower=("low", "mean"),
            upper=("high", "mean"),
        )
        .sort_values("upper", ascending=False)
    )
    forms = _forms(
        p,
        ok,
        self_total=self_,
        rule_total=rule,
        substantiated_total=sub,
        lower=self_ - rule,
        upper=self_ - sub,
        self_grade=p["self_grade"],
        rule_grade=p["rule_grade"],
        substantiated_grade=p["substantiated_grade"],
    )
    said = (
        _sentences(
            "inflation_range",
            lower=f"{value['lower']:+.2f}",
            upper=f"{value['upper']:+.2f}",
            self=f"{value['self_mean']:.2f}",
            rule=f"{value['rule_mean']:.2f}",
            sub=f"{value['substantiated_mean']:.2f}",
        )
        if ok.any()
        else _sentences("inflation_range_none")
    )
    return _result(m, value, forms, _left_out(p, ~ok, "no_three_totals"), said, by_unit)


def off_rule(inflation: pd.Series) -> pd.Series:
    """'above', 'below' or 'equal' for each inflation (self - rule, points): the one threshold OFF_RULE."""
    x = _float(inflation)
    return pd.Series(
        np.select([x >= OFF_RULE - 1e-9, x <= -OFF_RULE + 1e-9], ["above", "below"], "equal"), index=inflation.index
    ).where(x.notna())


@measure(
    "forms_off_rule",
    "自评高于/低于规则的表",
    "Forms above and below the rule",
    "forms",
    f"Forms whose self total is at least {OFF_RULE} points above the rule total, and forms at least "
    f"{OFF_RULE} points below it (the precision the scores are printed to).",
    f"自评总分比规则总分高(低) {OFF_RULE} 分及以上的表数。",
    OFF_RULE,
)
def _forms_off_rule(tables, m):
    p = tables["projects"]
    side = off_rule(p["inflation"])
    value = {s: int((side == s).sum()) for s in ("above", "below", "equal")}
    forms = _forms(p, side.isin(["above", "below"]).to_numpy(), side=side, inflation=_float(p["inflation"]))
    forms = forms.sort_values("inflation", ascending=False, ignore_index=True)
    above, below = forms[forms.side == "above"], forms[forms.side == "below"]
    said = _sentences(
        "forms_off_rule",
        above=value["above"],
        below=value["below"],
        threshold=OFF_RULE,
        above_names=lambda lang: _names(above, lang),
        below_names=lambda lang: _names(below, lang),
    )
    return _result(m, value, forms, _left_out(p, side.isna(), "no_rule_total"), said)


@measure(
    "grade_changes",
    "等级变化",
    "Grades under each score",
    "forms",
    "Forms in each grade (优 >= 90, 良 80-90, 中 60-80, 差 < 60; 财预〔2020〕10号) under the self total, the "
    "rule total and the substantiated total, and how many change grade from self to each.",
    "按自评总分、规则总分、有据得分分别评定的等级(优良中差)分布及等级变化的表数。",
)
def _grade_changes(tables, m):
    p = tables["projects"]
    value = {
        kind: {g: int((p[f"{kind}_grade"] == g).sum()) for g in GRADE_ZH} for kind in ("self", "rule", "substantiated")
    }
    value["changed_rule"] = int((p["self_grade"] != p["rule_grade"]).fillna(False).sum())
    value["changed_substantiated"] = int((p["self_grade"] != p["substantiated_grade"]).fillna(False).sum())

    def show(kind):
        return lambda lang: _joined([f"{GRADE_ZH[g]} {n}" for g, n in value[kind].items() if n], 0, lang)

    said = _sentences(
        "grade_changes",
        self=show("self"),
        rule=show("rule"),
        sub=show("substantiated"),
        changed_rule=value["changed_rule"],
        changed_sub=value["changed_substantiated"],
    )
    changed = (p["self_grade"] != p["rule_grade"]).fillna(False)
    return _result(
        m,
        value,
        _forms(p, changed, self_grade=p["self_grade"], rule_grade=p["rule_grade"]),
        _left_out(p, p["self_grade"].isna(), "no_self_total"),
        said,
    )


def full_self_score(projects: pd.DataFrame) -> pd.Series:
    """The one definition of a full self-score: self total >= the form's total weight (printed
    总分 分值; 100 when not printed), within 0.01 points."""
    weight = _float(projects["total_weight"]).fillna(100.0)
    return (_float(projects["self_total"]) >= weight - TOLERANCE_POINTS).where(projects["self_total"].notna())


@measure(
    "full_self_score",
    "自评满分的表",
    "Forms giving themselves full marks",
    "forms",
    "Forms whose self total reaches the form's total weight (printed 总分 分值, 100 when not printed), "
    "within 0.01 points.",
    "自评总分达到该表总分值(未印则按100)的表数。",
    TOLERANCE_POINTS,
)
def _full_self_score(tables, m):
    p = tables["projects"]
    full = full_self_score(p)
    n, k = int(full.notna().sum()), int(full.fillna(False).sum())
    said = _sentences("full_self_score", k=k, n=n, share=_pct(k / n if n else None))
    return _result(m, k, _forms(p, full.fillna(False)), _left_out(p, full.isna(), "no_self_total"), said)


def typo_like(ratio: pd.Series) -> pd.Series:
    """actual / target exactly x10, /10, x100 or /100 (relative TYPO_TOLERANCE)."""
    r = _float(ratio)
    hit = pd.Series(False, index=ratio.index)
    for t in TYPO_RATIOS:
        hit |= ((r - t).abs() <= TYPO_TOLERANCE * t).fillna(False)
    return hit


@measure(
    "missed_targets",
    "未达成指标(疑似笔误另计)",
    "Missed targets: real misses and likely typos",
    "indicators",
    "Quantitative indicators whose printed actual misses the target, split into those whose actual / target "
    "is exactly x10, /10, x100 or /100 (likely a typo on the form) and real misses; with how many of each "
    "the unit scored full marks.",
    "实际值未达年度指标值的定量指标，按完成比恰为10倍、1/10、100倍或1/100(疑似笔误)与真实未达成分列，并列出其中自评满分的数量。",
    TYPO_TOLERANCE,
)
def _missed_targets(tables, m):
    p, ind = tables["projects"], tables["indicators"]
    missed = ind[(ind["met"] == False) & ind["form_id"].isin(p["form_id"])]  # noqa: E712
    typo = typo_like(missed["compared_actual"].astype("Float64") / missed["compared_target"].astype("Float64"))
    full = (_float(missed["score"]) >= _float(missed["weight"]) - TOLERANCE_POINTS).fillna(False)
    value = {
        "typo": int(typo.sum()),
        "real": int((~typo).sum()),
        "typo_full_marks": int((typo & full).sum()),
        "real_full_marks": int((~typo & full).sum()),
    }
    rows = missed.assign(typo=typo.to_numpy(), full_marks=full.to_numpy())
    forms = _forms(p, p["form_id"].isin(rows["form_id"]))
    detail = rows.merge(p[["form_id", "project_name"]], on="form_id")

    said = _sentences(
        "missed_targets",
        total=value["typo"] + value["real"],
        typo=value["typo"],
        real=value["real"],
        typo_list=lambda lang: _lines(detail[detail.typo], lang, values=True),
        real_list=lambda lang: _lines(detail[~detail.typo], lang, values=True),
        typo_full=value["typo_full_marks"],
        real_full=value["real_full_marks"],
    )
    return _result(m, value, forms, _none_left_out(), said, rows=detail)


@measure(
    "weight_split",
    "分值结构与规范",
    "Weight split against the 50/30/10 norm",
    "forms",
    "Forms whose indicator weights per level-1 differ from 产出 50 / 效益 30 / 满意度 10 (财预〔2020〕10号; "
    "成本 counted with 产出, as a level-2 of it in the 2020 template), by more than 0.01 points.",
    "各一级指标分值与产出50/效益30/满意度10(财预〔2020〕10号，成本并入产出)不符的表数。",
    TOLERANCE_POINTS,
)
def _weight_split(tables, m):
    p, ind = tables["projects"], tables["indicators"]
    ind = ind[ind["form_id"].isin(p["form_id"])]
    level = ind["level1"].astype(object).replace({"cost": "output"})
    weights = ind.assign(level=level, weight=_float(ind["weight"])).pivot_table(
        index="form_id", columns="level", values="weight", aggfunc="sum", fill_value=0.0
    )
    weights = weights.reindex(columns=list(WEIGHT_NORM), fill_value=0.0).reindex(p["form_id"])
    missing_weight = ind["weight"].isna().groupby(ind["form_id"]).any().reindex(p["form_id"], fill_value=False)
    unlabelled = ind["level1"].isna().groupby(ind["form_id"]).any().reindex(p["form_id"], fill_value=False)
    no_rows = weights.isna().all(axis=1)
    usable = ~(missing_weight.to_numpy() | unlabelled.to_numpy() | no_rows.to_numpy())
    w = weights.reset_index(drop=True)
    off = pd.Series(False, index=p.index)
    for level, norm in WEIGHT_NORM.items():
        off |= ((w[level] - norm).abs() > TOLERANCE_POINTS).fillna(False)
    off &= usable
    value = {
        "off_norm": int(off.sum()),
        "on_norm": int((usable & ~off).sum()),
        **{f"mean_{level}": float(w[level][usable].mean()) if usable.any() else None for level in WEIGHT_NORM},
    }
    forms = _forms(p, off, output=w["output"], effect=w["effect"], satisfaction=w["satisfaction"])
    left = _concat(
        _left_out(p, no_rows.to_numpy(), "no_indicators"),
        _left_out(p, missing_weight.to_numpy() & ~no_rows.to_numpy(), "indicator_without_weight"),
        _left_out(
            p,
            unlabelled.to_numpy() & ~missing_weight.to_numpy() & ~no_rows.to_numpy(),
            "indicator_without_level1",
        ),
    )
    said = (
        _sentences(
            "weight_split",
            off=value["off_norm"],
            on=value["on_norm"],
            output=f"{value['mean_output']:.1f}",
            effect=f"{value['mean_effect']:.1f}",
            satisfaction=f"{value['mean_satisfaction']:.1f}",
        )
        if usable.any()
        else _sentences("weight_split_none")
    )
    return _result(m, value, forms, left, said)


@measure(
    "bare_claim_achievements",
    "完成情况仅为空泛声明",
    "Achievements that are only a bare claim",
    "forms",
    "Forms whose 实际完成情况 (what was achieved) is only a bare claim from the vocabulary (已完成, 全部完成, "
    "已完成预期目标, ...), compared as the evidence classes compare text.",
    "年度总体目标的实际完成情况仅为空泛声明(已完成、全部完成等)的表数。",
)
def _bare_claim_achievements(tables, m):
    p = tables["projects"]
    text_ = p["achievement_text"]
    printed = text_.notna() & (text_.astype(str).str.strip() != "")
    bare = printed & text_.map(lambda t: isinstance(t, str) and evidence_text(t) in BARE_CLAIMS).astype(bool)
    k, n = int(bare.sum()), int(printed.sum())
    said = _sentences("bare_claim_achievements", k=k, n=n)
    return _result(m, k, _forms(p, bare, achievement_text=text_), _left_out(p, ~printed, "no_achievement"), said)


@measure(
    "empty_notes_on_misses",
    "失分却无偏差说明",
    "Deviation notes empty next to a miss",
    "indicators",
    "Indicators that lose points (score below weight) or miss their printed target, whose 偏差原因分析 is "
    "empty or says nothing (无, /, 无偏差, ...).",
    "失分或未达成年度指标值、但偏差原因分析为空或无实质内容的指标数。",
)
def _empty_notes_on_misses(tables, m):
    p, ind = tables["projects"], tables["indicators"]
    ind = ind[ind["form_id"].isin(p["form_id"])]
    lost = (_float(ind["score"]) < _float(ind["weight"]) - TOLERANCE_POINTS).fillna(False) | (
        ind["met"].eq(False)
    ).fillna(False)
    note = ind["deviation_note"].fillna("").astype(str).str.replace(r"\s+", "", regex=True)
    empty = note.isin(EMPTY_NOTES)
    hit = ind[(lost & empty).to_numpy()]
    value = {"empty": len(hit), "misses": int(lost.sum())}
    said = _sentences(
        "empty_notes_on_misses", empty=value["empty"], misses=value["misses"], listed=lambda lang: _lines(hit, lang)
    )
    return _result(m, value, _forms(p, p["form_id"].isin(hit["form_id"])), _none_left_out(), said, rows=hit)


@measure(
    "verifiable_weight_share",
    "可核验分值占比",
    "Weight the rule can re-score",
    "share of weight",
    "Share of all weight (budget lines included) on lines the rule can re-score from the printed numbers "
    "(the budget line from its amounts, an indicator when target and actual compare as numbers).",
    "全部分值(含预算执行)中规则能依表中数字重新计分的比例。",
)
def _verifiable_weight_share(tables, m):
    p, ind = tables["projects"], tables["indicators"]
    ind = ind[ind["form_id"].isin(p["form_id"])]
    indicator_weight = _float(ind["weight"]).fillna(0)
    budget_weight = _float(p["budget_weight"]).fillna(10.0)
    total = budget_weight.sum() + indicator_weight.sum()
    checked = (
        budget_weight[p["rule_budget_score"].notna()].sum()
        + indicator_weight[ind["verifiable"].fillna(False).astype(bool)].sum()
    )
    value = float(checked / total) if total else None
    measured = indicator_weight[(ind["evidence"] == "measured").to_numpy()].sum()
    said = _sentences("verifiable_weight_share", share=_pct(value), measured=_pct(measured / total if total else None))
    return _result(m, value, _forms(p), _none_left_out(), said)


@measure(
    "near_duplicate_names",
    "近似重复的指标名称",
    "Near-duplicate indicator names",
    "pairs",
    "Pairs of distinct indicator names (white space and punctuation removed) whose difflib similarity "
    f"is at least {NEAR_DUPLICATE}, every pair compared.",
    f"去除空白和标点后相似度不低于{NEAR_DUPLICATE}的不同指标名称对数。",
    NEAR_DUPLICATE,
)
def _near_duplicate_names(tables, m):
    from selfeval.analysis import phrasing

    p, ind = tables["projects"], tables["indicators"]
    pairs = phrasing.near_duplicates(ind[ind["form_id"].isin(p["form_id"])]["indicator_name"], threshold=m.threshold)
    searched, distinct = pairs.attrs.get("names_searched", 0), pairs.attrs.get("names_distinct", 0)

    def cap(lang):  # past its cap the search compared only the most frequent names: say so
        if searched >= distinct:
            return ""
        return present.text(
            "measure_sentences.near_duplicate_cap", lang, searched=f"{searched:,}", distinct=f"{distinct:,}"
        )

    said = _sentences("near_duplicate_names", n=len(pairs), cap=cap)
    return _result(m, len(pairs), _forms(p, np.zeros(len(p), dtype=bool)), _none_left_out(), said)


# --- budget execution (01) -----------------------------------------------------------------------


def _rates(p: pd.DataFrame) -> pd.Series:
    executed, full = _float(p["executed"]), _float(p["full_year_budget"])
    return executed / full.where(full > 0)


@measure(
    "execution_rate",
    "预算执行率",
    "Budget execution rate",
    "fraction",
    "全年执行数 / 全年预算数 summed over the forms (money-weighted), and the median of the forms' rates.",
    "全部表的全年执行数之和除以全年预算数之和，及各表执行率的中位数。",
    needs_complete=False,
)
def _execution_rate(tables, m):
    p = tables["projects"]
    rate = _rates(p)
    ok = rate.notna()
    executed, full = _float(p["executed"])[ok], _float(p["full_year_budget"])[ok]
    value = {
        "money_weighted": float(executed.sum() / full.sum()) if ok.any() else None,
        "median": float(rate[ok].median()) if ok.any() else None,
    }
    said = _sentences(
        "execution_rate", rate=_pct(value["money_weighted"]), budget=f"{full.sum():,.2f}", median=_pct(value["median"])
    )
    return _result(m, value, _forms(p, ok, rate=rate), _left_out(p, ~ok, "no_rate"), said)


@measure(
    "under_execution",
    "执行率低于90%的表",
    "Forms under 90% execution",
    "forms",
    f"Forms whose 全年执行数 / 全年预算数 is below {UNDER_EXECUTION:.0%}, and forms at or above it.",
    f"执行率低于{UNDER_EXECUTION:.0%}的表数(及不低于的表数)。",
    UNDER_EXECUTION,
    needs_complete=False,
)
def _under_execution(tables, m):
    p = tables["projects"]
    rate = _rates(p)
    under = (rate < UNDER_EXECUTION).fillna(False)
    value = {"below": int(under.sum()), "at_or_above": int((rate >= UNDER_EXECUTION).fillna(False).sum())}
    forms = _forms(p, under, rate=rate).sort_values("rate", ignore_index=True)
    said = _sentences(
        "under_execution",
        below=value["below"],
        above=value["at_or_above"],
        threshold=f"{UNDER_EXECUTION:.0%}",
        names=lambda lang: _names(forms, lang),
    )
    return _result(m, value, forms, _left_out(p, rate.isna(), "no_rate"), said)


@measure(
    "budget_changed",
    "年中调整预算的表",
    "Budgets changed in the year",
    "forms",
    "Forms whose 全年预算数 differs from 年初预算数 by more than one yuan, cut or raised.",
    "全年预算数与年初预算数不同(调减或调增)的表数。",
    AMOUNT_TOLERANCE,
    needs_complete=False,
)
def _budget_changed(tables, m):
    p = tables["projects"]
    initial, full = _float(p["initial_budget"]), _float(p["full_year_budget"])
    ok = initial.notna() & full.notna()
    change = full - initial
    cut, raised = (change < -AMOUNT_TOLERANCE) & ok, (change > AMOUNT_TOLERANCE) & ok
    value = {
        "cut": int(cut.sum()),
        "raised": int(raised.sum()),
        "unchanged": int((ok & ~cut & ~raised).sum()),
        "cut_amount": float(-change[cut].sum()),
        "raised_amount": float(change[raised].sum()),
    }
    forms = _forms(p, cut | raised, change=change)
    said = _sentences(
        "budget_changed",
        cut=value["cut"],
        raised=value["raised"],
        unchanged=value["unchanged"],
        cut_amount=f"{value['cut_amount']:,.2f}",
        raised_amount=f"{value['raised_amount']:,.2f}",
    )
    left = _concat(
        _left_out(p, initial.isna(), "no_initial_budget"),
        _left_out(p, initial.notna() & full.isna(), "no_full_year_budget"),
    )
    return _result(m, value, forms, left, said)


@measure(
    "execution_vs_indicator_score",
    "执行率与指标得分的相关",
    "Execution rate vs indicator score",
    "Pearson correlation",
    "Pearson correlation between the execution rate (全年执行数 / 全年预算数) and the self-score on the "
    "indicators alone (self total minus the printed budget-line score): the total contains the budget "
    "score, itself the rate times 10, so correlating with the total measures nothing.",
    "执行率与指标自评得分(自评总分减预算执行得分)之间的皮尔逊相关系数。",
)
def _execution_vs_indicator_score(tables, m):
    p = tables["projects"]
    rate = _rates(p)
    indicator_score = _float(p["self_total"]) - _float(p["budget_score"])
    ok = rate.notna() & indicator_score.notna()
    value = (
        float(np.corrcoef(rate[ok], indicator_score[ok])[0, 1])
        if ok.sum() > 2 and rate[ok].std() > 0 and indicator_score[ok].std() > 0
        else None
    )
    said = _sentences(
        "execution_vs_indicator_score",
        r=lambda lang: f"{value:+.2f}" if value is not None else present.text("measure_sentences.undefined", lang),
        n=int(ok.sum()),
    )
    left = _concat(
        _left_out(p, rate.isna(), "no_rate"),
        _left_out(p, rate.notna() & _float(p["budget_score"]).isna(), "no_budget_score"),
    )
    return _result(m, value, _forms(p, ok), left, said)


def _money(number, unit) -> float | None:
    """An amount in 万元, or None when the unit is not money (a bare number is not money)."""
    if number is None or pd.isna(number) or not isinstance(unit, str):
        return None
    if "/" in unit:  # a rate (万元/人年) is not an amount
        return None
    info = UNIT_INFO.get(unit, {})
    if info.get("dimension") != "money":
        return None
    return float(number) * info["factor"] / 10000.0


@measure(
    "cost_restates_budget",
    "成本指标复述预算",
    "Cost indicators that restate the budget",
    "indicators",
    "Cost indicators (成本指标 and its level-2 children) whose target is the form's budget (年初 or 全年预算数) "
    "or whose actual is its spending (全年执行数), to one yuan: they measure the money, not a cost.",
    "年度指标值等于预算数或实际完成值等于执行数(精确到元)的成本指标数。",
    AMOUNT_TOLERANCE,
)
def _cost_restates_budget(tables, m):
    p, ind = tables["projects"], tables["indicators"]
    cost = ind[ind["level2"].isin(COST_LEVEL2) | (ind["level1"] == "cost")]
    cost = cost[cost["form_id"].isin(p["form_id"])].merge(
        p[["form_id", "initial_budget", "full_year_budget", "executed"]], on="form_id"
    )
    target = [_money(n, u) for n, u in zip(cost["target_number"], cost["target_unit"])]
    # a bare number takes the target's unit, as comparable() reads it ("143.669312" under "≥250万元")
    actual = [
        _money(n, u if isinstance(u, str) else tu)
        for n, u, tu in zip(cost["actual_number"], cost["actual_unit"], cost["target_unit"])
    ]

    def same(a, b):
        return a is not None and b is not None and not pd.isna(b) and abs(a - float(b)) <= AMOUNT_TOLERANCE

    t_hit = [same(t, i) or same(t, f) for t, i, f in zip(target, cost["initial_budget"], cost["full_year_budget"])]
    a_hit = [same(a, e) for a, e in zip(actual, cost["executed"])]
    cost = cost.assign(target_is_budget=t_hit, actual_is_spending=a_hit)
    hit = cost[cost["target_is_budget"] | cost["actual_is_spending"]]
    value = {
        "target_is_budget": int(sum(t_hit)),
        "actual_is_spending": int(sum(a_hit)),
        "indicators": len(hit),
        "cost_indicators": len(cost),
    }
    said = _sentences(
        "cost_restates_budget",
        k=value["indicators"],
        n=value["cost_indicators"],
        t=value["target_is_budget"],
        a=value["actual_is_spending"],
        listed=lambda lang: _lines(hit, lang, values=True),
    )
    return _result(m, value, _forms(p, p["form_id"].isin(hit["form_id"])), _none_left_out(), said, rows=hit)


# --- the forms' own arithmetic and the checks ----------------------------------------------------


@measure(
    "forms_not_adding_up",
    "数字自相矛盾的表",
    "Forms whose printed numbers do not add up",
    "forms",
    "Forms with an arithmetic check: printed 执行率 against 全年执行数 / 全年预算数, weights or scores "
    "against the printed 总分, fund lines against 年度资金总额 (0.01 points, 0.01 percentage points, one yuan).",
    "执行率、分值合计、得分合计或资金分项合计与表中印出的数字不符的表数。",
    TOLERANCE_POINTS,
)
def _forms_not_adding_up(tables, m):
    p, checks = tables["projects"], tables["checks"]
    checks = checks[checks["form_id"].isin(p["form_id"])]
    by_check = {c: int(checks.loc[checks["check"] == c, "form_id"].nunique()) for c in ARITHMETIC}
    bad = checks[checks["check"].isin(ARITHMETIC)]
    value = {"forms": int(bad["form_id"].nunique()), **by_check}
    forms = _forms(p, p["form_id"].isin(bad["form_id"]))
    said = _sentences(
        "forms_not_adding_up",
        n=value["forms"],
        names=lambda lang: _names(forms, lang),
        by_check=lambda lang: _joined([f"{present.code('check', c, lang)} {n}" for c, n in by_check.items()], 0, lang),
    )
    return _result(m, value, forms, _none_left_out(), said)


@measure(
    "checks_fired",
    "检查项触发次数",
    "Checks fired",
    "rows (forms)",
    "How many rows of the checks table each check produced, and in how many forms (checks.py).",
    "各检查项在检查表中的行数及涉及的表数。",
)
def _checks_fired(tables, m):
    p, checks = tables["projects"], tables["checks"]
    checks = checks[checks["form_id"].isin(p["form_id"])]
    value = {
        c: {
            "rows": int((checks["check"] == c).sum()),
            "forms": int(checks.loc[checks["check"] == c, "form_id"].nunique()),
        }
        for c in CHECKS
    }
    said = _sentences(
        "checks_fired",
        by_check=lambda lang: _joined(
            [f"{present.code('check', c, lang)} {v['rows']} ({v['forms']})" for c, v in value.items()], 0, lang
        ),
    )
    return _result(m, value, _forms(p, p["form_id"].isin(checks["form_id"])), _none_left_out(), said)
