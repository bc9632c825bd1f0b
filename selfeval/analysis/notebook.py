"""What every notebook does first and last: load the tables, keep the forms its
parameters select, say what data it used, and record its findings as numbers.

Notebooks import this instead of copying cells, so a filter means the same
thing in every report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from selfeval.store import outputs
from selfeval.store.outputs import CONTROL_CHARACTERS, may_hold_control_characters

ALL = "all"
from selfeval.schema.fields import FORM_TABLES  # noqa: E402

_CODE_PREFIX = re.compile(r"^\d+-")


def unit_name(projects: pd.DataFrame) -> pd.Series:
    """The budget unit a form belongs to: its 主管部门 without a leading budget code
    ("618-小关" -> "小关"); when that leaves a stub, the 实施单位 without its code."""
    department, implementing = (_without_code(projects[c]) for c in ("department", "implementing_unit"))
    stub = department.str.len() < 4
    return department.where(~stub, implementing).replace("", pd.NA).astype("string")


def _without_code(values: pd.Series) -> pd.Series:
    """values.fillna("").str.replace(_CODE_PREFIX, "", regex=True), the pattern applied once
    per distinct name (a few hundred in 100,000 forms) instead of once per row."""
    codes, names = pd.factorize(values.fillna(""))
    stripped = np.array([_CODE_PREFIX.sub("", name) for name in names] + [""], dtype=object)
    return pd.Series(stripped[codes], index=values.index, dtype=values.dtype, name=values.name)


@dataclass
class Selection:
    """The tables restricted to the forms a notebook's parameters select."""

    tables: dict[str, pd.DataFrame]
    all_projects: pd.DataFrame
    district: str
    department: str
    year: str | int
    # the selected forms cut off (completeness partial) that a report needing whole forms left out
    partial: pd.DataFrame | None = None
    # the selected forms read a second time from another file (projects.same_form_as), left out
    same: pd.DataFrame | None = None

    @property
    def projects(self) -> pd.DataFrame:
        return self.tables["projects"]

    @property
    def indicators(self) -> pd.DataFrame:
        return self.tables["indicators"]

    @property
    def empty(self) -> bool:
        return self.projects.empty

    def label(self) -> str:
        parts = [p for p in (self.district, self.department, self.year) if str(p) != ALL]
        return " / ".join(str(p) for p in parts) or "全部 (all)"


def load(processed_dir: str | Path, names=None) -> dict[str, pd.DataFrame]:
    """The processed tables for a report (all of them, or only `names`), with a `unit`
    column on projects and no control characters in text."""
    names = None if names is None else list(dict.fromkeys(["projects", *names]))
    tables = {
        name: _without_control_characters(frame)
        for name, frame in outputs.read_tables(Path(processed_dir), names).items()
    }
    tables["projects"] = tables["projects"].assign(unit=unit_name(tables["projects"]))
    return tables


