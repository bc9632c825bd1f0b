"""The pages under reports/: a report from an executed notebook, its figures gallery,
the index (a grid notebook x scope), a page per form, and the shared assets.

Every page is plain HTML with relative links to ``reports/assets`` (style, the vendored
tablesort, the filter script): opening one fetches nothing from outside the machine.
Texts come from texts.yaml through selfeval.analysis.present; every value from data is escaped.

Layout::

    reports/index.html
    reports/assets/                      copied from selfeval/assets
    reports/html/<stem>__<set>.html      a report
    reports/html/<stem>__<set>.figures.html   its figures gallery
    reports/figures/<stem>/<set>/        its charts (PNG, SVG), tables/ (CSV, XLSX), findings.json
    reports/forms/<form>.<lang>.html     a page per form
    reports/forms/index.<lang>.html      the list of forms
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from selfeval.analysis import forms as printed_forms
from selfeval.analysis import present
from selfeval.analysis.present import e

ASSETS = Path(__file__).with_name("assets")
TABLESORT_VERSION = "5.7.1"
BEIJING = ZoneInfo("Asia/Shanghai")
LANG_ATTR = {"zh": "zh-CN", "en": "en"}


def beijing_time(when: dt.datetime | None = None) -> str:
    """ "2026-11-30 22:31" in Asia/Shanghai, the time the readers live in."""
    when = when or dt.datetime.now(dt.UTC)
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def install_assets(out: Path) -> None:
    """Copy selfeval/assets into <out>/assets (files 0644)."""
    target = out / "assets"
    for source in ASSETS.rglob("*"):
        if source.is_file():
            dest = target / source.relative_to(ASSETS)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            os.chmod(dest, 0o644)


def _rel(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def page(
    *,
    title: str,
    body: str,
    lang: str,
    root: str,
    meta: dict,
    nav: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
    css_class: str = "",
    back: bool = True,
) -> str:
    """A whole page: header (link back, navigation), *body*, footer naming data, date and
    sources. *root*: relative path from the page to reports/ ("" or "../")."""
    t = lambda key, **v: present.text(key, lang, **v)  # noqa: E731
    links = [*([(f"{root}index.html", t("site.back_to_index"))] if back else []), *nav]
    nav_html = "".join(f'<a href="{e(href)}">{e(text)}</a>' for href, text in links)
    footer = t(
        "site.footer",
        sources=meta.get("sources", ""),
        fingerprint=meta.get("fingerprint", ""),
        generated=meta.get("generated", ""),
    )
    return f"""<!DOCTYPE html>
<html lang="{LANG_ATTR[lang]}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<link rel="stylesheet" href="{root}assets/report.css">
</head>
<body>
<header class="site-head"><a class="brand" href="{root}index.html">{e(t("site.title"))}</a><nav>{nav_html}</nav></header>
<main class="{e(css_class)}">
{body}
</main>
<footer class="site-foot">{e(footer)}</footer>
<script src="{root}assets/tablesort/tablesort.min.js"></script>
<script src="{root}assets/tablesort/tablesort.number.min.js"></script>
<script src="{root}assets/report.js"></script>
</body>
</html>
"""


def resolve_links(fragment: str, *, forms: str, figures: str) -> str:
    """Replace the notebook's link prefixes with paths relative to the page."""
    return fragment.replace(present.FORMS_PREFIX, forms).replace(present.FIGURES_PREFIX, figures)


def _figure_html(meta: dict, figures: str) -> str:
    png, svg = f"{figures}{meta['png']}", f"{figures}{meta['svg']}"
    alt = meta.get("alt", "")
    return (
        f'<figure class="chart" id="{e(meta.get("anchor", ""))}-chart"><img src="{e(png)}" alt="{e(alt)}" '
        f'loading="lazy"><figcaption><a href="{e(png)}">PNG</a> · <a href="{e(svg)}">SVG</a></figcaption>'
        f"</figure>"
    )


