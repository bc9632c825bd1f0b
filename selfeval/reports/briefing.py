"""A one-page A4 briefing per unit, to attach to a memo: six key numbers and two charts,
as printable HTML (reports/briefings/<unit>.<lang>.html) and a PDF Chromium prints from it.

The numbers come from the same functions as the notebooks (execution.per_project,
the projects' self and rule totals); texts from texts.yaml (keys briefing.*).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pandas as pd

from selfeval.analysis import charts, execution, measures, present
from selfeval.analysis.present import e

log = logging.getLogger("selfeval.reports.runner")
PROJECTS_SHOWN = 12  # bars in the execution chart: the lowest rates


def unit_slug(unit: str) -> str:
    """ASCII file name for a unit name: "unit-" + 8 hex digits of its sha1 (stable)."""
    return "unit-" + hashlib.sha1(unit.encode("utf-8")).hexdigest()[:8]


def key_numbers(projects: pd.DataFrame, indicators: pd.DataFrame) -> dict:
    ex = execution.per_project(projects)
    budget, spent = float(ex["full_year_budget"].sum()), float(ex["executed"].sum())
    full = projects["self_total"] >= projects["total_weight"].fillna(100)
    weight = indicators["weight"].sum()
    return {
        "forms": len(projects),
        "budget": budget,
        "rate": spent / budget if budget else None,
        "under_90": int(ex["under_90"].fillna(False).sum()),
        "full": int(full.sum()),
        "inflation": float(projects["inflation"].mean()) if len(projects) else None,
        # the share of self-awarded points with measured evidence (analysis/measures.py: evidence_profile)
        "verifiable": measures.compute({"projects": projects, "indicators": indicators}, ["evidence_profile"])[
            "evidence_profile"
        ].value.get("measured")
        if weight
        else None,
    }


def _charts(projects: pd.DataFrame, folder: Path, lang: str, source: str) -> list[tuple[str, str]]:
    t = lambda key, **v: present.text(key, lang, **v)  # noqa: E731
    ex = execution.per_project(projects).sort_values("rate_computed").head(PROJECTS_SHOWN)
    out = []
    import matplotlib.pyplot as plt

    all_rates = execution.per_project(projects)["rate_computed"].astype(float)
    if all_rates.round(4).nunique() > 1:  # every project at the same rate: a key number says it, no chart
        fig, ax = charts.new_figure(bars=len(ex))
        rates = ex["rate_computed"].astype(float) * 100
        charts.hbar(
            ax,
            ex["project_name"],
            rates,
            fmt=lambda v: f"{v:.1f}%",
            warn=rates < 90,
            ref=90,
            ref_label=t("charts.threshold_90"),
        )
        ax.set_xlabel(t("nb01.x_rate"))
        under = int((all_rates < 0.9).sum())
        charts.finish(
            fig,
            ax,
            t("nb01.t_by_project", n=present.count(len(projects)), under=present.count(under)),
            source,
            lang=lang,
            axis="x",
        )
        saved = charts.save_figure(fig, folder, f"execution_{lang}")
        out.append((saved.png.name, fig._selfeval_title.get_text().replace("\n", "")))
        plt.close(fig)
    fig, ax = charts.new_figure()
    inflated = projects["inflation"].astype(float)
    charts.bubbles(
        ax,
        projects["rule_total"],
        projects["self_total"],
        projects["project_name"],
        label_top=min(3, int((inflated > 0.005).sum())),
        score=inflated,
        diagonal=t("charts.same_score"),
        size_note=t("charts.bubble_note"),
    )
    ax.set_xlabel(t("nb02.x_rule"))
    ax.set_ylabel(t("nb02.x_self"))
    charts.finish(
        fig,
        ax,
        t(
            "nb02.t_self_vs_rule",
            mean=present.signed_points(inflated.mean()),
            k=present.count(int((inflated > 0.005).sum())),
        ),
        source,
        lang=lang,
    )
    saved = charts.save_figure(fig, folder, f"scores_{lang}")
    out.append((saved.png.name, fig._selfeval_title.get_text().replace("\n", "")))
    plt.close(fig)
    return out


def briefing_page(
    unit: str, projects: pd.DataFrame, indicators: pd.DataFrame, *, lang: str, meta: dict, folder: Path, slug: str
) -> str:
    from selfeval.reports import pages

    t = lambda key, **v: present.text(key, lang, **v)  # noqa: E731
    k = key_numbers(projects, indicators)
    years = sorted(int(y) for y in projects["year"].dropna().unique())
    source = charts.source_line(sorted(projects["district"].dropna().unique()), years, lang=lang)
    figures = _charts(projects, folder, lang, source)
    kpis = [
        (present.money(k["budget"]), t("briefing.k_budget")),
        (present.pct(k["rate"]), t("briefing.k_rate")),
        (f"{present.count(k['under_90'])} / {present.count(k['forms'])}", t("briefing.k_under")),
        (f"{present.count(k['full'])} / {present.count(k['forms'])}", t("briefing.k_full")),
        (present.signed_points(k["inflation"]), t("briefing.k_inflation")),
        (present.pct(k["verifiable"]), t("briefing.k_verifiable")),
    ]
    kpi_html = "".join(f'<div class="kpi"><b>{e(v)}</b><span>{e(label)}</span></div>' for v, label in kpis)
    fig_html = "".join(f'<figure><img src="{e(slug)}/{e(png)}" alt="{e(alt)}"></figure>' for png, alt in figures)
    sep = "、" if lang == "zh" else ", "
    body = (
        f"<h1>{e(t('briefing.title', unit=unit))}{present.gloss_html(unit, lang, block=True)}</h1>"
        f'<p class="meta">{e(t("briefing.subtitle", years=sep.join(map(str, years)), forms=k["forms"]))} · '
        f"{e(t('site.generated_at'))} {e(meta.get('generated'))}</p>"
        f'<div class="kpis">{kpi_html}</div>{fig_html}'
    )
    other = "en" if lang == "zh" else "zh"
    return pages.page(
        title=t("briefing.title", unit=unit),
        body=body,
        lang=lang,
        root="../",
        meta=meta,
        nav=[(f"{slug}.{other}.html", t("site.language_other"))],
        css_class="briefing",
    )


def write_all(out: Path, tables: dict[str, pd.DataFrame], meta: dict, write) -> list[tuple[str, str]]:
    """reports/briefings/<unit>.<lang>.html (+ .pdf when Chromium is there) for every unit;
    returns (unit, path without ".<lang>.html") pairs for the index."""
    from selfeval.analysis.notebook import unit_name
    from selfeval.reports import browser

    charts.use_style()
    projects = tables["projects"].assign(unit=unit_name(tables["projects"]))
    indicators = tables["indicators"]
    folder = out / "briefings"
    made, links = [], []
    for unit, group in projects.groupby("unit"):
        slug = unit_slug(unit)
        ind = indicators[indicators["form_id"].isin(group["form_id"])]
        for lang in present.LANGS:
            path = folder / f"{slug}.{lang}.html"
            write(path, briefing_page(unit, group, ind, lang=lang, meta=meta, folder=folder / slug, slug=slug))
            made.append(path)
        links.append((unit, f"briefings/{slug}"))
    if browser.chromium_path() is None:
        log.info("no Chromium: briefings without PDF (make chromium)")
        return links
    try:
        with browser.chromium() as chrome:
            for path in made:
                browser.print_pdf(chrome, path, path.with_suffix(".pdf"))
    except Exception as exc:  # noqa: BLE001 - the HTML briefings stand without their PDFs
        log.warning("briefing PDFs not printed: %s", exc)
    return links
