"""PDFs whose fonts pdfminer cannot map to Unicode are read by pdfium (issue 14, item 1).

The fixtures are real PDFs: the seed forms rendered by tests/fixtures/render.py (fpdf2, an
embedded CJK TrueType subset), then rewritten by tests/fixtures/unmapped_pdf.py without the
fonts' /ToUnicode map:
- `unicode_codes`: the glyph codes are the characters' Unicode values. pdfminer prints
  "(cid:N)" (and wrong digits); pdfium reads the text. The reader takes pdfium's characters,
  cut into cells by the ruled grid pdfplumber still finds, and must give the same projects,
  funds and indicators as the text exports, cell for cell.
- `glyph_codes`: the subset's glyph numbers, and no `cmap` in the font. Neither engine can
  read it: one clear error, and the other files of the folder still load.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from selfeval.extract.formats import ReadError, read_document
from selfeval.run import inspect, per_file, pipeline
from tests.fixtures import render, unmapped_pdf
from tests.test_formats import RAW, _without_source

pytestmark = pytest.mark.skipif(
    not render.fonts_available(), reason=f"PDF fixtures need {render.FONT_FILE} (make fonts: fonts-wqy-zenhei)"
)

SMALL = {"003_d45a1a0ca283005b.txt": 2}  # two forms: 财务管理软件运维服务经费 first
ENGINE = "text read by pdfium (pdfminer gave (cid:N) glyphs)"


@pytest.fixture(scope="module")
def normal_pdfs() -> dict[str, bytes]:
    """Every seed file's forms (30) as PDF, with the fonts' Unicode map: what pdfminer reads."""
    return {
        seed: render.render_pdf(render.seed_forms(selection={seed: count})) for seed, count in render.SEED_FORMS.items()
    }


@pytest.fixture(scope="module")
def unmapped(normal_pdfs, tmp_path_factory) -> dict[str, Path]:
    """The same PDFs without a Unicode map pdfminer can use, named after their seed file."""
    folder = tmp_path_factory.mktemp("unmapped")
    paths = {}
    for seed, data in normal_pdfs.items():
        paths[seed] = folder / f"{Path(seed).stem}.pdf"
        paths[seed].write_bytes(unmapped_pdf.unicode_codes(data))
    return paths


@pytest.fixture(scope="module")
def text_results():
    return {name: per_file.parse_file(name, (RAW / name).read_bytes(), None) for name in render.SEED_FORMS}


def test_pdfminer_gives_cid_glyphs_where_pdfium_reads_the_text(unmapped):
    import pdfplumber
    import pypdfium2

    data = unmapped["003_d45a1a0ca283005b.txt"].read_bytes()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = pdf.pages[0].extract_text()
    # 项目名称 财务管理软件运维服务经费 is the first form's name (003, line 7 of the text export)
    assert "财务管理软件运维服务经费" not in text
    assert text.count("(cid:") > 500  # the Chinese glyphs, as pdfminer prints them
    document = pypdfium2.PdfDocument(data)
    try:
        assert "财务管理软件运维服务经费" in document[0].get_textpage().get_text_range()
    finally:
        document.close()


@pytest.mark.parametrize("seed", list(render.SEED_FORMS))
def test_the_fallback_reads_the_same_tables_as_the_text_export(seed, unmapped, text_results):
    path = unmapped[seed]
    result = per_file.parse_file(path.name, path.read_bytes(), None)
    text = text_results[seed]
    count = render.SEED_FORMS[seed] or len(text.projects)
    assert result.file_row["format"] == "pdf"
    assert result.file_row["forms_loaded"] == count and result.file_row["forms_rejected"] == 0
    assert not [i for i in result.issues if i.severity == "error"]
    for part in ("projects", "funds", "indicators"):
        expected = [row for row in getattr(text, part) if int(row["form_id"].split("#")[1]) <= count]
        assert _without_source(getattr(result, part)) == _without_source(expected), part


def test_the_fallback_gives_the_rows_pdfminer_reads_from_the_mapped_pdf(unmapped, normal_pdfs):
    """File 000 (the Word template: level cells merged down; a target cell with a run of 28 spaces,
    of which pdfium keeps one) read by pdfium gives pdfminer's rows of the mapped PDF, cell for cell."""
    seed = "000_cbaa33e73a3cfdfd.txt"
    mapped = read_document("mapped.pdf", normal_pdfs[seed])
    fallback = read_document("unmapped.pdf", unmapped[seed].read_bytes())
    assert mapped.read_by is None
    assert fallback.read_by == "pdfium (pdfminer gave (cid:N) glyphs)"
    assert [line.cells for line in fallback.lines] == [line.cells for line in mapped.lines]
    spaced = [cell for line in fallback.lines for cell in line.cells if "7523.297万元" in cell]
    assert spaced and "7523.297万元" + " " * 28 + "133人" in spaced[0]


