"""A form's lines -> rows of cells: the Row, the layout test, and the dispatch to one module per layout.

The layouts are detected per form by scoring its lines (not by file name):
- tab_rows (PDF export, files 002 and 003): one line per table row, cells separated by tabs;
  cells may be shifted left or right (form.py copes).
- cell_per_line (Word export, file 000): each cell is a line starting with a tab, a cell's
  wrapped text continues on lines without a tab ("绩\\n效\\n指\\n标"), and a blank line ends a row.
- paragraphs: one cell per paragraph, blank lines between, U+00A0 for an empty cell.
- pipe_table: `| a | b |` rows or one cell per line ending ` |` (HTML tables saved as text).
- flattened: a whole form on one line, cells separated by spaces (a .docx pulled onto one line).
- aligned: columns aligned with spaces (`pdftotext -layout`).
The first two keep their rows; the last four (STREAM_LAYOUTS) lose them (rowspans, dropped
empty cells), and the parser reads their cells in order (parse/stream.py).
"""

from __future__ import annotations

import re
from operator import itemgetter, methodcaller

from selfeval.extract.layouts import aligned, cell_per_line, flattened, paragraphs, pipe_table, tab_rows
from selfeval.extract.read import Chunk, split_forms
from selfeval.extract.row import Row  # noqa: F401  (the rows this module returns)
from selfeval.schema.issues import Issue
from selfeval.vocab.labels import TITLE_WORDS, YEAR, norm_label

CELL_PER_LINE = "cell_per_line"
TAB_ROWS = "tab_rows"
PARAGRAPHS = "paragraphs"
PIPE_TABLE = "pipe_table"
FLATTENED = "flattened"
ALIGNED = "aligned"
# the layouts whose rows are not reliable: read cell by cell
STREAM_LAYOUTS = frozenset({PARAGRAPHS, PIPE_TABLE, FLATTENED, ALIGNED})
_MODULES = {
    CELL_PER_LINE: cell_per_line,
    TAB_ROWS: tab_rows,
    PARAGRAPHS: paragraphs,
    PIPE_TABLE: pipe_table,
    FLATTENED: flattened,
    ALIGNED: aligned,
}
_SCORED = {PIPE_TABLE: pipe_table, FLATTENED: flattened, ALIGNED: aligned, PARAGRAPHS: paragraphs}
MIN_SCORE = 0.5  # below it on every layout: cell_per_line, the fallback it always was


def layout_scores(lines: list[tuple[int, str]], stripped: list[str] | None = None) -> dict[str, float]:
    """Each layout's score (0..1) on a form's lines: how `selfeval inspect` explains the choice."""
    if stripped is None:
        stripped = list(map(str.strip, map(itemgetter(1), lines)))
    texts = [text for text in stripped if text]
    scores = {name: module.score(lines, stripped) for name, module in _SCORED.items()}
    scores[TAB_ROWS] = sum(map(_HAS_TAB, texts)) / len(texts) if texts else 0.0
    scores[CELL_PER_LINE] = (
        sum(1 for _, line in lines if line.startswith("\t") and line.strip()) / len(texts) if texts else 0.0
    )
    return scores


def detect_layout(lines: list[tuple[int, str]], stripped: list[str] | None = None) -> str:
    """Tab-separated rows have several cells on a line (the test that decides first, as it always
    has); otherwise the best-scoring layout, cell_per_line when none scores MIN_SCORE.
    stripped: the lines with their outer white space removed, when the caller has them."""
    if stripped is None:
        stripped = list(map(str.strip, map(itemgetter(1), lines)))  # map(): C loops, every line
    texts = [text for text in stripped if text]
    if not texts:
        return TAB_ROWS
    # two non-empty cells <=> a tab is left once the line's outer white space is stripped
    multi = sum(map(_HAS_TAB, texts))
    if multi / len(texts) > 0.2:
        return TAB_ROWS
    sample = lines[:_SAMPLE]
    if sum(map(_STARTS_WITH_TAB, map(itemgetter(1), sample))) * 2 >= sum(1 for text in stripped[:_SAMPLE] if text):
        return CELL_PER_LINE  # the Word export's cells start with a tab: no need to score the others
    scores = layout_scores(lines, stripped)
    best = max(_SCORED, key=scores.__getitem__)
    return best if scores[best] >= MIN_SCORE and scores[best] > scores[CELL_PER_LINE] else CELL_PER_LINE