def _arrow_chunks(values: pd.Series) -> list[pa.Array] | None:
    """The Arrow arrays behind a string[pyarrow] Series (no copy), or None for other storage."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    data = pa.array(values.array)  # __arrow_array__: the ChunkedArray pandas holds
    return list(data.chunks) if isinstance(data, pa.ChunkedArray) else [data]


def _may_hold_control_characters(values: pd.Series) -> bool:
    """False only when no control character can be in the column (tables'
    byte scan of the Arrow buffers: milliseconds, where a regular expression over every
    cell takes seconds). True when it cannot tell (text not held by Arrow); the caller
    then strips as before."""
    chunks = _arrow_chunks(values)
    if chunks is None or not all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in chunks):
        return True
    return any(may_hold_control_characters(chunk) for chunk in chunks)


def _without_control_characters(frame: pd.DataFrame) -> pd.DataFrame:
    text = [c for c in frame.columns if frame[c].dtype == "string" and _may_hold_control_characters(frame[c])]
    # invisible in a report, and some would be written raw into the HTML; the tables keep them
    return (
        frame.assign(**{c: frame[c].str.replace(CONTROL_CHARACTERS, "", regex=True) for c in text}) if text else frame
    )


def _isin(values: pd.Series, chosen: pd.Series) -> pd.Series:
    """values.isin(chosen), with Arrow's hash lookup when both are Arrow text (pandas'
    isin takes ~1.5 s on 850,000 form ids, Arrow ~0.1 s)."""
    haystack, needles = _arrow_chunks(values), _arrow_chunks(chosen)
    if not haystack or needles is None:
        return values.isin(set(chosen))
    text = haystack[0].type
    found = pc.is_in(
        pa.chunked_array(haystack, type=text),
        value_set=pa.chunked_array(needles, type=needles[0].type if needles else text).cast(text),
    )
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)


def with_unit(frame: pd.DataFrame, projects: pd.DataFrame) -> pd.DataFrame:
    """frame with the `unit` of each row's form added as its last column: the rows and
    values of frame.merge(projects[["form_id", "unit"]], on="form_id", how="left") (form_id
    is unique in projects), found by Arrow's hash lookup instead of a merge (~1 s at 850,000 rows)."""
    keys, forms = _arrow_chunks(frame["form_id"]), _arrow_chunks(projects["form_id"])
    if not keys or forms is None or not projects["form_id"].is_unique:
        return frame.merge(projects[["form_id", "unit"]], on="form_id", how="left")
    text = keys[0].type
    where = pc.index_in(
        pa.chunked_array(keys, type=text),
        value_set=pa.chunked_array(forms, type=forms[0].type if forms else text).cast(text),
    )
    where = where.fill_null(-1).to_numpy().astype(np.int64)
    return frame.assign(unit=projects["unit"].array.take(where, allow_fill=True)).reset_index(drop=True)


def select(tables: dict[str, pd.DataFrame], district=ALL, department=ALL, year=ALL) -> Selection:
    projects = tables["projects"]
    keep = pd.Series(True, index=projects.index)
    if str(district) != ALL:
        keep &= projects["district"] == district
    if str(department) != ALL:
        keep &= (projects["department"] == department) | (projects["unit"] == department)
    if str(year) != ALL:
        keep &= projects["year"] == int(year)
    keep = keep.fillna(False).astype(bool)
    chosen = projects[keep]
    selected = {
        name: (
            frame[_isin(frame["form_id"], chosen["form_id"])] if name in FORM_TABLES and name != "projects" else frame
        )
        for name, frame in tables.items()
    }
    selected["projects"] = chosen
    return Selection(selected, projects, str(district), str(department), year)


def complete_only(selection: Selection) -> Selection:
    """The selection without its forms cut off (measures.complete_forms: the one definition),
    which it keeps in `partial` so the report can say how many it left out and which."""
    from selfeval.analysis import measures

    tables, partial = measures.complete_forms(selection.tables)
    return dataclasses.replace(selection, tables=tables, partial=partial)


def counted_once(selection: Selection) -> Selection:
    """The selection with each form counted once: a form read again from another file (the
    same report as .docx and .pdf: projects.same_form_as) is left out, kept in `same`."""
    from selfeval.analysis import measures

    tables, same = measures.analysable_forms(selection.tables)
    return dataclasses.replace(selection, tables=tables, same=same)


def years_by_district(projects: pd.DataFrame) -> dict[str, list[int]]:
    years = projects.dropna(subset=["district", "year"]).groupby("district")["year"].unique()
    return {district: sorted(int(y) for y in values) for district, values in years.items()}


def scope_text(selection: Selection) -> str:
    """Which forms, units and years a notebook used, and the caveat that districts'
    forms come from different years, so a district comparison is also a year comparison."""
    p = selection.projects
    if p.empty:
        return f"No form matches the parameters ({selection.label()}): this report has no data. 没有符合参数的表单。"
    years = sorted(int(y) for y in p["year"].dropna().unique())
    units = p["unit"].dropna().unique()
    caveat = "; ".join(
        f"{district}: {', '.join(map(str, ys))}" for district, ys in years_by_district(selection.all_projects).items()
    )
    return (
        f"{len(p)} forms from {len(units)} unit(s) ({', '.join(sorted(units))}), "
        f"year(s) {', '.join(map(str, years))}, {p['district'].nunique()} district(s). "
        f"Forms by district and year in the whole corpus: {caveat}. Districts' forms come from "
        f"different years, so a comparison between districts is also a comparison between years."
    )


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if value is pd.NA:
        return None
    return value


