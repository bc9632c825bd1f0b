"""A form whose rows were lost (the STREAM_LAYOUTS of extract/cells.py) -> its parts, cell by cell.

HTML tables saved as text, a form flattened onto one line, one cell per paragraph: rowspans print a
cell once for several rows, and exports drop empty cells, so a row's cells cannot be counted. What
is left is the order of the cells and their labels. Here:
- blocks open at their label wherever it stands (each block once, in any order: the Sichuan
  template puts 预算执行情况 after 项目基本情况);
- the funds and indicator tables take their columns from their printed header (by label: 权重 for
  分值, 指标性质/度量单位 columns, 分值 before 年度指标值 ...);
- a fund line runs from its label to the next label; its values are placed on the header's columns
  by the best order-keeping fit (a percentage is the rate, an amount is not a weight ...);
- an indicator runs from its name over the value cells that fit the header's columns best,
  ending where the next name or level label can start.
Everything repaired or not read becomes an issue, as in form.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from itertools import combinations

from selfeval.extract.row import Row
from selfeval.vocab import labels as vocab
from selfeval.vocab import load

Cell = tuple[int, str]  # (line, printed text)

_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_PERCENT = re.compile(r"^\d+(?:\.\d+)?%$")
_VALUE_LIKE = re.compile(vocab.VOCAB["value_like_pattern"])
_VALUES = load("values")
_COMPARATORS = frozenset(vocab.norm_label(s) for spellings in _VALUES["comparators"].values() for s in spellings)
_UNITS = frozenset(
    vocab.norm_label(u)
    for canon, spec in _VALUES["units"].items()
    for u in (canon, *((spec or {}).get("aliases") or ()))
)
_PLACEHOLDER = re.compile(vocab.VOCAB["indicator_placeholder_pattern"])
FUND_AMOUNTS = ("initial_budget", "full_year_budget", "executed")
_IGNORED = "ignored"


def _plain(cell: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell)).replace(",", "")


def is_number(cell: str) -> bool:
    return bool(_NUMBER.match(_plain(cell)))


def is_percent(cell: str) -> bool:
    return bool(_PERCENT.match(_plain(cell)))


def is_value_like(cell: str) -> bool:
    """A target, actual, amount, comparator or unit: a cell an indicator's name cannot be."""
    key = vocab.norm_label(cell)
    return bool(_VALUE_LIKE.match(key)) or key in _COMPARATORS or key in _UNITS or is_percent(cell)


def best_fit(
    values: list[str],
    columns: list[str],
    fit: Callable[[str, str], float],
    missing: Callable[[str], float],
    bonus: Callable[[tuple[str, ...]], float] | None = None,
) -> tuple[float, dict[str, str]]:
    """Place the values on the columns, keeping their order, where `fit` scores them best
    (each column left empty costs `missing`); ties go to the earlier columns."""
    if len(values) > len(columns):
        values = values[: len(columns)]
    best: tuple[float, dict[str, str]] = (float("-inf"), {})
    for chosen in combinations(range(len(columns)), len(values)):
        names = tuple(columns[i] for i in chosen)
        # sum(..., 0.0): a float from the start (mypyc types sum()'s int start as int)
        total = sum((fit(name, value) for name, value in zip(names, values)), 0.0)
        total += sum((missing(name) for name in columns if name not in names), 0.0)
        if bonus is not None:
            total += bonus(names)
        if total > best[0] + 1e-9:
            best = (total, dict(zip(names, values)))
    return best


def sections(cells: list[Cell], opens: dict[str, str]) -> dict[str, list[Cell]]:
    """Cells -> blocks: a block opens at its label (first time only), wherever the label stands."""
    out: dict[str, list[Cell]] = {name: [] for name in ("header", "funds", "goal", "indicators", "total")}
    current, opened = "header", {"header"}
    for line, cell in cells:
        target = opens.get(vocab.block_key(cell))
        if target is not None and target not in opened:
            current = target
            opened.add(target)
        out[current].append((line, cell))
    return out


# --- funds -------------------------------------------------------------------------------------


def funds_unit(cells: Iterable[Cell]) -> str | None:
    """The unit printed in the funds block's label ("项目资金 (元)"), before the first fund line."""
    for _, cell in cells:
        if vocab.FUND_LINES.get(vocab.block_key(cell)):
            return None
        match = vocab.FUNDS_UNIT.search(vocab.norm_label(cell))
        if match:
            return match.group(1)
    return None


