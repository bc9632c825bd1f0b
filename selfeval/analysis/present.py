"""What a reader sees: texts from the catalogue (texts.yaml), numbers formatted one way,
tables as sortable HTML with their CSV/XLSX, the findings box.

Everything here returns HTML strings with every value from data escaped; notebooks show
them through selfeval.analysis.notebook.Context, reports.py/pages.py put them into pages.

Links a notebook cannot resolve itself (it does not know where its HTML will live) are
written with two prefixes the page renderer replaces (pages.resolve_links):
``selfeval-forms:`` (the folder of form pages) and ``selfeval-figures:`` (the report's
figures folder).
"""

from __future__ import annotations

import functools
import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from selfeval import vocab
from selfeval.vocab.gloss import gloss

LANGS = ("zh", "en")
TEXTS_FILE = vocab.VOCAB_DIR / "texts.yaml"  # the one catalogue of zh/en texts
FORMS_PREFIX = "selfeval-forms:"
FIGURES_PREFIX = "selfeval-figures:"
# A table longer than this gets the filter box (every table can be sorted).
SEARCHABLE_ROWS = 8
# A finding names at most this many forms; the rest are counted ("and 4 more").
FORMS_NAMED = 3
# Columns holding a unit's, a project's or a district's name as printed: in English pages they carry the
# name's English gloss (selfeval/vocab/glossary.yaml) beside it, and the downloads a column of it.
NAME_COLUMNS = frozenset({"project_name", "unit", "department", "implementing_unit", "district"})


@functools.lru_cache(maxsize=1)
def catalogue() -> dict:
    return yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")


def entry(key: str):
    node = catalogue()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"no text {key!r} in {TEXTS_FILE.name}")
        node = node[part]
    return node


def text(key: str, lang: str, **values) -> str:
    """The catalogue text *key* ("nb01.f_total") in *lang*, with {values} filled in. An English
    text counting {n} things may have an `en_one` form, used when n is 1 ("1 form prints")."""
    _check_lang(lang)
    node = entry(key)
    if not isinstance(node, dict) or lang not in node:
        raise KeyError(f"text {key!r} has no {lang!r} entry in {TEXTS_FILE.name}")
    chosen = node["en_one"] if lang == "en" and "en_one" in node and str(values.get("n")) == "1" else node[lang]
    return chosen.format(**values) if values else chosen


def code(kind: str, value, lang: str) -> str:
    """A code of the tables (level1 "output", check "full_score_missed_target", ...) in words.
    An unknown code is shown as printed: it is data, not a key we forgot."""
    _check_lang(lang)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return DASH
    names = catalogue()["codes"].get(kind, {})
    item = names.get(str(value))
    return item[lang] if item else str(value)


# ---------------------------------------------------------------------------
# Numbers: one format per kind of number
# ---------------------------------------------------------------------------
def _missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


DASH = "—"


def money(x) -> str:
    """万元 with thousands separators and 2 decimals: 12,171.99."""
    return DASH if _missing(x) else f"{float(x):,.2f}"


def signed_money(x) -> str:
    return DASH if _missing(x) else f"{float(x):+,.2f}"


def pct(fraction, digits: int = 1) -> str:
    """A fraction as a percentage with one decimal: 0.916374 -> 91.6%."""
    return DASH if _missing(fraction) else f"{100 * float(fraction):.{digits}f}%"


def pp(fraction) -> str:
    """A difference of two fractions in percentage points, signed."""
    return DASH if _missing(fraction) else f"{100 * float(fraction):+.2f}"


def count(n) -> str:
    return DASH if _missing(n) else f"{int(n):,}"


def points(x) -> str:
    """Scores as printed on the forms: up to 2 decimals (99.5, 94.38, 100)."""
    if _missing(x):
        return DASH
    return f"{float(x):,.2f}".rstrip("0").rstrip(".")


def signed_points(x) -> str:
    if _missing(x):
        return DASH
    value = f"{float(x):+,.2f}".rstrip("0").rstrip(".")
    return "0" if value in ("+0", "-0") else value


def corr(x) -> str:
    return DASH if _missing(x) else f"{float(x):.2f}"


