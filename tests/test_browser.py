"""The reports as a reader gets them: produced by the real runner on the seed data, read
as HTML (language of every heading and table header, number formats, links, nothing
fetched from outside the machine, sizes, file modes), then opened in Debian's headless
Chromium with the network blocked (no failed request, no console error, the findings box
and the charts visible)."""

from __future__ import annotations

import re
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

import etl
from selfeval.reports import browser
from selfeval.reports import runner as reports
from selfeval.run import pipeline
from selfeval.store import outputs

NOTEBOOKS = ["00_explore", "01_budget_execution", "02_score_inflation", "03_indicator_phrasing"]
SETS = [
    ("all", {}),
    ("all-en", {"lang": "en"}),
    ("dept-fengtai-city-command", {"department": "丰台区城市管理指挥中心"}),
]
CJK = re.compile(r"[\u4e00-\u9fff]")
# Words allowed in a Chinese page: file formats and the data's own ASCII (ids, file names)
ASCII_WORD = re.compile(r"[A-Za-z]{2,}")
ALLOWED_ASCII = {"CSV", "XLSX", "PNG", "SVG", "PDF", "English", "ETL"}
# Codes of the tables that must never reach a reader
CODES = [
    "output",
    "quality",
    "quantity",
    "quantitative",
    "qualitative",
    "rating_scale",
    "timeliness",
    "satisfaction",
    "full_score_missed_target",
    "execution_rate_mismatch",
    "target missing",
]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    processed = tmp / "processed"
    pipeline.run(etl.RAW_DIR, processed, use_cache=False)
    config = {
        "kernel": "selfeval",
        "timeout_seconds": 300,
        "processed_dir": str(processed),
        "raw_dir": str(etl.RAW_DIR),
        "output_dir": str(tmp / "reports"),
        "notebooks": [
            {"path": f"notebooks/{n}.ipynb", **({"sets": ["all", "all-en"]} if n == "00_explore" else {})}
            for n in NOTEBOOKS
        ],
        "parameter_sets": [{"name": name, "params": params} for name, params in SETS],
    }
    path = tmp / "reports.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    results = reports.run_reports(path, project_root=etl.ROOT, output_dir=tmp / "reports")
    assert [(r.notebook, r.set, r.error) for r in results if not r.ok] == []
    return tmp / "reports"


class Texts(HTMLParser):
    """The text of every h1, h2, th, li of the findings box, and every link and source."""

    def __init__(self):
        super().__init__()
        self.stack, self.texts, self.links, self.cells = [], {"h1": [], "h2": [], "th": [], "li": []}, [], []
        self.current: list | None = None
        self.row: list = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])
        if tag in self.texts:
            self.stack.append((tag, []))
        if tag == "td":
            self.stack.append(("td", []))

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1][0] == tag:
            name, parts = self.stack.pop()
            text = re.sub(r"\s+", " ", "".join(parts)).strip()
            if name == "td":
                self.row.append(text)
            else:
                self.texts[name].append(text)
            for outer in self.stack:
                outer[1].append(text)
        if tag == "tr" and self.row:
            self.cells.append(self.row)
            self.row = []

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][1].append(data)


def parse(path: Path) -> Texts:
    parser = Texts()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def report(out, notebook, set_name="all") -> Path:
    return out / "html" / f"{notebook}__{set_name}.html"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_zh_report_is_chinese_throughout(out, notebook):
    page = parse(report(out, notebook))
    assert page.texts["h1"] and page.texts["th"]
    for kind in ("h1", "h2", "th"):
        for text in page.texts[kind]:
            assert CJK.search(text), (kind, text)
            assert set(ASCII_WORD.findall(text)) <= ALLOWED_ASCII, (kind, text)
    visible = re.sub(r"<[^>]+>", " ", report(out, notebook).read_text(encoding="utf-8"))
    for word in CODES:
        assert not re.search(rf"(?<![\w_]){re.escape(word)}(?![\w_])", visible), word
    assert "主要发现" in page.texts["h2"]


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_en_report_is_english_throughout(out, notebook):
    page = parse(report(out, notebook, "all-en"))
    for kind in ("h1", "h2", "th"):
        for text in page.texts[kind]:
            assert not CJK.search(text), (kind, text)
    assert "Key findings" in page.texts["h2"]
    visible = re.sub(r"<[^>]+>", " ", report(out, notebook, "all-en").read_text(encoding="utf-8"))
    assert "主要发现" not in visible


