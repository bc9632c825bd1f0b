"""The printed labels of labels.yaml, normalised once, and how a printed cell is matched against them."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from selfeval.vocab import load

_WHITESPACE = re.compile(r"\s+")


VOCAB: dict = load("labels")


def _strings(node) -> list[str]:
    """Every string of a parsed YAML document."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*_strings(key), *_strings(value))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def _traditional_folding():
    """(a pattern of the traditional characters whose simplified form is in the vocabulary, OpenCC's
    t2s converter): a form printed in traditional characters (a 繁體 export) matches the simplified
    labels through a simplified copy, while the printed text is kept. Only a cell holding one of
    those characters is converted; the test is one small regular expression, so cells without
    them (nearly all) cost almost nothing more."""
    try:
        import opencc

        converter = opencc.OpenCC("t2s")
    except (ImportError, ValueError, OSError):  # not installed: labels are matched as printed
        return None, None
    table = Path(opencc.__file__).resolve().parent / "dictionary" / "TSCharacters.txt"
    if not table.exists():  # the C++ `opencc` package: no table at hand, every non-ASCII cell is converted
        return re.compile(r"[^\x00-\x7f]"), converter
    used = set("".join(_strings(VOCAB)))
    pairs = (line.split("\t", 1) for line in table.read_text(encoding="utf-8").splitlines() if "\t" in line)
    signal = sorted(
        key
        for key, simplified in pairs
        if len(key) == 1 and key not in simplified.split() and used.intersection(simplified.split())
    )
    return re.compile("[" + "".join(map(re.escape, signal)) + "]"), converter


_TRADITIONAL, _T2S = _traditional_folding()


@lru_cache(maxsize=1 << 18)
def norm_label(text: str | None) -> str:
    """Fold widths (NFKC), drop all white space and fold traditional characters to simplified:
    how labels are compared. Cached: the same few hundred labels and values recur in every form."""
    if not text:
        return ""
    folded = _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))
    if _T2S is not None and _TRADITIONAL is not None and _TRADITIONAL.search(folded):
        folded = _T2S.convert(folded)
    return folded


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


# --- templates of other places and years (issue 14): extra columns, suffixes, fillers -------------
GOAL_LABELS.update((norm_label(label), "heading") for label in VOCAB["goal_fields"].get("headings", ()))
FUND_COLUMNS_IGNORED = _labels("fund_columns_ignored")
INDICATOR_COLUMNS = _index(VOCAB["indicator_columns"])
INDICATOR_LEVEL_COLUMNS = _labels("indicator_level_columns")
TOTAL_GRADES = _labels("total_grades")
SUB_INDICATOR = re.compile(VOCAB["sub_indicator_pattern"])
FUNDS_UNIT = re.compile(VOCAB["funds_unit_pattern"])
FUNDS_UNIT_FACTORS: dict[str, float] = {norm_label(k): float(v) for k, v in VOCAB["funds_unit_factors"].items()}
_SUFFIX = re.compile(VOCAB["label_suffix_pattern"])
_FILLER = re.compile(VOCAB["filler_cell_pattern"])
_INSTRUCTION = re.compile(VOCAB["template_instruction_pattern"])
TITLE_WORDS = tuple(VOCAB["title_words"])
TITLE_YEAR = re.compile(VOCAB["title_year_search"])


@lru_cache(maxsize=1 << 16)
def block_key(text: str | None) -> str:
    """norm_label without a trailing section weight, funds unit or colon ("产出指标(50分)" -> 产出指标,
    "项目资金 (元)" -> 项目资金, "年度资金总额:" -> 年度资金总额): how block and level labels are looked up."""
    key = norm_label(text)
    stripped = _SUFFIX.sub("", key)
    return stripped or key


def is_filler(cell: str | None) -> bool:
    """Empty, leader dots, or a blank template's instruction: a cell that holds no value."""
    return not cell or is_empty(cell) or bool(_FILLER.match(cell)) or bool(_INSTRUCTION.search(norm_label(cell)))


# every printed label the parser knows (what `selfeval inspect` calls a matched label)
KNOWN_LABELS = frozenset(
    {
        *HEADER_LABELS,
        *FUND_LINES,
        *FUND_COLUMNS,
        *GOAL_LABELS,
        *LEVEL1,
        *LEVEL2,
        *_labels(
            "funds_block",
            "goal_block",
            "indicator_block",
            "indicator_header",
            "total_row",
            "indicator_table_start",
            "fund_columns_ignored",
            "indicator_level_columns",
        ),
        *INDICATOR_COLUMNS,
    }
)


def is_label(cell: str | None) -> bool:
    return norm_label(cell) in KNOWN_LABELS or block_key(cell) in KNOWN_LABELS
