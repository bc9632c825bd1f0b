"""Saved web pages (.html/.htm) -> lines: the form tables' rows and the title lines (lxml).

- Encoding: a BOM, else the page's own <meta charset> / http-equiv Content-Type (gb2312 and
  gbk read as their superset GB18030), else UTF-8, else GB18030.
- rowspan/colspan are expanded over a grid: a merged cell's text in its first position and
  "" in the others, so every row keeps its columns.
- Site boilerplate is left out: a table is read only when one of its own cells is a label
  of the form (vocabulary.yaml: 项目名称, 年度资金总额, 一级指标...) or a form title (a table
  nested in one of its cells then gives lines of its own after that row); a table without
  such a cell is looked through when it holds tables (a layout table around the content)
  and left out otherwise: navigation bars, link lists and footers. Text outside tables is kept only when it is a form
  title or a year line (（2024年度）), the lines the text exports print above each table.
- Text is read as a browser shows it: runs of white space are one space, <br> and block
  ends break a cell's lines, &nbsp; is a space.
"""

from __future__ import annotations

import re

from selfeval.extract.formats import Document, Line, ReadError, clean_cell, join_wrapped
from selfeval.extract.formats.sniff import HTML
from selfeval.extract.read import is_title
from selfeval.vocab import labels as vocab

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.IGNORECASE)
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "utf8": "utf-8"}
_SPACES = re.compile(r"[ \t\r\n\f]+")
_BLOCKS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol section article header footer nav table tr td th "
    "caption thead tbody tfoot center pre blockquote dl dt dd form body".split()
)
_BRACKETS: str = vocab.VOCAB["brackets"]  # around a year printed on its own line
_SKIPPED = frozenset(("script", "style", "noscript", "template", "head", "title"))
_LABELS = frozenset(
    (
        *vocab.HEADER_LABELS,
        *vocab.FUND_LINES,
        *vocab.FUND_COLUMNS,
        *vocab.INDICATOR_HEADER,
        *vocab.FUNDS_BLOCK,
        *vocab.GOAL_BLOCK,
        *vocab.INDICATOR_BLOCK,
        *vocab.TOTAL_ROW,
    )
)


