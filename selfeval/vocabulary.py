"""Load vocabulary.yaml once and match printed labels against it."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

_WHITESPACE = re.compile(r"\s+")


def norm_label(text: str | None) -> str:
    """Fold widths (NFKC) and drop all white space: how labels are compared."""
    if not text:
        return ""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


def _load() -> dict:
    with open(Path(__file__).with_name("vocabulary.yaml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


VOCAB: dict = _load()


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


def matches(cell: str | None, labels) -> bool:
    """True when the cell is one of the labels (a list of printed labels or an index)."""
    key = norm_label(cell)
    if isinstance(labels, dict):
        return key in labels
    return key in {norm_label(label) for label in labels}


@lru_cache(maxsize=None)
def startswith_label(cell: str, block: str) -> bool:
    """True when the cell starts with one of a block's labels (e.g. 项目资金(万元))."""
    key = norm_label(cell)
    return any(key.startswith(norm_label(label)) for label in VOCAB[block])


def is_empty(cell: str | None) -> bool:
    return norm_label(cell) in EMPTY_CELLS