FORMATS: dict[str, Callable] = {
    "money": money,
    "signed_money": signed_money,
    "pct": pct,
    "pp": pp,
    "count": count,
    "points": points,
    "signed_points": signed_points,
    "corr": corr,
    "pct2": functools.partial(pct, digits=2),
}
# The unit appended to a column header, per format.
UNIT_OF_FORMAT = {"money": "money", "signed_money": "money", "pp": "pp", "points": "points", "signed_points": "points"}


def header(name: str, fmt: str, lang: str) -> str:
    """A column header from the catalogue with its unit: 全年预算数（万元）, Full-year budget (10k yuan)."""
    label = text(f"columns.{name}", lang)
    unit = UNIT_OF_FORMAT.get(fmt)
    if not unit:
        return label
    unit_text = text(f"units.{unit}", lang)
    return f"{label}（{unit_text}）" if lang == "zh" else f"{label} ({unit_text})"


def list_sep(lang: str) -> str:
    return "、" if lang == "zh" else "; "


def e(value) -> str:
    return html.escape("" if value is None or value is pd.NA else str(value), quote=True)


def form_slug(form_id: str) -> str:
    """File name stem of a form page: "000_cbaa33e73a3cfdfd#003" -> "000_cbaa33e73a3cfdfd-003"."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", str(form_id))


def form_href(form_id: str, lang: str) -> str:
    return f"{FORMS_PREFIX}{form_slug(form_id)}.{lang}.html"


def name_gloss(name, lang: str) -> str | None:
    """The English gloss of a unit or project name in an English page; None in a Chinese one,
    or when the glossary does not cover the whole name."""
    _check_lang(lang)
    return gloss(name) if lang == "en" and not _missing(name) else None


def gloss_html(name, lang: str, *, block: bool = False) -> str:
    """The gloss's HTML to put after the printed name: " (English)" in running text, a second,
    smaller line in a table cell (*block*); "" when there is none (and always in Chinese)."""
    english = name_gloss(name, lang)
    if english is None:
        return ""
    if block:
        return f'<span class="gloss gloss-line" lang="en">{e(english)}</span>'
    return f' <span class="gloss" lang="en">({e(english)})</span>'


def name_html(name, lang: str, *, block: bool = False) -> str:
    """A unit or project name as printed, with its English gloss in an English page."""
    return (DASH if _missing(name) else e(name)) + gloss_html(name, lang, block=block)


def form_link(form_id, name, lang: str, with_id: bool = True, *, block: bool = False) -> str:
    """A link to the form's page: "项目名（000_…#003）"; in English "项目名 (English gloss) (000_…#003)".
    In a table cell (*block*) the id and the gloss are smaller lines under the name."""
    if _missing(form_id):
        return e(name) + gloss_html(name, lang, block=block)
    label = e(name) if not _missing(name) else e(form_id)
    suffix = f'<span class="fid">{e(form_id)}</span>' if with_id else ""
    sep = "（" if lang == "zh" else " ("
    end = "）" if lang == "zh" else ")"
    if block:  # a table cell: the name, its id on a line of its own, then the gloss
        inner = f'{label}<span class="fid fid-line">{e(form_id)}</span>' if with_id else label
        after = gloss_html(name, lang, block=True)
    else:
        inner = f"{label}{gloss_html(name, lang)}{sep}{suffix}{end}" if with_id else label + gloss_html(name, lang)
        after = ""
    return f'<a class="form" href="{e(form_href(form_id, lang))}">{inner}</a>{after}'


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Col:
    """One shown column: the frame's column *name*, how to show it (*fmt*), the catalogue
    key of its header (*label*, default the name). fmt: a FORMATS key, "text", "form"
    (the project name linked to its form page, from the row's form_id), "form_id",
    "code:<kind>" (a translated code), "bool", "int", "line" (a raw file's line number,
    linked to that line on the form's page), "list" (several texts)."""

    name: str
    fmt: str = "text"
    label: str | None = None


def col(spec) -> Col:
    """A Col from "name", "name:fmt", "name:fmt:label" or "name:code:kind[:label]"."""
    if isinstance(spec, Col):
        return spec
    parts = str(spec).split(":")
    if len(parts) >= 3 and parts[1] == "code":
        return Col(parts[0], f"code:{parts[2]}", parts[3] if len(parts) > 3 else None)
    return Col(*parts)


def _cell(row: pd.Series, col: Col, lang: str) -> tuple[str, str | None, bool]:
    """(cell HTML, sort value or None, numeric?)"""
    value = row[col.name]
    if col.fmt in FORMATS:
        sort = "" if _missing(value) else repr(float(value))
        return e(FORMATS[col.fmt](value)), sort, True
    if col.fmt == "form":
        return form_link(row.get("form_id"), value, lang, block=True), None, False
    if col.fmt == "list":  # a list of codes of one kind, in words: "kind" is the label key
        return e(list_sep(lang).join(value) if isinstance(value, (list, tuple)) else (value or "")), None, False
    if col.fmt == "form_id":
        return (
            (e(value) if _missing(value) else f'<a class="form" href="{e(form_href(value, lang))}">{e(value)}</a>'),
            None,
            False,
        )
    if col.fmt.startswith("code:"):
        return e(code(col.fmt[5:], value, lang)), None, False
    if col.fmt == "bool":
        return e(DASH if _missing(value) else code("bool", bool(value), lang)), None, False
    if col.fmt == "int":
        return e(count(value)), "" if _missing(value) else str(int(value)), True
    if col.fmt == "line":  # a line of the raw file: a link to it on the form's page
        if _missing(value):
            return DASH, "", True
        href = f"{form_href(row['form_id'], lang)}#L{int(value)}" if "form_id" in row else f"#L{int(value)}"
        return f'<a href="{e(href)}">{int(value)}</a>', str(int(value)), True
    if col.name in NAME_COLUMNS:
        return name_html(value, lang, block=True), None, False
    return e(DASH if _missing(value) else value), None, False


def table_html(
    frame: pd.DataFrame,
    columns: Sequence[Col],
    lang: str,
    anchor: str,
    *,
    downloads: bool = True,
    empty_key: str = "site.empty_table",
) -> str:
    """*frame*'s rows as a sortable table (no index column, nothing cut short); a filter
    box when it is long; links to its CSV and XLSX (written by write_downloads)."""
    _check_lang(lang)
    if frame.empty:
        return f'<p class="empty" id="{e(anchor)}">{e(text(empty_key, lang))}</p>'
    heads = []
    numeric = []
    for col in columns:
        is_num = col.fmt in FORMATS or col.fmt in ("int", "line")
        numeric.append(is_num)
        method = ' data-sort-method="number"' if is_num else ""
        heads.append(
            f'<th scope="col"{method}{" class=num" if is_num else ""}>'
            f"{e(header(col.label or col.name, col.fmt, lang))}</th>"
        )
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for col in columns:
            content, sort, is_num = _cell(row, col, lang)
            css = "num" if is_num else {"form": "name", "list": "list"}.get(col.fmt, "text")
            if css == "text" and col.name in NAME_COLUMNS:
                css = "name" if col.name == "project_name" else "unit"
            attrs = (f' data-sort="{e(sort)}"' if sort is not None else "") + f' class="{css}"'
            cells.append(f"<td{attrs}>{content}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    tools = []
    if len(frame) > SEARCHABLE_ROWS:
        tools.append(
            f'<input type="search" class="filter" aria-label="{e(text("site.search", lang))}" '
            f'placeholder="{e(text("site.search", lang))}">'
        )
    tools.append(f'<span class="count">{len(frame):,} {e(text("site.rows", lang))}</span>')
    if downloads:
        tools.append(
            f'<span class="dl">{e(text("site.download", lang))}: '
            f'<a href="{FIGURES_PREFIX}tables/{e(anchor)}.csv" download>CSV</a> · '
            f'<a href="{FIGURES_PREFIX}tables/{e(anchor)}.xlsx" download>XLSX</a></span>'
        )
    return (
        f'<div class="table-block" id="{e(anchor)}"><div class="tools">{" ".join(tools)}</div>'
        f'<div class="scroll"><table class="data"><thead><tr>{"".join(heads)}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></div>"
    )


def download_frame(frame: pd.DataFrame, columns: Sequence[Col], lang: str) -> pd.DataFrame:
    """The table as downloaded: the same columns and headers, values unformatted (numbers
    stay numbers), codes in words."""
    out = {}
    for col in columns:
        values = frame[col.name]
        if col.fmt.startswith("code:"):
            values = values.map(lambda v, kind=col.fmt[5:]: code(kind, v, lang))
        elif col.fmt == "list":  # words joined as in the page, not a Python list's repr
            values = values.map(lambda v: list_sep(lang).join(map(str, v)) if isinstance(v, (list, tuple)) else v)
        title = header(col.label or col.name, col.fmt, lang)
        out[title] = values.to_numpy()
        if lang == "en" and col.name in NAME_COLUMNS and col.fmt in ("text", "form"):
            # the English gloss beside the printed name, blank where the glossary has none
            out[text("gloss.column", lang, column=title)] = values.map(lambda v: name_gloss(v, lang)).to_numpy()
    result = pd.DataFrame(out)
    if any(c.fmt == "form" for c in columns) and "form_id" in frame and not any(c.fmt == "form_id" for c in columns):
        result.insert(0, text("columns.form_id", lang), frame["form_id"].to_numpy())
    return result


def write_downloads(frame: pd.DataFrame, columns: Sequence[Col], lang: str, folder: Path, anchor: str) -> None:
    """<folder>/tables/<anchor>.csv (UTF-8 with BOM, so Excel reads the Chinese) and .xlsx."""
    from selfeval.store.outputs import atomic_write  # one atomic, world-readable writer

    if frame.empty:
        return
    data = download_frame(frame, columns, lang)
    # pandas' nullable types -> plain objects, so openpyxl gets numbers or None
    data = data.astype(object).where(data.notna(), None)
    target = Path(folder) / "tables"
    atomic_write(target / f"{anchor}.csv", "\ufeff" + data.to_csv(index=False))
    import io

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        data.to_excel(writer, index=False, sheet_name=anchor[:31])
    atomic_write(target / f"{anchor}.xlsx", buffer.getvalue())


# ---------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------
@dataclass
class Finding:
    """One sentence of the findings box: catalogue *key*, its *values* (already
    formatted), the *forms* it names ((form_id, project name) pairs, all of them: the box
    shows the first few) and the *anchor* of the table or chart that shows it."""

    key: str
    anchor: str
    values: dict = field(default_factory=dict)
    forms: Sequence[tuple[str, str]] = ()
    kind: str = "table"  # table | chart: the words of the link
    # the named measure (analysis/measures.py) whose numbers the sentence states: the findings
    # box then does not open with that measure's own sentence as well
    measure: str | None = None

    def render(self, lang: str) -> str:
        values = {k: e(v) for k, v in self.values.items()}
        if "{forms}" in text(self.key, lang):
            values["forms"] = forms_list(self.forms, lang)
        sentence = text(self.key, lang, **values)
        see = text("site.see_chart" if self.kind == "chart" else "site.see_table", lang)
        return f'{sentence} <a class="see" href="#{e(self.anchor)}">{e(see)}</a>'

    def plain(self, lang: str) -> str:
        return re.sub(r"<[^>]+>", "", self.render(lang)).replace("&amp;", "&")


@dataclass
class MeasureFinding:
    """A findings-box sentence written by a named measure (analysis/measures.py): its own text in
    the report's language, the forms it concerns, and a link to the ranked project table."""

    sentence: str
    forms: Sequence[tuple[str, str]] = ()
    anchor: str = "ranking"

    def render(self, lang: str) -> str:
        opening, closing, stop = ("（", "）", "。") if lang == "zh" else (" (", ")", ".")
        named = f"{opening}{forms_list(self.forms, lang)}{closing}" if self.forms else ""
        see = text("site.see_table", lang)
        return f'{e(self.sentence)}{named}{stop} <a class="see" href="#{e(self.anchor)}">{e(see)}</a>'

    def plain(self, lang: str) -> str:
        return re.sub(r"<[^>]+>", "", self.render(lang)).replace("&amp;", "&")


def forms_list(forms: Sequence[tuple[str, str]], lang: str) -> str:
    forms = list(forms)
    shown = [form_link(fid, name, lang) for fid, name in forms[:FORMS_NAMED]]
    joined = ("、" if lang == "zh" else "; ").join(shown)
    if len(forms) > FORMS_NAMED:
        joined += ("" if lang == "zh" else " ") + e(
            text("findings.more_forms", lang, total=len(forms), rest=len(forms) - FORMS_NAMED)
        )
    return joined


def findings_box(findings: Sequence[Finding], lang: str) -> str:
    items = "".join(f"<li>{f.render(lang)}</li>" for f in findings)
    body = f"<ol>{items}</ol>" if findings else f"<p>{e(text('findings.none', lang))}</p>"
    return f'<section class="findings" id="findings"><h2>{e(text("findings.title", lang))}</h2>{body}</section>'