def test_findings_are_numbered_sentences_with_links(out):
    html = report(out, "01_budget_execution").read_text(encoding="utf-8")
    box = re.search(r'<section class="findings".*?</section>', html, re.S).group(0)
    items = re.findall(r"<li>(.*?)</li>", box, re.S)
    assert 3 <= len(items) <= 7
    # the box opens with the headline measure no sentence of the notebook states (measures.NOTEBOOKS:
    # the cost indicators that restate the budget), then the notebook's own sentences
    assert items[0].startswith("82 个成本指标中 27 个复述预算")
    # from the seed data: 70 projects, 20,649.69 万元 of full-year budget; 5 under 90%
    assert "70 个项目全年预算 20,649.69 万元" in items[1]
    assert items[2].startswith("5 个项目执行率低于 90%")
    assert not any(item.startswith("预算执行率 94.3%") for item in items)  # said once, not twice
    for item in items:
        anchor = re.search(r'class="see" href="#([^"]+)"', item).group(1)
        assert f'id="{anchor}"' in html, anchor
    # the forms named link to their pages: 002#004 spent 61.85% (100.4 of 162.32)
    assert "002_fd002be877c499a2-004.zh.html" in items[2]


def test_number_formats_in_the_ranked_table(out):
    page = parse(report(out, "01_budget_execution"))
    headers = page.texts["th"][:13]
    assert headers[:5] == ["项目名称", "单位", "全年预算数（万元）", "全年执行数（万元）", "执行率"]
    assert headers[7] == "有据得分（分）" and headers[10] == "实测依据占比"  # the range of issue 12 beside the rule
    rows = [r for r in page.cells if len(r) == 13][:70]
    assert len(rows) == 70
    for row in rows:
        assert re.fullmatch(r"[\d,]+\.\d{2}", row[2]), row[2]
        assert re.fullmatch(r"\d{1,3}\.\d%", row[4]), row[4]
        assert re.fullmatch(r"\d+", row[11]), row[11]  # checks fired: a count, no "4.0"
    big = [r for r in rows if "接线员工工资及管理经费" in r[0]][0]
    assert big[2] == "1,041.03"  # 002 prints 1041.03 (万元)
    lowest = rows[0]
    assert lowest[4] == "61.9%" and "#004" in lowest[0]  # 100.40 / 162.32


def test_links_to_form_pages_resolve_and_show_the_raw_lines(out):
    html_path = report(out, "02_score_inflation")
    page = parse(html_path)
    forms = [link for link in page.links if "/forms/" in link]
    assert forms
    for link in forms:
        assert (html_path.parent / link.split("#")[0]).resolve().is_file(), link
    form = (out / "forms" / "002_fd002be877c499a2-005.zh.html").read_text(encoding="utf-8")
    # 002 line 148: ≥500000条 target with 6 as the actual, scored full marks
    assert "002_fd002be877c499a2.txt" in form
    assert re.search(r'<span class="ln" id="L148">148</span>[^\n]*500000', form)


def test_no_page_refers_to_an_address_outside_the_machine(out):
    pages = [*out.glob("*.html"), *out.glob("html/*.html"), *out.glob("forms/*.html"), *out.glob("briefings/*.html")]
    assert len(pages) > 70
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?:https?:)?//[A-Za-z0-9.-]+\.[a-z]{2,}", text), path
        for link in parse(path).links:
            assert not re.match(r"^[a-z]+:", link) or link.startswith(("data:", "mailto:")), (path, link)


def test_reports_are_small_and_world_readable(out):
    for path in out.glob("html/*__*.html"):
        if path.name.endswith(".figures.html"):
            continue
        images = [link for link in parse(path).links if link.endswith(".png")]
        size = path.stat().st_size + sum((path.parent / i).stat().st_size for i in set(images))
        assert size <= 1.5e6, (path.name, size)
    for path in out.rglob("*"):
        if path.is_file() and path.name != ".run.lock":
            assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_charts_have_their_titles_as_alt_text(out):
    html = report(out, "01_budget_execution").read_text(encoding="utf-8")
    alts = re.findall(r'<figure class="chart"[^>]*><img src="[^"]+" alt="([^"]*)"', html)
    assert len(alts) >= 3 and all(alts)
    assert "70 个项目" not in alts[0]  # a title that states the finding, not the chart's name
    assert "最低" in alts[0]