def notebook_body(nb, *, forms: str, figures: str, show_code: bool = False) -> str:
    """The report's content: the notebook's HTML and chart outputs, in order. Markdown
    cells are notes for JupyterLab users, not part of the report; code only with *show_code*
    (a developer's view)."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if show_code:
            parts.append(f'<pre class="stream code">{e(cell.source)}</pre>')
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            data = output.get("data", {})
            meta = output.get("metadata", {}).get("selfeval")
            if meta and "png" in meta:
                parts.append(_figure_html(meta, figures))
            elif "text/html" in data:
                parts.append(resolve_links(data["text/html"], forms=forms, figures=figures))
            elif "image/png" in data:  # a chart shown without ctx.chart: embedded as it is
                parts.append(
                    f'<figure class="chart"><img src="data:image/png;base64,{data["image/png"]}" alt=""></figure>'
                )
            elif kind == "stream" and output.get("name") == "stdout":
                parts.append(f'<pre class="stream">{e(output.get("text", ""))}</pre>')
            elif kind == "error":
                parts.append(f'<pre class="stream">{e(output.get("ename"))}: {e(output.get("evalue"))}</pre>')
            elif "text/plain" in data and kind == "execute_result":
                parts.append(f'<pre class="stream">{e(data["text/plain"])}</pre>')
    return "\n".join(parts)


def notebook_title(stem: str, lang: str) -> str:
    """The notebook's title from the catalogue; a notebook not (yet) in it shows its file stem."""
    try:
        return present.text(f"notebooks.{stem}.title", lang)
    except KeyError:
        return stem


def report_title(stem: str, scope: str, lang: str) -> str:
    return f"{notebook_title(stem, lang)} · {scope} — {present.text('site.title', lang)}"


def scope_label(params: dict, lang: str) -> str:
    """A parameter set in words: "丰台区", "北京市朝阳区…中心", "全部 · English"."""
    parts = [str(params[k]) for k in ("district", "department", "year") if str(params.get(k, "all")) != "all"]
    label = " / ".join(parts) or present.text("scope.all", lang)
    return label


def report_page(
    nb, *, stem: str, params: dict, html_path: Path, figures_dir: Path, out: Path, meta: dict, show_code: bool = False
) -> str:
    lang = params.get("lang", "zh")
    html_dir = html_path.parent
    figures = _rel(figures_dir, html_dir) + "/"
    forms = _rel(out / "forms", html_dir) + "/"
    body = notebook_body(nb, forms=forms, figures=figures, show_code=show_code)
    gallery = html_path.with_name(html_path.stem + ".figures.html")
    nav = [
        (gallery.name, present.text("site.figures_gallery", lang)),
        (f"{forms}index.{lang}.html", present.text("site.forms_index", lang)),
    ]
    return page(
        title=report_title(stem, scope_label(params, lang), lang),
        body=body,
        lang=lang,
        root=_rel(out, html_dir) + "/",
        meta=meta,
        nav=nav,
    )


def gallery_page(nb, *, stem: str, params: dict, html_path: Path, figures_dir: Path, out: Path, meta: dict) -> str:
    """Every chart of a report, large, with its PNG and SVG: what a folder link used to be."""
    lang = params.get("lang", "zh")
    figures = _rel(figures_dir, html_path.parent) + "/"
    items = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            m = output.get("metadata", {}).get("selfeval")
            if m and "png" in m:
                items.append(
                    f'<figure><a href="{e(figures + m["png"])}"><img src="{e(figures + m["png"])}" '
                    f'alt="{e(m["alt"])}" loading="lazy"></a><figcaption>{e(m["alt"])}<br>'
                    f'<a href="{e(figures + m["png"])}">{e(present.text("site.png", lang))}</a> · '
                    f'<a href="{e(figures + m["svg"])}">{e(present.text("site.svg", lang))}</a> · '
                    f'<a href="{e(html_path.name)}#{e(m["anchor"])}">{e(present.text("site.report", lang))}</a>'
                    f"</figcaption></figure>"
                )
    title = f"{present.text('site.figures_gallery', lang)} · {notebook_title(stem, lang)} · {scope_label(params, lang)}"
    body = f"<h1>{e(title)}</h1>" + (
        f'<div class="gallery">{"".join(items)}</div>'
        if items
        else f'<p class="empty">{e(present.text("site.no_figures", lang))}</p>'
    )
    nav = [(html_path.name, present.text("site.report", lang))]
    return page(title=title, body=body, lang=lang, root=_rel(out, html_path.parent) + "/", meta=meta, nav=nav)