def record(figures_dir: str | Path, **findings) -> dict:
    """Add numbers to <figures_dir>/findings.json (written atomically) and return them all.
    Tests and the report index read this file; notebooks write their findings from it."""
    folder = Path(figures_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "findings.json"
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current.update({key: _jsonable(value) for key, value in findings.items()})
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(current, handle, ensure_ascii=False, indent=2, default=str)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; the index and readers of reports/ read it
    os.replace(tmp, path)
    return current


def reset_findings(figures_dir: str | Path) -> None:
    path = Path(figures_dir) / "findings.json"
    if path.exists():
        path.unlink()


# ---------------------------------------------------------------------------
# The one set-up call of every notebook, and what it shows
# ---------------------------------------------------------------------------
def forms_of(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """The (form_id, project_name) pairs of *frame*'s rows, for a finding that names them."""
    return list(zip(frame["form_id"], frame["project_name"]))


class Context:
    """A notebook's run: its parameters, the selected tables, and how it shows things.

    Every show_* method displays HTML built by selfeval.analysis.present (texts from texts.yaml in
    the run's language, every value escaped); pages.py turns the outputs into the report.
    """

    def __init__(self, stem: str, selection: Selection, lang: str, figures: Path):
        from selfeval.analysis import charts, present

        self.stem, self.sel, self.lang, self.figures = stem, selection, lang, figures
        present._check_lang(lang)
        self.tables = selection.tables
        p = selection.projects
        years = sorted(int(y) for y in p["year"].dropna().unique())
        districts = sorted(p["district"].dropna().unique())
        self.source = charts.source_line(districts, years, lang=lang)

    # -- data ---------------------------------------------------------------
    @property
    def projects(self) -> pd.DataFrame:
        return self.sel.projects

    @property
    def indicators(self) -> pd.DataFrame:
        return self.sel.indicators

    @property
    def checks(self) -> pd.DataFrame:
        return self.tables["checks"]

    @property
    def empty(self) -> bool:
        return self.sel.empty

    @property
    def one_unit(self) -> bool:
        """The report is about a single unit: charts per project instead of per unit."""
        return self.projects["unit"].nunique() <= 1

    def ranking(self, by: str, ascending: bool) -> pd.DataFrame:
        """Every selected project with the numbers the ranked table shows, ordered by *by*."""
        p = self.projects
        full = p["full_year_budget"].astype("Float64")
        checks = self.checks
        fired = checks.groupby("form_id")["check"].agg(lambda s: list(dict.fromkeys(s)))
        out = pd.DataFrame(
            {
                "form_id": p["form_id"],
                "project_name": p["project_name"],
                "unit": p["unit"],
                "full_year_budget": full,
                "executed": p["executed"].astype("Float64"),
                "rate": (p["executed"].astype("Float64") / full.where(full > 0)).astype("Float64"),
                "self_total": p["self_total"].astype("Float64"),
                "rule_total": p["rule_total"].astype("Float64"),
                "substantiated_total": p["substantiated_total"].astype("Float64"),
                "inflation": p["inflation"].astype("Float64"),
                "inflation_upper": p["inflation_upper"].astype("Float64"),
                "evidence_measured_share": p["evidence_measured_share"].astype("Float64"),
                "checks_fired": p["form_id"].map(checks.groupby("form_id").size()).fillna(0).astype(int),
            }
        )
        out["check_names"] = (
            p["form_id"]
            .map(fired)
            .map(lambda names: [self.code("check", n) for n in names] if isinstance(names, list) else [])
        )
        if by not in out:
            raise KeyError(f"cannot rank by {by!r}")
        return out.sort_values([by, "form_id"], ascending=[ascending, True], na_position="last", ignore_index=True)

    RANKING_COLUMNS = (
        "project_name:form",
        "unit",
        "full_year_budget:money",
        "executed:money",
        "rate:pct",
        "self_total:points",
        "rule_total:points",
        "substantiated_total:points",
        "inflation:signed_points",
        "inflation_upper:signed_points",
        "evidence_measured_share:pct",
        "checks_fired:int",
        "check_names:list",
    )

    def ranking_columns(self, extra=()):
        from selfeval.analysis.present import col

        # a report on one unit does not repeat its name on every row
        specs = [c for c in self.RANKING_COLUMNS if not (self.one_unit and c == "unit")]
        return [col(spec) for spec in (*specs, *extra)]

    # -- text -----------------------------------------------------------------
    def t(self, key: str, **values) -> str:
        from selfeval.analysis import present

        return present.text(key, self.lang, **values)

    def code(self, kind: str, value) -> str:
        from selfeval.analysis import present

        return present.code(kind, value, self.lang)

    def scope_line(self) -> str:
        p = self.projects
        if p.empty:
            return self.t("scope.empty", label=self.sel.label())
        years = sorted(int(y) for y in p["year"].dropna().unique())
        units = sorted(p["unit"].dropna().unique())
        sep = "、" if self.lang == "zh" else ", "
        line = self.t(
            "scope.line",
            forms=len(p),
            units=len(units),
            unit_names=sep.join(units),
            years=sep.join(map(str, years)),
            districts=p["district"].nunique(),
        )
        by_district = "；".join if self.lang == "zh" else "; ".join
        caveat = by_district(
            f"{d}: {', '.join(map(str, ys))}" for d, ys in years_by_district(self.sel.all_projects).items()
        )
        if p["district"].nunique() > 1:  # only a comparison between districts needs the caveat
            line += " " + self.t("scope.caveat", by_district=caveat)
        return line

    # -- display --------------------------------------------------------------
    def show(self, html_text: str) -> None:
        from IPython.display import HTML, display

        display(HTML(html_text))

    def header(self) -> None:
        from selfeval.analysis.present import e

        self.show(
            f'<header class="report-head"><h1>{e(self.t(f"notebooks.{self.stem}.title"))}</h1>'
            f'<p class="question">{e(self.t(f"notebooks.{self.stem}.question"))}</p>'
            f'<p class="scope">{e(self.scope_line())}</p>{self.partial_line()}</header>'
        )

    def partial_line(self) -> str:
        """'2 more forms are cut off ...: <links>', for each kind of form the report left out."""
        from selfeval.analysis import present

        said = []
        for key, left in (("scope.same_form", self.sel.same), ("scope.partial", self.sel.partial)):
            if left is None or left.empty:
                continue
            forms = present.forms_list(list(zip(left["form_id"], left["project_name"])), self.lang)
            said.append(f'<p class="scope partial">{present.e(self.t(key, n=len(left)))} {forms}</p>')
        return "".join(said)

    def section(self, key: str, anchor: str, note: str | None = None, **values) -> None:
        from selfeval.analysis.present import e

        note_html = f'<p class="note">{e(self.t(note, **values))}</p>' if note else ""
        self.show(f'<h2 id="{e(anchor)}">{e(self.t(key))}</h2>{note_html}')

    def sentence(self, key: str, **values) -> None:
        from selfeval.analysis.present import e

        self.show(f'<p class="note">{e(self.t(key, **values))}</p>')

    # Sentences of the named measures (analysis/measures.py) that open the findings box, at most.
    MEASURE_SENTENCES = 2

    def headline_measures(self) -> list:
        """This notebook's headline measures (measures.NOTEBOOKS) on its selected forms."""
        from selfeval.analysis import measures

        if self.stem not in measures.NOTEBOOKS or self.sel.projects.empty:
            return []
        return measures.headline(self.tables, self.stem)

    def findings(self, findings) -> None:
        """The findings box (主要发现 / Key findings): the notebook's headline measures first (their
        own sentences, in the report's language), then its findings; all of them in findings.json,
        with every headline measure's values (`measures`), the numbers the README and the index quote."""
        from selfeval.analysis import present

        results = self.headline_measures()
        stated = {getattr(f, "measure", None) for f in findings}  # said by the notebook's own sentences
        written = [(r, r.sentence(self.lang, brief=True)) for r in results if r.name not in stated]
        room = max(0, min(self.MEASURE_SENTENCES, 7 - len(findings)))
        everyone = len(self.projects)  # a measure about every form names none of them
        opening = [
            present.MeasureFinding(
                sentence, [] if len(r.forms) >= everyone else list(zip(r.forms["form_id"], r.forms["project_name"]))
            )
            for r, sentence in written
            if sentence
        ][:room]
        box = [*opening, *findings]
        self.show(present.findings_box(box, self.lang))
        record(
            self.figures,
            **{"findings_text": [f.plain(self.lang) for f in box], "measures": {r.name: r.as_dict() for r in results}},
        )

    def table(self, frame: pd.DataFrame, columns, anchor: str, empty_key: str = "site.empty_table") -> None:
        """A sortable table of *frame* (columns: present.Col or "name:fmt" strings), with its
        CSV and XLSX written beside the figures."""
        from selfeval.analysis import present

        cols = [present.col(c) for c in columns]
        present.write_downloads(frame, cols, self.lang, self.figures, anchor)
        self.show(present.table_html(frame, cols, self.lang, anchor, empty_key=empty_key))

    def chart(self, fig, name: str, anchor: str) -> None:
        """Save *fig* (PNG + SVG) and show it; the alt text is the chart's title."""
        import base64
        import io

        import matplotlib.pyplot as plt

        from selfeval.analysis import charts

        saved = charts.save_figure(fig, self.figures, name)
        title = getattr(fig, "_selfeval_title", None)
        alt = title.get_text().replace("\n", "") if title is not None else name
        preview = io.BytesIO()
        fig.savefig(preview, format="png", dpi=60)  # for JupyterLab only; the report links the files
        plt.close(fig)
        from IPython.display import display

        display(
            {"image/png": base64.b64encode(preview.getvalue()).decode("ascii")},
            raw=True,
            metadata={"selfeval": {"png": saved.png.name, "svg": saved.svg.name, "alt": alt, "anchor": anchor}},
        )

    def record(self, **numbers) -> dict:
        return record(self.figures, **numbers)


def setup(
    stem: str,
    *,
    district=ALL,
    department=ALL,
    year=ALL,
    lang="zh",
    processed_dir="data/processed",
    figures_dir=None,
    tables=(),
    complete=False,
) -> Context:
    """Everything a notebook does before its analysis: resolve the folders (relative to
    the project root, the working directory papermill gives), start a fresh findings.json,
    apply the chart style, load the tables it reads (*tables*, besides projects and checks),
    keep the forms its parameters select (with *complete*, only the whole forms: those cut
    off are left out, counted in findings.json `partial_forms_left_out` and named in the
    header), and show the report's header."""
    from selfeval.analysis import charts

    root = Path.cwd()
    figures = Path(figures_dir or f"reports/figures/{stem}/adhoc")
    figures = figures if figures.is_absolute() else root / figures
    processed = Path(processed_dir)
    processed = processed if processed.is_absolute() else root / processed
    reset_findings(figures)
    charts.use_style()
    # indicators and checks: what the headline measures (analysis/measures.py) read besides projects
    loaded = load(processed, names=list(dict.fromkeys([*tables, "indicators", "checks"])))
    selection = counted_once(select(loaded, district, department, year))
    if selection.same is not None and not selection.same.empty:
        record(figures, same_forms_left_out=len(selection.same))
    if complete:  # the report reads indicators or totals: a form cut off would count as a whole one
        selection = complete_only(selection)
        record(figures, partial_forms_left_out=0 if selection.partial is None else len(selection.partial))
    ctx = Context(stem, selection, lang, figures)
    ctx.header()
    return ctx