def fund_columns(cells: list[Cell], standard: tuple[str, ...]) -> list[str]:
    """The funds table's value columns in printed order, by label; the standard order if none printed."""
    columns = []
    for _, cell in cells:
        key = vocab.norm_label(cell)
        if vocab.FUND_LINES.get(vocab.block_key(cell)):
            break
        if key in vocab.FUND_COLUMNS:
            columns.append(vocab.FUND_COLUMNS[key])
        elif key in vocab.FUND_COLUMNS_IGNORED:
            columns.append(_IGNORED)
    return columns if len(columns) >= 3 else list(standard)


def fund_rows(cells: list[Cell]) -> tuple[list[tuple[int, str, str | None, list[str]]], list[Cell]]:
    """([(line, printed label, fund line or None for an unknown label, values)], cells not read).
    A row runs from a fund line's label to the next label; a text cell followed by a number is the
    label of a fund line the vocabulary does not know (read, reported); other text is a note."""
    rows: list[tuple[int, str, str | None, list[str]]] = []
    stray: list[Cell] = []
    for i, (line, cell) in enumerate(cells):
        code = vocab.FUND_LINES.get(vocab.block_key(cell))
        if code is not None:
            rows.append((line, cell, code, []))
            continue
        if vocab.is_label(cell) or vocab.FUNDS_UNIT.fullmatch(vocab.norm_label(cell)):
            continue  # the block's label, the header's column labels, a unit printed apart
        numeric = is_number(cell) or is_percent(cell)
        if not numeric:
            following = cells[i + 1][1] if i + 1 < len(cells) else ""
            if following and (is_number(following) or is_percent(following)):
                rows.append((line, cell, None, []))  # an unknown fund line
                continue
        if rows:
            rows[-1][3].append(cell)
        else:
            stray.append((line, cell))
    return rows, stray


def _fund_fit(column: str, value: str) -> float:
    numeric, percent = is_number(value), is_percent(value)
    if column in FUND_AMOUNTS:
        return 2.0 if numeric else -3.0
    if column == "execution_rate":
        return 3.0 if percent else (0.0 if numeric else -3.0)
    if column in ("weight", "score"):
        return 1.0 if numeric else (-1.0 if percent else -3.0)
    return 1.0 if not (numeric or percent) else -3.0  # an ignored column (原因) holds text


def place_fund_values(
    values: list[str], columns: list[str], total_columns: tuple[str, ...] | None
) -> tuple[dict[str, str], tuple[str, ...]]:
    """A fund line's printed values on the table's columns: in place when they fill every column,
    else by best_fit, preferring a fit whose executed / full-year matches the printed rate and,
    for a sub-line, the columns the 年度资金总额 line filled."""
    if len(values) == len(columns):
        placed = dict(zip(columns, values))
        return placed, tuple(columns)

    def bonus(names: tuple[str, ...]) -> float:
        extra = 0.0
        if total_columns is not None and set(names) <= set(total_columns):
            extra += 1.5
        placed = dict(zip(names, values))
        rate, executed, budget = (placed.get(c) for c in ("execution_rate", "executed", "full_year_budget"))
        if rate and executed and budget and is_percent(rate) and is_number(executed) and is_number(budget):
            if (
                float(_plain(budget)) > 0
                and abs(float(_plain(executed)) / float(_plain(budget)) * 100 - float(_plain(rate)[:-1])) < 0.6
            ):
                extra += 2.0
        return extra

    _, placed = best_fit(values, columns, _fund_fit, lambda name: 0.0, bonus)
    return placed, tuple(name for name in columns if name in placed)


# --- indicators --------------------------------------------------------------------------------


def indicator_columns(header: list[str]) -> list[str]:
    """The value columns after the indicator's name, from the header's labels in printed order.
    指标性质/指标值/度量单位 printed under 年度指标值 (a two-row header) take its place."""
    codes: list[str] = [
        vocab.INDICATOR_COLUMNS[key] for key in map(vocab.norm_label, header) if key in vocab.INDICATOR_COLUMNS
    ]
    sub = [code for code in codes if code in ("nature", "unit")]
    if sub and codes.count("target") > 1:  # 年度指标值 over 指标性质 | 指标值 | 度量单位
        first = codes.index("target")
        group_at = min(
            i for i, code in enumerate(codes) if code in ("nature", "unit") or (code == "target" and i > first)
        )
        group = [code for code in codes[group_at:] if code in ("nature", "target", "unit")]
        rest = [code for i, code in enumerate(codes) if i != first and not (i >= group_at and code in group)]
        codes = rest[:first] + group + rest[first:]
    seen: list[str] = []
    for code in codes:
        if code not in seen or code == _IGNORED:
            seen.append(code)
    return seen if "weight" in seen or "score" in seen else ["target", "actual", "weight", "score", "note"]