# ---------------------------------------------------------------------------
# The index: a grid notebook x scope
# ---------------------------------------------------------------------------
def lookup(findings: dict, key: str):
    """A number of findings.json by its key; a dotted key walks into the recorded measures
    ("measures.forms_off_rule.value.above": the value analysis/measures.py computed)."""
    value: object = findings
    for part in key.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def headline(stem: str, findings: dict, lang: str) -> str:
    items = []
    for spec in present.catalogue()["headline"].get(stem, []):
        value = lookup(findings, spec["key"])
        if value is None:
            continue
        items.append(
            f'<span class="headline"><b>{e(present.FORMATS[spec["format"]](value))}</b> {e(spec[lang])}</span>'
        )
    return "".join(items)


def index_page(
    records: list[dict],
    *,
    out: Path,
    meta: dict,
    sets: list[tuple[str, dict]],
    stems: list[str],
    briefings: list[tuple[str, str]],
    lang: str = "zh",
) -> str:
    """The grid: a row per notebook, a column per parameter set; each cell the report's
    headline numbers and links. Generated-at, fingerprint and sources once, above."""
    import json

    t = lambda key, **v: present.text(key, lang, **v)  # noqa: E731
    by_key = {(r["notebook"], r["set"]): r for r in records}
    head = "".join(
        f'<th scope="col">{e(scope_label(params, lang))}'
        f"{'' if params.get('lang', 'zh') == lang else ' · ' + e(t('site.language_other'))}</th>"
        for _, params in sets
    )
    rows = []
    for stem in stems:
        cells = []
        for name, params in sets:
            r = by_key.get((stem, name))
            if r is None:
                cells.append('<td class="none"></td>')
                continue
            found = {}
            findings_path = out / (r.get("figures_dir") or "") / "findings.json"
            if findings_path.is_file():
                found = json.loads(findings_path.read_text(encoding="utf-8"))
            rlang = params.get("lang", "zh")
            links = []
            if r.get("html"):
                key = "site.report" if r["status"] == "ok" else "site.last_good"
                links.append(f'<a href="{e(r["html"])}">{e(present.text(key, rlang))}</a>')
                gallery = r["html"][:-5] + ".figures.html"
                if (out / gallery).exists():
                    links.append(f'<a href="{e(gallery)}">{e(present.text("site.figures_gallery", rlang))}</a>')
            if r.get("failed_notebook"):
                links.append(f'<a href="{e(r["failed_notebook"])}">{e(t("site.failed_notebook"))}</a>')
            status = (
                "" if r["status"] == "ok" else f'<span class="failed">{e(t("site.failed"))}: {e(r.get("error"))}</span>'
            )
            numbers = headline(stem, found, rlang) if r["status"] == "ok" else ""  # a failed run's numbers are partial
            cells.append(
                f'<td class="{"ok" if r["status"] == "ok" else "failed"}">{numbers}'
                f'{status}<div class="links">{" · ".join(links)}</div></td>'
            )
        rows.append(f'<tr><th scope="row">{e(notebook_title(stem, lang))}</th>{"".join(cells)}</tr>')
    briefing_links = "".join(
        f'<li>{present.name_html(name, lang)}: <a href="{e(stem)}.zh.html">{e(present.text("scope.lang_zh", "zh"))}</a> · '
        f'<a href="{e(stem)}.en.html">English</a> · <a href="{e(stem)}.zh.pdf">PDF</a> · '
        f'<a href="{e(stem)}.en.pdf">PDF (English)</a></li>'
        for name, stem in briefings
    )
    briefings_html = f"<h2>{e(t('site.briefings'))}</h2><ul>{briefing_links}</ul>" if briefings else ""
    body = f"""<h1>{e(t("site.index_title"))}</h1>
<p class="meta">{e(t("site.generated_at"))}: {e(meta.get("generated"))} ·
{e(t("site.data"))}: {
        e(
            t(
                "site.data_line",
                forms=meta.get("forms", "—"),
                files=meta.get("files", "—"),
                fingerprint=meta.get("fingerprint", ""),
            )
        )
    } ·
{e(t("site.sources"))}: {e(meta.get("sources"))}</p>
<div class="scroll"><table class="grid"><thead><tr><th>{e(t("site.notebooks"))}</th>{head}</tr></thead>
<tbody>{"".join(rows)}</tbody></table></div>
<h2>{e(t("site.forms_index"))}</h2>
<p><a href="forms/index.zh.html">{e(present.text("site.forms_index", "zh"))}</a> ·
<a href="forms/index.en.html">{e(present.text("site.forms_index", "en"))}</a></p>
{briefings_html}
"""
    return page(
        title=f"{t('site.index_title')} — {t('site.title')}", body=body, lang=lang, root="", meta=meta, back=False
    )