def test_only_the_pages_pdfminer_cannot_read_go_to_pdfium():
    import pikepdf

    normal = render.render_pdf(render.seed_forms(selection=SMALL))
    both = pikepdf.open(io.BytesIO(normal))
    pages = len(both.pages)
    both.pages.extend(pikepdf.open(io.BytesIO(unmapped_pdf.unicode_codes(normal))).pages)
    out = io.BytesIO()
    both.save(out)
    document = read_document("both.pdf", out.getvalue())
    others = ", ".join(str(n) for n in range(pages + 1, 2 * pages + 1))
    assert document.read_by == (
        f"pdfium on page(s) {others} of {2 * pages} (pdfminer gave (cid:N) glyphs), pdfminer on the others"
    )
    cells = [line.cells for line in document.lines]
    assert cells[: len(cells) // 2] == cells[len(cells) // 2 :]
    assert cells[2] == ["项目名称", "财务管理软件运维服务经费"] + [""] * 7  # the text export's line 7, 9 cells


def test_inspect_names_the_engine(unmapped, normal_pdfs, tmp_path, capsys):
    path = unmapped["003_d45a1a0ca283005b.txt"]
    assert inspect.main([str(path)]) == 0
    shown = capsys.readouterr().out
    assert f"{path}: pdf, " in shown and "8 form(s) found" in shown
    assert f"\n  {ENGINE}\n" in shown
    assert "project: '财务管理软件运维服务经费', year 2022" in shown
    mapped = tmp_path / "mapped.pdf"
    mapped.write_bytes(normal_pdfs["003_d45a1a0ca283005b.txt"])
    inspect.main([str(mapped), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "pdf" and report["read_by"] is None and len(report["forms"]) == 8


def test_glyphs_neither_engine_maps_give_one_clear_error_and_the_other_files_load(unmapped, tmp_path):
    data = unmapped_pdf.glyph_codes(render.render_pdf(render.seed_forms(selection=SMALL)))
    with pytest.raises(ReadError, match=r"^glyphs\.pdf: .*no Unicode map .*\(cid:N\).*pdfium finds no readable text"):
        read_document("glyphs.pdf", data)
    (tmp_path / "glyphs.pdf").write_bytes(data)
    (tmp_path / "unmapped.pdf").write_bytes(unmapped["003_d45a1a0ca283005b.txt"].read_bytes())
    (tmp_path / "002_fd002be877c499a2.txt").write_bytes((RAW / "002_fd002be877c499a2.txt").read_bytes())
    tables = pipeline.collect(tmp_path)
    files = tables["files"].set_index("source_file")
    assert set(files.index) == {"glyphs.pdf", "unmapped.pdf", "002_fd002be877c499a2.txt"}
    assert files.loc["glyphs.pdf", "status"] == "failed" and files.loc["glyphs.pdf", "forms_loaded"] == 0
    assert files.loc["unmapped.pdf", "forms_loaded"] == 8
    assert files.loc["002_fd002be877c499a2.txt", "forms_loaded"] == 15
    issues = tables["parse_issues"]
    errors = issues[(issues.source_file == "glyphs.pdf") & (issues.severity == "error")]
    assert len(errors) == 1 and "(cid:N)" in errors.message.iloc[0]
    # the file read by pdfium says so in parse_issues, so the tables show which text to double-check
    read = issues[(issues.source_file == "unmapped.pdf") & issues.message.str.contains("pdfium", na=False)]
    assert read.severity.tolist() == ["warning"]
    assert read.message.iloc[0].startswith("unmapped.pdf: text read by pdfium (pdfminer gave (cid:N) glyphs)")