_SAMPLE = 40  # lines: enough to see a Word export's leading tabs
_HAS_TAB = methodcaller("__contains__", "\t")
_STARTS_WITH_TAB = methodcaller("startswith", "\t")


def to_rows(lines: list[tuple[int, str]], layout: str | None = None) -> tuple[str, list[Row]]:
    # every line stripped once, for the layout test and for the cells (the parse's commonest call)
    stripped = list(map(str.strip, map(itemgetter(1), lines)))
    layout = layout or detect_layout(lines, stripped)
    if layout == CELL_PER_LINE:
        rows = cell_per_line.to_rows(lines, stripped)
    elif layout == TAB_ROWS:
        rows = tab_rows.to_rows(lines, stripped)
    else:
        rows = _MODULES[layout].to_rows(lines, stripped)
    return layout, rows


# --- titles inside a line ------------------------------------------------------------------------
# A flattened form holds its title in the middle of its one line ("附件: 项目支出绩效自评表
# (2022年度) 项目名称 ..."), and a pipe table prints it as a cell ("2022年度项目支出绩效自评表 |
# 部门:..."). The title line test (read.py) wants the title alone on its line, so such lines are
# cut before the file is split into forms, and the line numbers mapped back to the file's.

_FLAT_MIN_WORDS = 30


def _cut_line(line: str) -> list[str]:
    """The pieces a line is cut into so that a title stands alone ([line] when nothing to cut)."""
    if not any(word in norm_label(line) for word in TITLE_WORDS):
        return [line]
    if "|" in line and "\t" not in line:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        at = next((i for i, cell in enumerate(cells) if any(w in norm_label(cell) for w in TITLE_WORDS)), None)
        if at is None:
            return [line]
        rest = [cell for cell in cells[at + 1 :] if cell]
        return [cells[at], "| " + " | ".join(rest) + " |"] if rest else [cells[at]]
    words = line.split()
    if len(words) < _FLAT_MIN_WORDS or "\t" in line:
        return [line]
    starts = [i for i, word in enumerate(words) if any(w in norm_label(word) for w in TITLE_WORDS)]
    if not starts:
        return [line]
    pieces = [" ".join(words[: starts[0]])]
    for at, following in zip(starts, [*starts[1:], len(words)]):  # every form flattened on the line
        end = min(following, at + 1 + (at + 1 < len(words) and bool(YEAR.match(norm_label(words[at + 1])))))
        pieces += [" ".join(words[at:end]), " ".join(words[end:following])]
    return [piece for piece in pieces if piece]


_LONG_LINE = re.compile(r"^[^\n]{200}", re.MULTILINE)


def prepare_text(text: str) -> tuple[str, list[int] | None]:
    """(text with every title alone on its line, the file's line number of each line; None when
    nothing was cut: the usual text export, tested in C before any line is looked at)."""
    if "|" not in text and not _LONG_LINE.search(text):
        return text, None
    out: list[str] = []
    numbers: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        pieces = _cut_line(line) if "|" in line or len(line) > 200 else [line]
        out += pieces
        numbers += [number] * len(pieces)
    return "\n".join(out), numbers


def read_forms(text: str, source_file: str, encoding: str = "utf-8") -> tuple[list[Chunk], list[Issue]]:
    """split_forms() on prepare_text()'s text, every line number given back as the file's."""
    if "|" not in text:  # the usual text export: its titles stand alone on their lines
        chunks, issues = split_forms(text, source_file, encoding)
        if chunks:
            return chunks, issues
    prepared, numbers = prepare_text(text)
    chunks, issues = split_forms(prepared, source_file, encoding)
    if numbers is None or prepared == text:
        return chunks, issues

    def at(line: int | None) -> int | None:
        return numbers[line - 1] if line is not None and 0 < line <= len(numbers) else line

    for chunk in chunks:
        chunk.first_line = at(chunk.first_line) or chunk.first_line
        chunk.lines = [(at(n) or n, line) for n, line in chunk.lines]
    issues = [Issue(i.source_file, i.form_id, at(i.line), i.field, i.raw_text, i.message, i.severity) for i in issues]
    return chunks, issues