def decode(name: str, data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    declared = _META_CHARSET.search(data[:4096])
    candidates = []
    if declared:
        label = declared.group(1).decode("ascii", "ignore").lower()
        candidates.append(_ALIASES.get(label, label))
    candidates += ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    raise ReadError(
        f"{name}: web page in an unknown encoding (not {', '.join(dict.fromkeys(candidates))}); "
        "open it in a browser and save it again as UTF-8"
    )


def read(name: str, data: bytes) -> Document:
    import lxml.html
    from lxml import etree

    text, encoding = decode(name, data)
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ReadError(f"{name}: not a readable web page ({type(exc).__name__}: {exc})") from None
    lines: list[Line] = []
    _walk(root, lines, {"table": 0, "text": 0}, [])
    if not lines:
        raise ReadError(
            f"{name}: {vocab.MESSAGES['web_page_without_form']}; "
            "check that the page is the form itself, not a list of links to it"
        )
    return Document(HTML, lines, encoding)


def _tag(element) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def _walk(element, lines: list[Line], counter: dict, buffer: list[str], in_form: bool = False) -> None:
    """Document order: tables as rows, other text gathered into lines at block ends.
    in_form: the element is a table nested in a form table's cell (kept whatever it holds)."""
    tag = _tag(element)
    if tag in _SKIPPED or not tag:
        return
    if tag == "table":
        rows, nested = _grid(element)
        labelled = any(vocab.norm_label(cell) in _LABELS for row in rows for cell in row)
        # a title in a cell makes a form table only of a table without tables inside: a
        # layout table's cell holding the title paragraph and the form table is looked through
        titled = not any(nested) and any(is_title(cell) for row in rows for cell in row)
        if in_form or labelled or titled:
            # a form table: its rows, and a table nested in a row's cell as lines after that row
            _flush(buffer, lines, counter)
            for caption in (c for c in element if _tag(c) == "caption"):  # the title is often printed there
                buffer.append(_cell_text(caption))
                _flush(buffer, lines, counter)
            counter["table"] += 1
            where = f"table {counter['table']}"
            for number, (row, inner) in enumerate(zip(rows, nested), start=1):
                if any(row):
                    lines.append(Line(row, f"{where}, row {number}"))
                for table in inner:
                    _walk(table, lines, counter, [], in_form=True)
            return
        if not any(nested):
            return  # a table of links, a footer: site boilerplate
        # else a layout table around the content: looked through below
    block = tag in _BLOCKS or tag == "br"
    if block:
        _flush(buffer, lines, counter)
    if element.text and tag != "br":
        buffer.append(element.text)
    for child in element:
        _walk(child, lines, counter, buffer)
        if child.tail:
            buffer.append(child.tail)
    if block:
        _flush(buffer, lines, counter)


def _flush(buffer: list[str], lines: list[Line], counter: dict) -> None:
    """Text gathered outside tables: kept if it is a form title or a year line."""
    text = _visible("".join(buffer))
    buffer.clear()
    if not text:
        return
    counter["text"] += 1
    if is_title(text) or vocab.YEAR.fullmatch(vocab.norm_label(text).strip(_BRACKETS)):
        lines.append(Line([text], f"text {counter['text']}"))


def _visible(text: str) -> str:
    return _SPACES.sub(" ", text).replace("\xa0", " ").strip()


def _cell_text(cell) -> str:
    """A cell's text as shown: <br> and blocks break lines, joined as wrapped lines are."""
    parts: list[str] = []

    def walk(element) -> None:
        tag = _tag(element)
        if tag in _SKIPPED or (tag == "table" and element is not cell):
            return  # a nested table is read as rows of its own
        if tag == "br" or (tag in _BLOCKS and parts):
            parts.append("\n")
        if element.text and tag != "br":
            parts.append(element.text)
        for child in element:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(cell)
    return clean_cell(join_wrapped([_visible(part) for part in "".join(parts).split("\n")]))


def _grid(table) -> tuple[list[list[str]], list[list]]:
    """The table's own rows with rowspan/colspan expanded (a merged cell's text once), and
    for each row the tables nested in its cells."""
    rows: list[list[str]] = []
    nested: list[list] = []
    pending: dict[tuple[int, int], bool] = {}  # grid positions covered by a rowspan from above
    trs = [tr for tr in table.iter("tr") if _owner(tr) is table]
    for r, tr in enumerate(trs):
        row: list[str] = []
        column = 0
        nested.append([t for c in tr if _tag(c) in ("td", "th") for t in c.iter("table") if _owner_of(t) is c])
        for cell in (c for c in tr if _tag(c) in ("td", "th")):
            while pending.pop((r, column), False):
                row.append("")
                column += 1
            colspan, rowspan = _span(cell.get("colspan")), _span(cell.get("rowspan"))
            row += [_cell_text(cell)] + [""] * (colspan - 1)
            for down in range(1, rowspan):
                for across in range(colspan):
                    pending[(r + down, column + across)] = True
            column += colspan
        while pending.pop((r, column), False):
            row.append("")
            column += 1
        rows.append(row)
    width = max(map(len, rows), default=0)
    return [row + [""] * (width - len(row)) for row in rows], nested


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))  # a page's rowspan="9999" must not build a huge grid
    except ValueError:
        return 1


def _owner_of(table):
    """The cell (td/th) a nested table sits in, directly (not in a deeper table)."""
    parent = table.getparent()
    while parent is not None and _tag(parent) not in ("td", "th", "table"):
        parent = parent.getparent()
    return parent


def _owner(tr):
    parent = tr.getparent()
    while parent is not None and _tag(parent) != "table":
        parent = parent.getparent()
    return parent
