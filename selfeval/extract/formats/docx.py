"""Word .docx -> lines: paragraphs and table rows in document order.

python-docx's `table.rows[i].cells` repeats a merged cell at every grid position it covers
(a level-1 label merged over eight rows would be read eight times), so the table XML is
walked here instead: `w:gridSpan` (merged across) gives the text once and "" for the other
columns it covers, `w:vMerge` without val="restart" (merged down) gives "", and
`w:gridBefore`/`w:gridAfter` (grid columns a row skips) give "". A table nested in a cell
becomes lines of its own after the row that holds it. Content controls (`w:sdt`) are
looked through.
"""

from __future__ import annotations

import io
import zipfile

from selfeval.extract.formats import Document, Line, ReadError, clean_cell, join_wrapped
from selfeval.extract.formats.sniff import DOCX

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def read(name: str, data: bytes) -> Document:
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ReadError(
            f"{name}: damaged or not a Word .docx document ({type(exc).__name__}: {exc}); "
            "open it in Word and save it again as .docx, or ask for a new copy"
        ) from None
    except Exception as exc:  # lxml's XMLSyntaxError and the like: a damaged part inside the zip
        raise ReadError(
            f"{name}: damaged Word .docx document ({type(exc).__name__}); "
            "open it in Word and save it again as .docx, or ask for a new copy"
        ) from None
    lines: list[Line] = []
    counter = {"table": 0, "paragraph": 0}
    _walk(document.element.body, lines, counter)
    return Document(DOCX, lines)


def _walk(container, lines: list[Line], counter: dict) -> None:
    """The block-level children of the body (or of a content control) in document order."""
    for child in container.iterchildren():
        tag = child.tag
        if tag == f"{_W}p":
            counter["paragraph"] += 1
            text = clean_cell(_paragraph_text(child))
            if text:
                lines.append(Line([text], f"paragraph {counter['paragraph']}"))
        elif tag == f"{_W}tbl":
            counter["table"] += 1
            _table(child, lines, counter, f"table {counter['table']}")
        elif tag == f"{_W}sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                _walk(content, lines, counter)


def _table(tbl, lines: list[Line], counter: dict, where: str) -> None:
    nested: list = []
    for number, tr in enumerate(_rows(tbl), start=1):
        cells: list[str] = []
        before, after = _tr_grid(tr, "gridBefore"), _tr_grid(tr, "gridAfter")
        cells += [""] * before
        for tc in _cells(tr):
            span, merged_down = _tc_props(tc)
            text = (
                ""
                if merged_down
                else clean_cell(join_wrapped([_paragraph_text(p) for p in tc.iter(f"{_W}p") if _owner_cell(p) is tc]))
            )
            cells += [text] + [""] * (span - 1)
            nested += [t for t in tc.iter(f"{_W}tbl") if t is not tbl and _owner_table(t) is tbl]
        cells += [""] * after
        if any(cells):
            lines.append(Line(cells, f"{where}, row {number}"))
        for inner in nested:
            counter["table"] += 1
            _table(inner, lines, counter, f"{where}, row {number}, nested table {counter['table']}")
        nested = []


def _rows(tbl):
    """The table's own rows (w:tr), also those inside content controls, not a nested table's."""
    for child in tbl.iterchildren():
        if child.tag == f"{_W}tr":
            yield child
        elif child.tag == f"{_W}sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from (c for c in content.iterchildren() if c.tag == f"{_W}tr")


def _cells(tr):
    for child in tr.iterchildren():
        if child.tag == f"{_W}tc":
            yield child
        elif child.tag == f"{_W}sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from (c for c in content.iterchildren() if c.tag == f"{_W}tc")


def _tr_grid(tr, name: str) -> int:
    element = tr.find(f"{_W}trPr/{_W}{name}")
    return _int(element.get(f"{_W}val")) if element is not None else 0


def _tc_props(tc) -> tuple[int, bool]:
    """(columns the cell spans, True when it continues a vertical merge)."""
    span = tc.find(f"{_W}tcPr/{_W}gridSpan")
    vmerge = tc.find(f"{_W}tcPr/{_W}vMerge")
    columns = max(1, _int(span.get(f"{_W}val"))) if span is not None else 1
    # <w:vMerge/> or val="continue": covered by the cell above; val="restart": a merge starts here
    continued = vmerge is not None and vmerge.get(f"{_W}val", "continue") != "restart"
    return columns, continued


def _int(value: str | None) -> int:
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def _owner_cell(element):
    parent = element.getparent()
    while parent is not None and parent.tag != f"{_W}tc":
        parent = parent.getparent()
    return parent


def _owner_table(element):
    parent = element.getparent()
    while parent is not None and parent.tag != f"{_W}tbl":
        parent = parent.getparent()
    return parent


def _paragraph_text(p) -> str:
    """A paragraph's visible text: runs (also inside hyperlinks, fields and insertions),
    tabs as spaces, breaks as line ends; deleted text (w:delText) is not read."""
    parts: list[str] = []
    for element in p.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr", f"{_W}noBreakHyphen"):
        tag = element.tag
        if tag == f"{_W}t":
            parts.append(element.text or "")
        elif tag == f"{_W}tab":
            if element.getparent().tag == f"{_W}r":  # a tab character, not a tab stop (w:pPr/w:tabs/w:tab)
                parts.append(" ")
        elif tag == f"{_W}noBreakHyphen":
            parts.append("-")
        else:
            parts.append("\n")
    return "".join(parts)