def test_department_report_adapts(out):
    html = report(out, "01_budget_execution", "dept-fengtai-city-command").read_text(encoding="utf-8")
    # one unit: the chart is per project (15 forms, 4 under 90%), no per-unit table
    assert "15 个项目中 4 个执行率低于 90%" in html
    assert 'id="by-unit-table"' not in html


chromium = pytest.mark.skipif(browser.chromium_path() is None, reason="no chromium: run `make chromium`")


@chromium
def test_pages_in_headless_chromium_offline(out):
    pages = [
        out / "index.html",
        *(report(out, n) for n in NOTEBOOKS),
        report(out, "02_score_inflation", "all-en"),
        report(out, "01_budget_execution", "dept-fengtai-city-command"),
        out / "forms" / "002_fd002be877c499a2-005.zh.html",
        *sorted((out / "briefings").glob("*.zh.html"))[:1],
    ]
    with browser.chromium() as chrome:
        for path in pages:
            page, visit = browser.open_page(chrome, path)
            assert visit.clean, (path.name, visit)
            if "/html/" in path.as_posix():
                assert page.locator("section.findings").is_visible(), path.name
                sizes = page.evaluate(
                    "Array.from(document.querySelectorAll('figure.chart img')).map(i => i.naturalWidth)"
                )
                if path.stem.startswith(("01", "02", "03")):
                    assert sizes and all(w > 0 for w in sizes), (path.name, sizes)
            page.context.close()


@chromium
@pytest.mark.parametrize("set_name", ["all", "all-en"])
def test_ranked_table_fits_a_1280_px_page(out, set_name):
    """The widest table of every report (13 columns, 16 in 03, English headers and glosses) is
    laid out within its box at 1280 px: nothing to scroll sideways."""
    with browser.chromium() as chrome:
        for notebook in NOTEBOOKS:
            page, visit = browser.open_page(chrome, report(out, notebook, set_name), width=1280)
            widths = page.evaluate(
                """() => { const box = document.querySelector('#ranking-table .scroll');
                           return [box.querySelector('table').scrollWidth, box.scrollWidth, box.clientWidth]; }"""
            )
            assert widths[0] <= widths[2] and widths[1] <= widths[2], (notebook, set_name, widths)
            first = page.locator("#ranking-table tbody tr").first.locator("td").first
            # the English report: the printed name, and under it its English gloss
            assert (first.locator(".gloss-line").count() == 1) == (set_name == "all-en"), (notebook, set_name)
            assert CJK.search(first.locator("a.form").inner_text())
            page.context.close()


@chromium
def test_table_sorts_and_filters_in_the_browser(out):
    with browser.chromium() as chrome:
        page, visit = browser.open_page(chrome, report(out, "01_budget_execution"))
        table = page.locator("#ranking-table table")
        table.locator("th", has_text="全年预算数").click()
        first = table.locator("tbody tr").first.locator("td").nth(2).inner_text()
        table.locator("th", has_text="全年预算数").click()
        other = table.locator("tbody tr").first.locator("td").nth(2).inner_text()
        budgets = outputs.read_tables(out.parent / "processed", ["projects"])["projects"]["full_year_budget"]
        # one click sorts one way, the next the other: the largest and the smallest budget on top
        assert {first, other} == {f"{budgets.max():,.2f}", f"{budgets.min():,.2f}"}
        page.locator("#ranking-table input.filter").fill("法律顾问")
        assert page.locator("#ranking-table tbody tr:not(.hidden)").count() == 1
        assert visit.clean
        page.context.close()


@chromium
def test_briefing_pdf_is_one_a4_page(out):
    pdfs = sorted((out / "briefings").glob("*.pdf"))
    assert len(pdfs) == 6  # 3 units x zh/en
    for pdf in pdfs:
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF")
        assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == 1, pdf.name
