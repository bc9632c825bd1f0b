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
- A page whose glyphs pdfminer cannot map to Unicode (it prints "(cid:12)": a font without a
  /ToUnicode map that pdfminer's fallbacks do not cover), or where it finds no text at all, is
  read again with pdfium (pypdfium2, pdfplumber's own renderer): pdfium's characters and their
  boxes take the place of pdfminer's on the page, and the page's ruled lines (which pdfminer
  still reads) cut them into the same table cells. `Document.read_by` says so
  ("pdfium (pdfminer gave (cid:N) glyphs)"); `selfeval inspect` prints it.
- No text layer at all (a scan): one error, "scanned: no text layer". An encrypted PDF
  (a password to open it): one error. Glyphs neither engine maps to Unicode (pdfminer's
  "(cid:12)", pdfium's control or private-use characters): one error.
"""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Any

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
    pdfium = _Pdfium(data)
    by_pdfium: dict[int, str] = {}  # page number -> what pdfminer gave on it
    try:
        for page_number, page in enumerate(pages, start=1):
            page_chars = page.chars
            unmapped = sum(1 for char in page_chars if char["text"].startswith("(cid:"))
            failed = "no text" if not page_chars else "(cid:N) glyphs" if _too_many(unmapped, len(page_chars)) else None
            read_page = page
            if failed:
                glyphs = pdfium.chars(page_number - 1, page)
                if glyphs:
                    read_page = _with_chars(page, glyphs)
                    page_chars = glyphs
                    by_pdfium[page_number] = failed
            chars += len(page_chars)
            page_lines = _page_lines(read_page, page_number)
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
        pdfium.close()
    if chars == 0:
        raise ReadError(
            f"{name}: scanned: no text layer (the PDF's {len(pages)} page(s) hold images only); "
            "ask for the Word/Excel original or a PDF with text, or run OCR on it first"
        )
    if cid and _too_many(cid, sum(len(cell) for line in lines for cell in line.cells)):
        either = ", and pdfium finds no readable text either" if pdfium.looked else ""
        raise ReadError(
            f"{name}: the PDF's fonts have no Unicode map (text reads as (cid:N) glyphs{either}); "
            "ask for the Word/Excel original or a PDF saved with embedded Unicode fonts"
        )
    return Document(PDF, lines, read_by=_read_by(by_pdfium, len(pages)))


def _too_many(bad: int, total: int) -> bool:
    """More than one glyph in 20 unreadable: the page's text is not worth reading."""
    return bad * 20 > total


def _read_by(by_pdfium: dict[int, str], page_count: int) -> str | None:
    """Which engine read the text, when it was not pdfminer (pdfplumber's) alone."""
    if not by_pdfium:
        return None
    why = " and ".join(sorted(set(by_pdfium.values())))
    if len(by_pdfium) == page_count:
        return f"pdfium (pdfminer gave {why})"
    pages = ", ".join(map(str, sorted(by_pdfium)))
    return f"pdfium on page(s) {pages} of {page_count} (pdfminer gave {why}), pdfminer on the others"


class _Pdfium:
    """The PDF opened in pdfium once, on the first page pdfminer cannot read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.document: Any = None  # a pypdfium2.PdfDocument, opened when first needed
        self.failed = False
        self.looked = False  # pdfium read at least one page (and found no usable text there)

    def chars(self, index: int, page) -> list[dict]:
        """The page's characters as pdfium reads them, as pdfplumber char objects (its top-left
        coordinates); [] when pdfium finds no text either, or only glyphs without a Unicode value."""
        if self.failed or page.rotation:  # a rotated page's boxes would need turning to pdfplumber's view
            return []
        try:
            if self.document is None:
                import pypdfium2

                self.document = pypdfium2.PdfDocument(self.data)
            pdfium_page = self.document[index]
            try:
                self.looked = True
                return _pdfium_chars(pdfium_page, page)
            finally:
                pdfium_page.close()
        except Exception:  # pdfium cannot read what pdfminer read: pdfminer's text stands (and its error)
            self.failed = True
            return []

    def close(self) -> None:
        if self.document is not None:
            self.document.close()


def _pdfium_chars(pdfium_page, page) -> list[dict]:
    import pypdfium2.raw as pdfium_c

    textpage = pdfium_page.get_textpage()
    glyphs: list[tuple[str, float, float, float, float, float]] = []  # text, left, bottom, right, top, size
    bad = shown = 0
    try:
        for index in range(textpage.count_chars()):
            if pdfium_c.FPDFText_IsGenerated(textpage, index) == 1:
                continue  # spaces and line breaks pdfium adds between text runs: pdfminer has none
            text = chr(pdfium_c.FPDFText_GetUnicode(textpage, index))
            if _unreadable(text):
                bad += 1
                text = "\ufffd"  # shown as unreadable, never as a tab or line break cutting the row
            shown += not text.isspace()
            # the loose box: the advance width and the font's ascent and descent, as pdfminer's boxes
            left, bottom, right, top = textpage.get_charbox(index, loose=True)
            glyphs.append((text, left, bottom, right, top, pdfium_c.FPDFText_GetFontSize(textpage, index)))
    finally:
        textpage.close()
    if not shown or _too_many(bad, shown):
        return []
    # pdfium's boxes are in PDF user space (origin bottom-left); pdfplumber measures `top` down
    # from the top of the media box (page.mediabox[1] is where that top lies in its coordinates)
    media_top = float(page.page_obj.mediabox[3])
    offset = float(page.mediabox[1])
    result = []
    for text, left, bottom, right, top, size in _space_runs(glyphs):
        y_top, y_bottom = media_top - top + offset, media_top - bottom + offset
        result.append(
            {
                "object_type": "char",
                "page_number": page.page_number,
                "text": text,
                "fontname": "",
                "size": size,
                "upright": True,
                "x0": left,
                "x1": right,
                "y0": bottom,
                "y1": top,
                "top": y_top,
                "bottom": y_bottom,
                "doctop": page.initial_doctop + y_top,
                "width": right - left,
                "height": y_bottom - y_top,
            }
        )
    return result


def _space_runs(glyphs: list[tuple[str, float, float, float, float, float]]):
    """The glyphs with each run of spaces whole again: pdfium keeps the first space of a run and
    drops the others, whose width is still the gap before the next glyph on the line (a cell's
    "7523.297万元   133人" would lose its spaces, which pdfminer and the text exports keep)."""
    for (text, left, bottom, right, top, size), following in zip(glyphs, [*glyphs[1:], None]):
        yield text, left, bottom, right, top, size
        width = right - left
        if text != " " or following is None or width <= 0 or abs(following[2] - bottom) > 0.5:
            continue
        for number in range(1, round((following[1] - right) / width) + 1):
            yield " ", right + (number - 1) * width, bottom, right + number * width, top, size


def _unreadable(char: str) -> bool:
    """A glyph pdfium gives without a real character: a control code (its raw glyph number), a
    private-use or unassigned code point, a surrogate, the replacement character."""
    return char == "\ufffd" or unicodedata.category(char) in ("Cc", "Co", "Cn", "Cs")


def _with_chars(page, chars: list[dict]):
    """The page with `chars` in place of pdfminer's: its lines, rectangles and so its table grid
    stay. Done as pdfplumber's own Page.dedupe_chars does (a filtered page given its objects)."""
    derived = page.filter(lambda obj: True)
    derived._objects = {**page.objects, "char": chars}
    return derived


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