# ---------------------------------------------------------------------------
# A page per form: the fields read and the raw lines they came from
# ---------------------------------------------------------------------------
FORM_FIELDS = [
    ("title", "text"),
    ("year", "text"),
    ("district", "text"),
    ("department", "text"),
    ("implementing_unit", "text"),
    ("project_name", "text"),
    ("initial_budget", "money"),
    ("full_year_budget", "money"),
    ("executed", "money"),
    ("execution_rate_raw", "text"),
    ("budget_weight", "points"),
    ("budget_score", "points"),
    ("rule_budget_score", "points"),
    ("total_score_raw", "text"),
    ("self_total", "points"),
    ("rule_total", "points"),
    ("inflation", "signed_points"),
    ("self_grade", "code:grade"),
    ("rule_grade", "code:grade"),
    ("verifiable_weight_share", "pct"),
    ("goal_text", "text"),
    ("achievement_text", "text"),
]
INDICATOR_COLUMNS = [
    "indicator_order:int",
    "line:line",
    "level1:code:level1",
    "level2:code:level2",
    "indicator_name",
    "target_raw",
    "actual_raw",
    "weight:points",
    "score:points",
    "rule_score:points",
    "reason:code:reason",
    "deviation_note",
]
CHECK_COLUMNS = [
    "check:code:check",
    "line:line",
    "severity:code:severity",
    "expected:points",
    "printed:points",
    "message",
]


def _field_value(row, name: str, fmt: str, lang: str) -> str:
    value = row.get(name)
    if fmt.startswith("code:"):
        return e(present.code(fmt[5:], value, lang))
    if fmt in present.FORMATS:
        return e(present.FORMATS[fmt](value))
    if fmt == "int":
        return e(present.count(value))
    if name in present.NAME_COLUMNS:  # a unit or project name: its English gloss in an English page
        return present.name_html(value, lang, block=True)
    return e(present.DASH if present._missing(value) else value)


