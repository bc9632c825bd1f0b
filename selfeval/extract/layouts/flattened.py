"""flattened (a .docx attachment whose text was pulled onto one line): a whole form on one line,
cells separated by single spaces. Text cells that themselves hold a space are joined back: a long
text cell that does not end a sentence continues into the next word unless that word is a label
or a number. The parser reads the cells in order (parse/stream.py)."""

from __future__ import annotations

import re

from selfeval.extract.row import Row
from selfeval.vocab.labels import VOCAB, is_filler, is_label

_NUMBER_LIKE = re.compile(r"^[^\w]?\d")  # "8", "=8个", "≤202.6万元", "100%"
_SENTENCE_END = tuple(VOCAB["sentence_end"])
LONG_TEXT = 40  # characters: a goal or achievement text, longer than labels, values and indicator names
_PARENTHESIS = re.compile(VOCAB["parenthesis_cell_pattern"])  # "(万元)" printed apart from its label


def score(lines: list[tuple[int, str]], stripped: list[str]) -> float:
    """A few lines, one of them holding dozens of space-separated cells."""
    texts = [text for text in stripped if text]
    if not texts or len(texts) > 5 or any("\t" in text or "|" in text for text in texts):
        return 0.0
    return min(1.0, max(len(text.split()) for text in texts) / 40)


def _join_text(words: list[str]) -> list[str]:
    cells: list[str] = []
    for word in words:
        previous = cells[-1] if cells else ""
        if previous and _PARENTHESIS.match(word) and not _NUMBER_LIKE.match(previous):
            cells[-1] = previous + " " + word  # "项目资金 (万元)": one label
        elif (
            len(previous) >= LONG_TEXT
            and not is_filler(previous)
            and not is_filler(word)
            and not previous.endswith(_SENTENCE_END)
            and not is_label(previous)
            and not is_label(word)
            and not _NUMBER_LIKE.match(word)
            and len(word) > 1
        ):
            cells[-1] = previous + " " + word  # the space was inside the cell
        else:
            cells.append(word)
    return cells


def to_rows(lines: list[tuple[int, str]], stripped: list[str]) -> list[Row]:
    return [Row(number, _join_text(text.split())) for (number, _), text in zip(lines, stripped) if text]
