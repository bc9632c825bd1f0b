"""The printed labels of labels.yaml, normalised once, and how a printed cell is matched against them."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from selfeval.vocab import load

_WHITESPACE = re.compile(r"\s+")


@lru_cache(maxsize=1 << 18)
def norm_label(text: str | None) -> str:
    """Fold widths (NFKC) and drop all white space: how labels are compared.
    Cached: the same few hundred labels and values recur in every form."""
    if not text:
        return ""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


VOCAB: dict = load("labels")


def _index(mapping: dict[str, list[str]]) -> dict[str, str]:
    """{canonical: [labels]} -> {normalised label: canonical}."""
    return {norm_label(label): key for key, labels in mapping.items() for label in labels}


HEADER_LABELS = _index(VOCAB["header_fields"])
FUND_LINES = _index(VOCAB["fund_lines"])
FUND_COLUMNS = _index(VOCAB["fund_columns"])
GOAL_LABELS = _index(VOCAB["goal_fields"])
LEVEL1 = _index(VOCAB["level1"])
LEVEL2 = _index({code: spec["labels"] for code, spec in VOCAB["level2"].items()})
LEVEL2_PARENT = {code: spec["parent"] for code, spec in VOCAB["level2"].items()}
EMPTY_CELLS = {norm_label(cell) for cell in VOCAB["empty_cells"]}
INDICATOR_PREFIX = re.compile(VOCAB["indicator_prefix_pattern"])
YEAR = re.compile(VOCAB["year_pattern"])


def _labels(*names: str) -> frozenset[str]:
    return frozenset(norm_label(label) for name in names for label in VOCAB[name])


FUNDS_BLOCK = _labels("funds_block")
GOAL_BLOCK = _labels("goal_block")
INDICATOR_BLOCK = _labels("indicator_block")
INDICATOR_HEADER = _labels("indicator_header")
TOTAL_ROW = _labels("total_row")
INDICATOR_TABLE_START = _labels("indicator_table_start")
MESSAGES: dict[str, str] = VOCAB["messages"]


def matches(cell: str | None, labels) -> bool:
    """True when the cell is one of the labels (a set or index of normalised labels)."""
    return norm_label(cell) in labels


def is_empty(cell: str | None) -> bool:
    return norm_label(cell) in EMPTY_CELLS
