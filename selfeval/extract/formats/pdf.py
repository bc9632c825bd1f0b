"""PDF with a text layer -> lines: each page's ruled tables, row by row, and the text
outside them, in reading order (top to bottom) (pdfplumber).

- A merged cell is one cell of the ruled grid: pdfplumber gives its text once and `None`
  at the other grid positions it covers, read as "".
- A cell's wrapped lines are joined as the text exports join them (Chinese without a space).
- A table continued on the next page is simply more rows: a form lasts until the next title
  line, whatever page its rows are on, so a form split over pages stays one form.
- Page numbers in the top and bottom margins are left out.
- A page without ruled tables is read from word positions: words on one line (same top)
  form a row, and a gap wider than a character starts a new cell.
- No text layer at all (a scan): one error, "scanned: no text layer". An encrypted PDF
  (a password to open it): one error. Glyphs without a Unicode map ("(cid:12)"): one error.
"""

from __future__ import annotations

import io
import re

from selfeval.extract.formats import Document, Line, ReadError, clean_cell, join_wrapped
from selfeval.extract.formats.sniff import PDF
from selfeval.vocab.labels import VOCAB

# a row of words: tops within this many points are one line
_LINE_TOLERANCE = 3.0
# a gap between words wider than this many times the font size starts a new cell
_CELL_GAP = 1.0
# page numbers in the top or bottom margin ("- 3 -", "第 3 页 共 8 页", "3/8") are not rows of a
# form: a form running over the page would otherwise get a stray number among its rows
_PAGE_NUMBER = re.compile(VOCAB["page_number_pattern"])
_MARGIN_SHARE = 0.08  # of the page height, at the top and at the bottom


def read(name: str, data: bytes) -> Document:
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pages = pdf.pages
    except Exception as exc:  # pdfplumber wraps pdfminer's errors; their names tell encryption apart
        if _encrypted(exc):
            raise ReadError(
                f"{name}: encrypted PDF (a password is needed to open it); open it with the password "
                "and print or save a copy without one"
            ) from None
        raise ReadError(f"{name}: damaged or not a PDF ({type(exc).__name__}); ask for a new copy") from None
    lines: list[Line] = []
    chars = cid = 0
    try:
        for page_number, page in enumerate(pages, start=1):
            chars += len(page.chars)
            page_lines = _page_lines(page, page_number)
            cid += sum(cell.count("(cid:") for line in page_lines for cell in line.cells)
            lines += page_lines
            page.close()  # frees the page's layout objects: long PDFs stay small in memory
    except ReadError:
        raise
    except Exception as exc:
        if _encrypted(exc):
            raise ReadError(
                f"{name}: encrypted PDF (a password is needed to open it); open it with the password "
                "and print or save a copy without one"
            ) from None
        raise ReadError(
            f"{name}: damaged PDF, a page cannot be read ({type(exc).__name__}); ask for a new copy"
        ) from None
    finally:
        pdf.close()
    if chars == 0:
        raise ReadError(
            f"{name}: scanned: no text layer (the PDF's {len(pages)} page(s) hold images only); "
            "ask for the Word/Excel original or a PDF with text, or run OCR on it first"
        )
    if cid and cid * 20 > sum(len(cell) for line in lines for cell in line.cells):
        raise ReadError(
            f"{name}: the PDF's fonts have no Unicode map (text reads as (cid:N) glyphs); "
            "ask for the Word/Excel original or a PDF saved with embedded Unicode fonts"
        )
    return Document(PDF, lines)


def _encrypted(exc: BaseException) -> bool:
    """pdfminer's PDFPasswordIncorrect / PDFEncryptionError, also as the cause (or the
    argument: pdfplumber's PdfminerException) of the exception pdfplumber raises."""
    seen: BaseException | None = exc
    for _ in range(8):  # a chain of causes is short; never loop on a cycle
        if seen is None:
            break
        if any(word in type(seen).__name__ for word in ("Password", "Encrypt")) or "password" in str(seen).lower():
            return True
        argument = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = seen.__cause__ or seen.__context__ or argument
    return False


def _page_lines(page, page_number: int) -> list[Line]:
    """A page's table rows and free text lines, ordered by their top."""
    items: list[tuple[float, int, list[Line]]] = []
    tables = page.find_tables()
    outside = page
    for table_number, table in enumerate(tables, start=1):
        rows = table.extract(keep_blank_chars=True)
        where = f"page {page_number}, table {table_number}"
        table_lines = [
            Line([clean_cell(cell) for cell in row], f"{where}, row {number}")
            for number, row in enumerate(rows, start=1)
        ]
        items.append((table.bbox[1], 1, [line for line in table_lines if any(line.cells)]))
        outside = outside.outside_bbox(table.bbox)
    for top, cells in _word_lines(outside):
        in_margin = top < page.height * _MARGIN_SHARE or top > page.height * (1 - _MARGIN_SHARE)
        if in_margin and _PAGE_NUMBER.match(" ".join(cells)):
            continue
        items.append((top, 0, [Line(cells, f"page {page_number}, text at {top:.0f} pt")]))
    items.sort(key=lambda item: (item[0], item[1]))
    return [line for _, _, group in items for line in group]


def _word_lines(page) -> list[tuple[float, list[str]]]:
    """Text not in a ruled table: words grouped into lines by their top, a line cut into
    cells where the gap between two words is wider than a character."""
    words = page.extract_words(keep_blank_chars=False, use_text_flow=False, x_tolerance=1.5)
    words.sort(key=lambda w: (round(w["top"]), w["x0"]))
    grouped: list[list[dict]] = []
    for word in words:
        if grouped and abs(grouped[-1][0]["top"] - word["top"]) <= _LINE_TOLERANCE:
            grouped[-1].append(word)
        else:
            grouped.append([word])
    result = []
    for group in grouped:
        group.sort(key=lambda w: w["x0"])
        cells: list[list[str]] = [[group[0]["text"]]]
        for previous, word in zip(group, group[1:]):
            size = max(word["bottom"] - word["top"], 1.0)
            if word["x0"] - previous["x1"] > _CELL_GAP * size:
                cells.append([word["text"]])
            else:
                cells[-1].append(word["text"])
        result.append((group[0]["top"], [clean_cell(join_wrapped(parts)) for parts in cells]))
    return result