def form_page(row: pd.Series, indicators: pd.DataFrame, checks: pd.DataFrame, lines, *, lang: str, meta: dict) -> str:
    t = lambda key, **v: present.text(key, lang, **v)  # noqa: E731
    fid = row["form_id"]
    fields = "".join(
        f"<dt>{e(present.header(name, fmt, lang))}</dt><dd>{_field_value(row, name, fmt, lang)}</dd>"
        for name, fmt in FORM_FIELDS
    )
    ind = indicators.rename(columns={"unverifiable_reason": "reason"})
    ind_html = present.table_html(
        ind, [present.col(c) for c in INDICATOR_COLUMNS], lang, "indicators-table", downloads=False
    )
    if lang == "zh":  # the check messages are English sentences: the zh page shows their numbers only
        check_cols = CHECK_COLUMNS[:-1]
    else:
        check_cols = CHECK_COLUMNS
    checks_html = (
        present.table_html(checks, [present.col(c) for c in check_cols], lang, "checks-table", downloads=False)
        if len(checks)
        else f'<p class="empty">{e(t("form_page.checks_none"))}</p>'
    )
    if lines:
        raw = "\n".join(f'<span class="ln" id="L{n}">{n}</span>{e(text)}' for n, text in lines)
        raw_html = (
            f'<p class="note">{e(t("form_page.raw_note", file=row["source_file"], first=lines[0][0], last=lines[-1][0]))}'
            f'</p><pre class="raw">{raw}</pre>'
        )
    else:
        raw_html = f'<p class="empty">{e(t("form_page.raw_missing"))}</p>'
    title = t("form_page.title", form_id=fid)
    other = "en" if lang == "zh" else "zh"
    body = (
        f"<h1>{e(row.get('project_name') or fid)}{present.gloss_html(row.get('project_name'), lang, block=True)}</h1>"
        f'<p class="meta">{e(title)} · '
        f"{e(row['source_file'])} · {e(t('columns.first_line'))} {e(row['first_line'])}</p>"
        f'<h2 id="fields">{e(t("form_page.fields"))}</h2><dl class="fields">{fields}</dl>'
        f'<h2 id="indicators">{e(t("form_page.indicators"))}</h2>{ind_html}'
        f'<h2 id="checks">{e(t("form_page.checks"))}</h2>{checks_html}'
        f'<h2 id="raw">{e(t("form_page.raw"))}</h2>{raw_html}'
    )
    nav = [
        (f"index.{lang}.html", t("form_page.list_title")),
        (f"{present.form_slug(fid)}.{other}.html", t("site.language_other")),
    ]
    return page(
        title=f"{row.get('project_name') or fid} · {title} — {t('site.title')}",
        body=body,
        lang=lang,
        root="../",
        meta=meta,
        nav=nav,
    )


def forms_index_page(projects: pd.DataFrame, *, lang: str, meta: dict) -> str:
    t = lambda key, **v: present.text(key, lang, **v)  # noqa: E731
    frame = projects.sort_values("form_id")
    table = present.table_html(
        frame,
        [
            present.col(c)
            for c in ("form_id:form_id", "project_name", "unit", "year", "full_year_budget:money", "self_total:points")
        ],
        lang,
        "forms-table",
        downloads=False,
    )
    table = resolve_links(table, forms="", figures="")
    body = f"<h1>{e(t('form_page.list_title'))}</h1>{table}"
    other = "en" if lang == "zh" else "zh"
    return page(
        title=f"{t('form_page.list_title')} — {t('site.title')}",
        body=body,
        lang=lang,
        root="../",
        meta=meta,
        nav=[(f"index.{other}.html", t("site.language_other"))],
    )


def write_form_pages(out: Path, tables: dict[str, pd.DataFrame], raw_dir: Path, meta: dict, write) -> int:
    """reports/forms/<form>.<lang>.html for every form, and the two lists. *write(path, text)*
    writes a file atomically. Returns the number of forms."""
    from selfeval.analysis.notebook import unit_name

    projects = tables["projects"].assign(unit=unit_name(tables["projects"]))
    indicators, checks = tables["indicators"], tables["checks"]
    lines = printed_forms.raw_lines(raw_dir, tables["projects"], tables.get("files"))
    ind_by_form = dict(tuple(indicators.groupby("form_id")))
    checks_by_form = dict(tuple(checks.groupby("form_id")))
    folder = out / "forms"
    empty_ind, empty_checks = indicators.iloc[:0], checks.iloc[:0]
    for _, row in projects.iterrows():
        fid = row["form_id"]
        for lang in present.LANGS:
            html_text = form_page(
                row,
                ind_by_form.get(fid, empty_ind).sort_values("indicator_order"),
                checks_by_form.get(fid, empty_checks),
                lines.get(fid, []),
                lang=lang,
                meta=meta,
            )
            # links to other forms are not made on a form page; the prefix only appears in tables
            write(folder / f"{present.form_slug(fid)}.{lang}.html", resolve_links(html_text, forms="", figures=""))
    for lang in present.LANGS:
        write(folder / f"index.{lang}.html", forms_index_page(projects, lang=lang, meta=meta))
    return len(projects)


def embedded_png(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
