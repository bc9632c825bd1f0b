"""Documents as agencies publish them (.docx, .xlsx, PDF, .html; .doc through LibreOffice):
each reader turns a document into the tab-separated rows the one text parser reads.

- Format invariance: seed forms rendered by tests/fixtures/render.py as each format read
  back to the same projects, funds and indicators as their text export, cell for cell,
  except the source columns (file name, line numbers, layout).
- Each reader on small documents made here: merged cells read once, None cells, rowspan and
  colspan, a form over two PDF pages, boilerplate left out.
- Bad input: one clear error per file, the other files still load, every file in `files`.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from selfeval.extract import formats
from selfeval.extract.formats import ReadError, read_document, sniff
from selfeval.run import per_file, pipeline, raw_files
from tests.fixtures import render  # the fixture generator (also a script: python -m tests.fixtures.render OUT)

ROOT = Path(__file__).resolve().parent.parent

RAW = ROOT / "data" / "raw"
SOURCE_COLUMNS = {"source_file", "line", "first_line", "layout"}
needs_font = pytest.mark.skipif(
    not render.fonts_available(), reason=f"PDF fixtures need {render.FONT_FILE} (make fonts: fonts-wqy-zenhei)"
)


def _without_source(rows: list[dict]) -> list[dict]:
    """Rows without their source columns; form ids by file stem (a document's form id
    keeps its extension: 000_x.docx#001 for the text's 000_x#001)."""
    return [
        {k: _stem_id(v) if k == "form_id" else v for k, v in row.items() if k not in SOURCE_COLUMNS} for row in rows
    ]


def _stem_id(form_id: str) -> str:
    name, _, ordinal = form_id.rpartition("#")
    return f"{Path(name).stem}#{ordinal}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every seed file rendered as every format (fonts permitting), once for the module."""
    kinds = render.FORMATS if render.fonts_available() else tuple(k for k in render.FORMATS if k != "pdf")
    return render.render_all(tmp_path_factory.mktemp("rendered"), kinds)


_parsed: dict[Path, per_file.FileResult] = {}


def parsed(path: Path) -> per_file.FileResult:
    """A rendering parsed once for the module (reading a PDF takes seconds)."""
    if path not in _parsed:
        _parsed[path] = per_file.parse_file(path.name, path.read_bytes(), None)
    return _parsed[path]


@pytest.fixture(scope="module")
def text_results():
    return {name: per_file.parse_file(name, (RAW / name).read_bytes(), None) for name in render.SEED_FORMS}


def test_the_fixtures_cover_every_seed_file_with_at_least_20_forms():
    forms = render.seed_forms()
    assert {f.source_file for f in forms} == set(render.SEED_FORMS)
    assert len(forms) >= 20
    # file 000 is the Word template: its level-1 label 产出指标 is merged down over the
    # indicators of its group (read from the raw text: 产出指标 then 质量指标, 时效指标... under it)
    first = forms[0]
    starts = [(r, c, cell) for r, c, cell in render.spans(first) if cell.text == "产出指标"]
    assert len(starts) == 1 and starts[0][2].rowspan == 5


def test_rendering_is_deterministic():
    forms = render.seed_forms(selection={"003_d45a1a0ca283005b.txt": 2})
    for kind in ("docx", "xlsx", "html"):
        assert render.RENDERERS[kind](forms) == render.RENDERERS[kind](forms), kind


@pytest.mark.parametrize("kind", render.FORMATS)
@pytest.mark.parametrize("seed", list(render.SEED_FORMS))
def test_format_invariance(kind, seed, rendered, text_results):
    if kind == "pdf" and not render.fonts_available():
        pytest.skip(f"PDF fixtures need {render.FONT_FILE} (make fonts)")
    path = next(p for p in rendered[kind] if p.stem == Path(seed).stem)
    result = parsed(path)
    text = text_results[seed]
    count = render.SEED_FORMS[seed] or len(text.projects)
    assert result.file_row["format"] == kind
    assert result.file_row["forms_loaded"] == count and result.file_row["forms_rejected"] == 0
    assert not [i for i in result.issues if i.severity == "error"]
    # the same form ids: a rendering keeps its seed file's stem and the forms' order
    for part in ("projects", "funds", "indicators"):
        expected = [row for row in getattr(text, part) if int(row["form_id"].split("#")[1]) <= count]
        assert _without_source(getattr(result, part)) == _without_source(expected), part

    # the same issues too (repairs and warnings of the text), apart from where they are: the locator
    # and the line numbers a message names (a document's lines are its reader's rows)
    def strip(issues):
        return sorted(
            (_stem_id(i.form_id), i.field or "", re.sub(r"line \d+", "line N", i.message.split(" [")[0]))
            for i in issues
            if i.form_id and int(i.form_id.split("#")[1]) <= count
        )

    assert strip(result.issues) == strip(text.issues)


@needs_font
def test_002s_long_indicator_table_breaks_over_a_pdf_page_and_stays_one_form(rendered, text_results):
    path = next(p for p in rendered["pdf"] if p.stem.startswith("002"))
    document = read_document(path.name, path.read_bytes())
    forms, current = [], None
    for line in document.lines:
        if len(line.cells) == 1 and line.cells[0] == "项目支出绩效自评表":
            current = []
            forms.append(current)
        elif current is not None:
            current.append(line)
    split = []
    for number, lines in enumerate(forms, start=1):
        header = next(i for i, line in enumerate(lines) if line.cells[0] == "绩效指标")
        total = next(i for i, line in enumerate(lines) if line.cells[0] == "总分")
        pages = {line.locator.split(",")[0] for line in lines[header + 1 : total]}
        if len(pages) > 1:
            split.append(number)
    assert split, "no indicator table of file 002 breaks over a page: change the page layout"
    result = parsed(path)
    for number in split:
        expected = [
            i
            for i in text_results["002_fd002be877c499a2.txt"].indicators
            if i["form_id"] == f"002_fd002be877c499a2#{number:03d}"
        ]
        read = [i for i in result.indicators if i["form_id"] == f"002_fd002be877c499a2.pdf#{number:03d}"]
        assert read and _without_source(read) == _without_source(expected)


def test_the_word_template_keeps_its_vertical_merges_and_they_are_read_once(rendered):
    path = next(p for p in rendered["docx"] if p.stem.startswith("000"))
    import docx

    table = docx.Document(str(path)).tables[0]
    xml = table._tbl.xml
    assert 'w:vMerge w:val="restart"' in xml and "<w:vMerge/>" in xml
    # python-docx itself repeats a merged cell at every grid position it covers ...
    level1 = [row.cells[1].text for row in table.rows[11:17]]
    assert level1 == ["产出指标"] * 5 + ["满意度指标"]
    # ... the reader gives it once, as the text export prints it (000, lines 88-139)
    lines = [line.cells for line in read_document(path.name, path.read_bytes()).lines]
    indicator_rows = lines[lines.index(next(c for c in lines if c[0] == "绩效指标")) + 1 :][:6]
    assert [row[1] for row in indicator_rows] == ["产出指标", "", "", "", "", "满意度指标"]
    assert [row[2] for row in indicator_rows] == [
        "数量指标",
        "质量指标",
        "时效指标",
        "成本指标",
        "社会效益指标",
        "服务对象满意度指标",
    ]


# --- each reader on small hand-made documents -------------------------------------------------


def _docx_bytes(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_merged_cells_read_once_nested_tables_and_paragraph_order():
    import docx

    document = docx.Document()
    document.add_paragraph("项目支出绩效自评表")
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "项目名称 across"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "down"
    table.cell(1, 1).text, table.cell(1, 2).text = "a", "b"
    table.cell(2, 1).text = "c"
    inner = table.cell(2, 2).add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "inner1", "inner2"
    document.add_paragraph("after")
    lines = read_document("t.docx", _docx_bytes(document)).lines
    assert [line.cells for line in lines] == [
        ["项目支出绩效自评表"],
        ["项目名称 across", "", ""],
        ["down", "a", "b"],
        ["", "c", ""],
        ["inner1", "inner2"],
        ["after"],
    ]
    assert lines[4].locator == "table 1, row 3, nested table 2, row 1"


def test_xlsx_merged_ranges_numbers_as_shown_and_every_sheet():
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["B2"], sheet["C2"], sheet["D2"] = "项目名称", 12.500000001, 10, 0.1 + 0.2
    sheet.merge_cells("A1:C1")
    workbook.create_sheet("empty")
    second = workbook.create_sheet("second")
    second["B3"] = "其他资金"
    out = io.BytesIO()
    workbook.save(out)
    lines = read_document("t.xlsx", out.getvalue()).lines
    assert [line.cells for line in lines] == [["项目名称", "", "", ""], ["", "12.5", "10", "0.3"], ["", "其他资金"]]
    assert lines[2].locator == "sheet second, row 3"


def test_xlsx_numbers_shown_with_their_percent_and_decimal_formats():
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for cell, value, number_format in (
        ("A1", 0.9974, "0.00%"),
        ("B1", 128.1, "0.00"),
        ("C1", 1234.5, "#,##0.00"),
        ("D1", 1, "0%"),
        ("E1", "text", "0.00%"),
        ("F1", 9.97, "General"),
    ):
        sheet[cell] = value
        sheet[cell].number_format = number_format
    out = io.BytesIO()
    workbook.save(out)
    # 执行率 as printed (99.74%), never 0.9974 (which the parser would read as 0.9974%)
    assert read_document("t.xlsx", out.getvalue()).lines[0].cells == [
        "99.74%",
        "128.10",
        "1234.50",
        "100%",
        "text",
        "9.97",
    ]


def test_the_rendered_workbook_holds_numbers_and_percentages_as_numbers(rendered):
    import openpyxl

    path = next(p for p in rendered["xlsx"] if p.stem.startswith("002"))
    sheet = openpyxl.load_workbook(path)["表1"]
    total = next(row for row in sheet.iter_rows() if row[1].value == "年度资金总额")  # 002 line 10
    assert [c.value for c in total[2:8]] == [128.18, 128.18, 127.85, 10, 0.9974, 9.97]
    assert total[6].number_format == "0.00%"


def _pdf(draw) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("zenhei", fname=str(render.FONT_FILE))
    pdf.set_font("zenhei", size=9)
    draw(pdf)
    return bytes(pdf.output())


def _grid(pdf, top: float, rows: list[list[str]], merged_right: int | None = None) -> None:
    """A ruled table of 3 columns of 30 mm; row `merged_right` has one cell over all three."""
    for r, row in enumerate(rows):
        y = top + 8 * r
        pdf.line(10, y, 100, y)
        pdf.line(10, y + 8, 100, y + 8)
        for c in range(4):
            if c in (0, 3) or r != merged_right:
                pdf.line(10 + 30 * c, y, 10 + 30 * c, y + 8)
        for c, text in enumerate(row):
            pdf.set_xy(11 + 30 * c, y + 2)
            pdf.cell(28, 4, text)


@needs_font
def test_pdf_merged_cell_none_is_read_as_empty_and_a_table_over_two_pages_is_one_form():
    def draw(pdf):
        pdf.add_page()
        pdf.set_xy(10, 10)
        pdf.cell(90, 6, "项目支出绩效自评表")
        _grid(pdf, 20, [["项目名称", "", ""], ["绩效指标", "一级指标", "二级指标"]], merged_right=0)
        pdf.set_xy(11, 22)
        pdf.cell(88, 4, "")  # nothing in the merged cell's other positions
        pdf.add_page()
        _grid(pdf, 10, [["", "产出指标", "数量指标"], ["总分", "100", "99"]])

    data = _pdf(draw)
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:  # pdfplumber itself: None where the merge covers the grid
        assert pdf.pages[0].extract_tables()[0][0] == ["项目名称", None, None]
    document = read_document("t.pdf", data)
    lines = document.lines
    assert [line.cells for line in lines] == [
        ["项目支出绩效自评表"],
        ["项目名称", "", ""],
        ["绩效指标", "一级指标", "二级指标"],
        ["", "产出指标", "数量指标"],
        ["总分", "100", "99"],
    ]
    assert [line.locator for line in lines][-2:] == ["page 2, table 1, row 1", "page 2, table 1, row 2"]
    # and the parser sees one form whose rows run on after the page break
    from selfeval.extract.read import split_forms

    chunks, _ = split_forms(document.text, "t.pdf")
    assert len(chunks) == 1 and chunks[0].lines[-1][1] == "总分\t100\t99"


@needs_font
def test_pdf_page_numbers_in_the_margins_are_not_rows():
    def draw(pdf):
        for page, footer in ((1, "- 1 -"), (2, "第 2 页 共 2 页")):
            pdf.add_page()
            _grid(pdf, 20, [["绩效指标", "产出指标", f"{page}"]])
            pdf.set_xy(90, 285)
            pdf.cell(30, 5, footer)
        pdf.set_xy(10, 100)
        pdf.cell(30, 5, "12")  # a number in the body of the page stays

    assert [line.cells for line in read_document("t.pdf", _pdf(draw)).lines] == [
        ["绩效指标", "产出指标", "1"],
        ["绩效指标", "产出指标", "2"],
        ["12"],
    ]


@needs_font
def test_pdf_without_rules_is_read_from_word_positions():
    def draw(pdf):
        pdf.add_page()
        for y, cells in ((20, ["项目名称", "公共事务协管经费"]), (30, ["年度资金总额", "128.18", "99.74%"])):
            for x, text in zip((10, 50, 100), cells):
                pdf.set_xy(x, y)
                pdf.cell(40, 5, text)

    assert [line.cells for line in read_document("t.pdf", _pdf(draw)).lines] == [
        ["项目名称", "公共事务协管经费"],
        ["年度资金总额", "128.18", "99.74%"],
    ]


def test_html_rowspan_colspan_boilerplate_and_declared_encoding():
    page = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>
    <table><tr><td><a href="/">首页</a></td><td>政务公开</td></tr></table>
    <p>当前位置：首页 &gt; 财政</p>
    <table class="layout"><tr><td>
      <h3>项目支出绩效自评表</h3><p>（2024年度）</p>
      <table border="1">
        <tr><td>项目名称</td><td colspan="2">网格化&nbsp;&nbsp; 运维</td></tr>
        <tr><td rowspan="2">绩效指标</td><td>产出指标</td><td>数量<br>指标</td></tr>
        <tr><td colspan="2">CPU<br>内存</td></tr>
      </table>
    </td></tr></table>
    <div>电话：010-65099882</div></body></html>"""
    document = read_document("t.html", page.encode("gb18030"))
    assert document.encoding == "gb18030"
    assert [line.cells for line in document.lines] == [
        ["项目支出绩效自评表"],
        ["（2024年度）"],
        ["项目名称", "网格化   运维", ""],
        ["绩效指标", "产出指标", "数量指标"],
        ["", "CPU内存", ""],
    ]  # a <br> inside Chinese text joins without a space, as wrapped cells do


def test_html_table_nested_in_a_form_cell_is_kept_as_rows_of_its_own():
    page = """<html><body><table><tr><td><p>项目支出绩效自评表</p>
      <table border=1><tr><td>项目名称</td><td>运维<table><tr><td>a</td><td>b</td></tr></table></td></tr>
      <tr><td>主管部门</td><td>城管</td></tr></table></td></tr></table>
      <table><tr><td><a href="/">首页</a></td></tr></table></body></html>"""
    assert [line.cells for line in read_document("t.html", page.encode()).lines] == [
        ["项目支出绩效自评表"],
        ["项目名称", "运维"],
        ["a", "b"],
        ["主管部门", "城管"],
    ]


def test_html_title_in_a_table_caption_is_the_title_line():
    page = "<table><caption>朝阳区项目支出绩效自评表</caption><tr><td>项目名称</td><td>运维</td></tr></table>"
    assert [line.cells for line in read_document("t.html", page.encode()).lines] == [
        ["朝阳区项目支出绩效自评表"],
        ["项目名称", "运维"],
    ]


def test_html_encoding_without_meta_utf8_then_gb18030():
    page = "<table><tr><td>项目名称</td><td>运维</td></tr></table>"
    assert read_document("a.htm", page.encode("utf-8")).encoding == "utf-8"
    assert read_document("a.htm", page.encode("gb18030")).lines[0].cells == ["项目名称", "运维"]


def test_sniff_decides_by_content_not_extension(tmp_path):
    import docx
    import openpyxl

    word = _docx_bytes(docx.Document())
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    assert sniff("form.txt", word) == "docx"  # a Word document named .txt
    assert sniff("FORM.DOC", word) == "docx"  # a .docx saved under an old name
    assert sniff("form.xls", out.getvalue()) == "xlsx"
    assert sniff("form.xls", b"<html><table><tr><td>1</td></tr></table></html>") == "html"  # Excel "web page"
    assert sniff("x.bin", b"%PDF-1.4\n...") == "pdf"
    assert sniff("form.txt", "项目支出绩效自评表\n".encode()) == "text"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "hello")
    assert sniff("form.docx", archive.getvalue()) == "zip"
    assert sniff("form.docx", word[: len(word) // 2]) == "docx"  # damaged: the .docx reader says so
    assert sniff("a.xls", _ole("Workbook")) == "xls" and sniff("a.bin", _ole("WordDocument")) == "doc"


def test_raw_folder_lists_every_document_extension_in_any_case(tmp_path):
    for name in ("a.TXT", "b.Docx", "c.pdf", "d.HTM", "e.xls", "f.csv", "sources.csv", "g.png"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in raw_files.raw_files(tmp_path)] == ["a.TXT", "b.Docx", "c.pdf", "d.HTM", "e.xls"]


# --- bad input ----------------------------------------------------------------------------------


def _ole(stream: str) -> bytes:
    """An OLE2 compound-file header with one directory name: enough for the sniffer, which
    reads no further (a real .doc needs Word or LibreOffice to make)."""
    return (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + stream.encode("utf-16-le") + b"\x00\x00" + b"\x00" * 512
    )


def _bad_files() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, a phrase its one error must contain)."""
    import docx
    import openpyxl
    from fpdf import FPDF
    from msoffcrypto.format.ooxml import OOXMLFile
    from PIL import Image

    good_docx = _docx_bytes(docx.Document())
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "项目名称"
    out = io.BytesIO()
    workbook.save(out)
    good_xlsx = out.getvalue()
    encrypted_xlsx = io.BytesIO()
    OOXMLFile(io.BytesIO(good_xlsx)).encrypt("secret", encrypted_xlsx)
    empty = io.BytesIO()
    openpyxl.Workbook().save(empty)
    locked = FPDF()
    locked.add_page()
    locked.set_font("helvetica", size=10)
    locked.text(20, 20, "form")
    locked.set_encryption(owner_password="owner", user_password="user")
    scan = FPDF()
    scan.add_page()
    scan.image(Image.new("RGB", (200, 100), "white"), x=10, y=10, w=100)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("photo.jpg", b"\xff\xd8\xff")
    files = {
        "encrypted.pdf": (bytes(locked.output()), "encrypted PDF"),
        "scan.pdf": (bytes(scan.output()), "scanned: no text layer"),
        "corrupt.docx": (good_docx[: len(good_docx) // 2], "damaged"),
        "corrupt.xlsx": (good_xlsx[:-200], "damaged"),
        "archive.docx": (archive.getvalue(), "zip archive"),
        "protected.xlsx": (encrypted_xlsx.getvalue(), "password-protected"),
        "empty_sheet.xlsx": (empty.getvalue(), "no filled cell"),
    }
    if shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        files["old.doc"] = (_ole("WordDocument"), "install LibreOffice")
    return files


def test_the_same_report_as_text_and_as_a_document_loads_twice_without_a_key_clash(tmp_path):
    """Agencies publish one report in several formats: each file's forms have their own keys."""
    name = "003_d45a1a0ca283005b"
    (tmp_path / f"{name}.txt").write_bytes((RAW / f"{name}.txt").read_bytes())
    (tmp_path / f"{name}.html").write_bytes(render.render_html(render.seed_forms(selection={f"{name}.txt": 3})))
    projects = pipeline.collect(tmp_path)["projects"]
    assert len(projects) == 48 + 3
    assert {f"{name}#001", f"{name}.html#001"} <= set(projects.form_id)


def test_bad_documents_give_one_clear_error_each_and_the_others_load(tmp_path):
    bad = _bad_files()
    for name, (data, _) in bad.items():
        (tmp_path / name).write_bytes(data)
    shutil.copy(RAW / "002_fd002be877c499a2.txt", tmp_path)
    tables = pipeline.collect(tmp_path)
    files = tables["files"].set_index("source_file")
    assert set(files.index) == {*bad, "002_fd002be877c499a2.txt"}  # nothing dropped without a row
    assert files.loc["002_fd002be877c499a2.txt", "forms_loaded"] == 15
    issues = tables["parse_issues"]
    for name, (_, phrase) in bad.items():
        errors = issues[(issues.source_file == name) & (issues.severity == "error")]
        assert len(errors) == 1, (name, list(errors.message))
        message = errors.message.iloc[0]
        assert name in message and phrase in message, message
        assert "Traceback" not in message
        assert files.loc[name, "status"] == "failed" and files.loc[name, "forms_loaded"] == 0
    assert files.loc["protected.xlsx", "format"] == "encrypted"
    assert files.loc["archive.docx", "format"] == "zip"
    assert files.loc["scan.pdf", "format"] == "pdf"


@pytest.mark.skipif(shutil.which("soffice") is not None, reason="LibreOffice is installed: .doc files are converted")
def test_doc_without_libreoffice_names_the_file_and_the_fix():
    with pytest.raises(ReadError, match=r"old\.doc: .*install LibreOffice .* save it as \.docx"):
        read_document("old.doc", _ole("WordDocument"))


@pytest.mark.skipif(shutil.which("soffice") is not None, reason="LibreOffice is installed: RTF files are converted")
def test_rtf_named_doc_is_told_apart_and_gets_the_same_clear_error():
    data = rb"{\rtf1\ansi{\fonttbl\f0 SimSun;}\f0 \u39033?\u30446?}"
    assert sniff("old.doc", data) == "rtf"
    with pytest.raises(ReadError, match=r"old\.doc: a rich-text \(RTF\) file, .*install LibreOffice"):
        read_document("old.doc", data)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_doc_is_converted_by_libreoffice(tmp_path):
    import subprocess

    import docx

    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "项目名称", "运维"
    (tmp_path / "form.docx").write_bytes(_docx_bytes(document))
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "doc", "--outdir", str(tmp_path), str(tmp_path / "form.docx")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = (tmp_path / "form.doc").read_bytes()
    assert sniff("form.doc", data) == "doc"
    assert read_document("form.doc", data).lines[0].cells == ["项目名称", "运维"]


def test_a_reader_failure_is_one_error_not_a_traceback(monkeypatch):
    """A library's unexpected exception (not a ReadError) still becomes one error row."""
    from selfeval.extract.formats import html

    monkeypatch.setattr(html, "read", lambda name, data: 1 / 0)
    result = per_file.parse_file("page.html", b"<html><table></table></html>", None)
    errors = [i for i in result.issues if i.severity == "error"]
    assert len(errors) == 1 and "ZeroDivisionError" in errors[0].message and "page.html" in errors[0].message
    assert result.file_row["status"] == "failed" and result.file_row["format"] == "html"


def test_formats_package_lists_what_the_files_table_accepts():
    from selfeval.schema import fields as schema

    column = next(c for c in schema.TABLES["files"]["columns"] if c.name == "format")
    assert column.nullable  # null only for an entry not read (skipped)
    assert set(formats.DOCUMENT_FORMATS) < set(formats.sniffing.FORMATS)


def test_a_web_page_named_txt_is_read_as_the_page_it_is():
    page = (
        "<html><body><h1>项目支出绩效自评表</h1><table><tr><td>项目名称</td><td>公共事务协管经费</td></tr>"
        "</table></body></html>"
    )
    result = per_file.parse_file("form_as_html.txt", page.encode(), None)
    assert (result.file_row["format"], result.file_row["titles_seen"], result.file_row["forms_loaded"]) == (
        "html",
        1,
        1,
    )
    # a form with a name but nothing else is loaded as partial, saying what is missing and where
    assert (result.projects[0]["completeness"], result.projects[0]["missing_parts"]) == (
        "partial",
        "fund_total; goal; indicators; total",
    )
    assert "no 年度资金总额 row found in 项目资金 [text 1]" in [i.message for i in result.issues]  # at the title