def _indicator_fit(column: str, value: str) -> float:
    key = vocab.norm_label(value)
    if column in ("weight", "score"):
        return 3.0 if is_number(value) else -5.0
    if column == "nature":
        return 2.0 if key in _COMPARATORS else -4.0
    if column == "unit":
        return 1.5 if key in _UNITS else -4.0
    if column in ("target", "actual"):
        return 0.5 if is_value_like(value) or is_number(value) else 0.0
    if column == "note":
        return -3.0 if is_number(value) else -0.5
    return -0.5  # an ignored column (复核分, 得分计算方法)


def _indicator_missing(column: str) -> float:
    return {"weight": -2.0, "score": -1.5}.get(column, 0.0)


def _nature_bonus(columns: list[str], values: list[str]) -> Callable[[tuple[str, ...]], float] | None:
    """指标性质 printed right before 指标值: a bare comparator belongs to 指标性质 and is followed by its
    number, so a fit that puts the comparator on another column, or the value after it anywhere but
    on the target, is wrong (a row cut after `= | 100` read `=` as the target and 100 as the weight,
    real/02). None when the header has no such pair."""
    if not any(columns[i] == "nature" and columns[i + 1] == "target" for i in range(len(columns) - 1)):
        return None
    comparators = [i for i, value in enumerate(values) if vocab.norm_label(value) in _COMPARATORS]

    def bonus(names: tuple[str, ...]) -> float:
        penalty = 0.0
        for at in comparators:
            if at < len(names) and names[at] != "nature":
                penalty -= 10.0
            elif at + 1 < len(names) and names[at + 1] != "target":
                penalty -= 10.0
        return penalty

    return bonus


def is_placeholder(cell: str) -> bool:
    """A blank template's "指标2" row left in a filled form: no name, no value (labels.yaml)."""
    return bool(_PLACEHOLDER.match(vocab.norm_label(cell)))


def is_name_like(cell: str) -> bool:
    return not (is_number(cell) or is_value_like(cell) or vocab.is_label(cell))


def _is_level(cell: str) -> bool:
    key = vocab.block_key(cell)
    return key in vocab.LEVEL1 or key in vocab.LEVEL2


def indicator_records(tokens: list[Cell], columns: list[str]) -> list[tuple[Cell, dict[str, str], list[Cell]]]:
    """Level labels are returned as records with the label only; every other record is
    (name cell, {column: printed value}, cells it spans). Cells that start no record are returned
    as records of their own with no values (the caller reports them)."""
    out: list[tuple[Cell, dict[str, str], list[Cell]]] = []
    i = 0
    width = len(columns)
    while i < len(tokens):
        cell = tokens[i]
        if _is_level(cell[1]) or not is_name_like(cell[1]) or is_placeholder(cell[1]):
            out.append((cell, {}, [cell]))
            i += 1
            continue
        stop = i + 1
        while (
            stop < len(tokens)
            and stop - i - 1 < width
            and not _is_level(tokens[stop][1])
            and not vocab.is_label(tokens[stop][1])
        ):
            stop += 1
        best: tuple[float, dict[str, str], int] = (float("-inf"), {}, 0)
        for length in range(0, stop - i):
            values = [text for _, text in tokens[i + 1 : i + 1 + length]]
            score, placed = best_fit(
                values, columns, _indicator_fit, _indicator_missing, _nature_bonus(columns, values)
            )
            after = i + 1 + length
            if after >= len(tokens) or _is_level(tokens[after][1]) or vocab.is_label(tokens[after][1]):
                score += 1.0
            elif is_name_like(tokens[after][1]):
                score += 1.0
            else:
                score -= 3.0
            if score > best[0] + 1e-9:
                best = (score, placed, length)
        _, placed, length = best
        previous = out[-1] if out else None
        if (
            length == 0
            and previous is not None
            and previous[1]
            and "note" in columns
            and "note" not in previous[1]
            and not vocab.SUB_INDICATOR.match(vocab.norm_label(cell[1]))
        ):
            # a text cell alone right after an indicator's score: that indicator's 偏差原因 (a note
            # loses to "the next name" in the fit, as both are text)
            out[-1] = (previous[0], {**previous[1], "note": cell[1]}, [*previous[2], cell])
        else:
            out.append((cell, placed, tokens[i : i + 1 + length]))
        i += 1 + length
    return out


def as_rows(cells: list[Cell]) -> list[Row]:
    """Cells as one Row per printed line (for the functions of form.py that read rows)."""
    rows: list[Row] = []
    for line, cell in cells:
        if rows and rows[-1].line == line:
            rows[-1].cells.append(cell)
            rows[-1].filled.append(cell)
        else:
            rows.append(Row(line, [cell]))
    return rows
