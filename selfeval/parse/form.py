"""Rows of cells -> one parsed form (header, funds, goal, indicators, total).

Every field is found by its printed label (vocabulary.yaml), never by line
number or fixed column, because PDF exports shift cells left and right, swap
the level-1/level-2 columns and drop cells. What had to be repaired or could
not be read is recorded as an Issue, never dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain

from selfeval.extract.cells import STREAM_LAYOUTS
from selfeval.extract.read import Chunk
from selfeval.extract.row import Row
from selfeval.parse import stream
from selfeval.parse.numbers import parse_number
from selfeval.schema.issues import Issue
from selfeval.vocab import labels as vocab

FUND_COLUMN_ORDER = ("initial_budget", "full_year_budget", "executed", "weight", "execution_rate", "score")
_FUND_RAW_COLUMNS = tuple(f"{column}_raw" for column in FUND_COLUMN_ORDER)
_NUMERIC = re.compile(r"^[\d.\s]+%?$")
# Cells that read like a target or actual value rather than an indicator name.
_VALUE_LIKE = re.compile(vocab.VOCAB["value_like_pattern"])
# level-2 labels only the newer templates have (成本指标 is then a level-1 label)
_NEWER_COST_LABELS = frozenset(
    label for label, code in vocab.LEVEL2.items() if code in ("economic_cost", "social_cost", "ecological_cost")
)
_CHILDREN = {code: [c for c, p in vocab.LEVEL2_PARENT.items() if p == code] for code in vocab.VOCAB["level1"]}


@dataclass
class Form:
    chunk: Chunk
    layout: str
    project: dict = field(default_factory=dict)
    funds: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    # the value columns read from the tables' headers (cell-by-cell reading; `selfeval inspect` shows them)
    columns: dict[str, list[str]] = field(default_factory=dict)

    def issue(self, line, field_name, raw, message, severity="warning") -> None:
        self.issues.append(Issue(self.chunk.source_file, self.chunk.form_id, line, field_name, raw, message, severity))

    def number(self, raw: str | None, line: int, field_name: str) -> float | None:
        """Parse a printed number; repairs (stray spaces, "10%" weights) are recorded."""
        value, repair = parse_number(raw)
        if (
            value is not None
            and raw is not None
            and "%" in raw
            and field_name in ("weight", "score", "total_weight", "total_score")
        ):
            repair = "; ".join(filter(None, [repair, "points printed as a percentage (10% = 10 points)"]))
        if repair == "unreadable":
            self.issue(line, field_name, raw, f"{field_name}: cannot read {raw!r} as a number")
        elif repair == "out of range":  # negative or absurdly large: left empty (numbers.MAX_VALUE)
            self.issue(
                line,
                field_name,
                raw,
                f"{field_name}: {(raw or '')[:40]!r} is negative or too large to be read; left empty",
            )
        elif repair:
            self.issue(line, field_name, raw, f"{field_name}: {repair}", "repaired")
        return value


def parse_form(chunk: Chunk, layout: str, rows: list[Row]) -> Form:
    form = _parse_form(chunk, layout, rows)
    if not form.indicators and layout not in STREAM_LAYOUTS and len(_sections(rows)["indicators"]) > 1:
        # rows that gave no indicator (every 得分 left blank, columns of an unknown order): the same
        # form read cell by cell, kept when it finds the indicators
        again = _parse_form(chunk, layout, rows, cell_by_cell=True)
        if again.indicators:
            again.issue(chunk.first_line, "indicators", None, vocab.MESSAGES["read_cell_by_cell"], "repaired")
            return again
    return form


def _parse_form(chunk: Chunk, layout: str, rows: list[Row], cell_by_cell: bool = False) -> Form:
    form = Form(chunk, layout)
    form.project = {"title": chunk.title, "year": None}
    year = vocab.YEAR.search(vocab.norm_label(chunk.title)) or vocab.TITLE_YEAR.search(vocab.norm_label(chunk.title))
    if year:
        form.project["year"] = int(year.group(1))
    sections = None if layout in STREAM_LAYOUTS or cell_by_cell else _sections(rows)
    if sections is None or _other_template(sections):
        sections = _parse_stream(form, rows)
    else:
        _parse_header(form, sections["header"])
        _parse_funds(form, sections["funds"])
        form.project["funds_unit_raw"] = stream.funds_unit((r.line, c) for r in sections["funds"] for c in r.filled)
        _convert_unit(form)
        _parse_goal(form, sections["goal"])
        _parse_indicators(form, sections["indicators"])
        _parse_total(form, sections["total"])
    _repair_zero_total(form)
    _check_complete(form, sections)
    return form


_STANDARD_INDICATOR_COLUMNS = ["target", "actual", "weight", "score", "note"]


_HEADER_ROWS = 3  # a table's header is among the first rows of its block


def reads_cell_by_cell(layout: str, rows: list[Row]) -> bool:
    """A layout that loses rows, or another template's table header: read by parse/stream.py."""
    return layout in STREAM_LAYOUTS or _other_template(_sections(rows))


def _other_template(sections: dict[str, list[Row]]) -> bool:
    """A table header whose columns are not the Beijing template's (分值 before 年度指标值, 指标性质 and
    度量单位 columns, no 年初预算数 ...): the row-by-row reading assumes the Beijing order, so such a
    form is read by its header's labels, cell by cell (parse/stream.py)."""
    for row in sections["funds"][:_HEADER_ROWS]:
        verdict = _other_fund_header(tuple(row.filled))
        if verdict is not None:
            if verdict:
                return True
            break
    for row in sections["indicators"][:_HEADER_ROWS]:
        verdict = _other_indicator_header(tuple(row.filled))
        if verdict is not None:
            return verdict
    return False


@lru_cache(maxsize=1 << 12)  # the same header rows recur in every form of a template
def _other_fund_header(cells: tuple[str, ...]) -> bool | None:
    """None: not the funds table's header; else whether its columns differ from the Beijing order."""
    keys = list(map(vocab.norm_label, cells))
    if sum(map(vocab.FUND_COLUMNS.__contains__, keys)) < 3:
        return None
    columns = [vocab.FUND_COLUMNS[k] for k in keys if k in vocab.FUND_COLUMNS]
    return columns != list(FUND_COLUMN_ORDER[: len(columns)]) or any(k in vocab.FUND_COLUMNS_IGNORED for k in keys)


@lru_cache(maxsize=1 << 12)
def _other_indicator_header(cells: tuple[str, ...]) -> bool | None:
    """None: not the indicator table's header; else whether its columns differ from the Beijing order."""
    if sum(map(vocab.INDICATOR_HEADER.__contains__, map(vocab.norm_label, cells))) < 3:
        return None
    columns = stream.indicator_columns(list(cells))
    return columns != _STANDARD_INDICATOR_COLUMNS[: len(columns)]


def _sections(rows: list[Row]) -> dict[str, list[Row]]:
    """Assign each row to a block by the label that opens the block.

    Blocks only move forward (header, funds, goal, indicators, total), and a
    block opens only on its exact label, so an indicator named
    "项目资金整体支出进度" cannot reopen the funds block.
    """
    order = ("header", "funds", "goal", "indicators", "total")
    sections: dict[str, list[Row]] = {k: [] for k in order}
    current = "header"
    for row in rows:
        opened = _OPENS.get(vocab.block_key(row.filled[0])) if row.filled else None  # 预算执行情况(10分)
        if opened and order.index(opened) > order.index(current):
            current = opened
        sections[current].append(row)
    return sections


# normalised label -> the block it opens (the first filled cell of a row)
_OPENS = {
    **{label: "funds" for label in vocab.FUNDS_BLOCK},
    **{label: "goal" for label in vocab.GOAL_BLOCK},
    **{label: "indicators" for label in (*vocab.INDICATOR_BLOCK, *vocab.INDICATOR_TABLE_START)},
    **{label: "total" for label in vocab.TOTAL_ROW},
}


# --- header -------------------------------------------------------------------------------


def _parse_header(form: Form, rows: list[Row]) -> None:
    for row in rows:
        filled = row.filled
        for position, cell in enumerate(filled):
            year = vocab.YEAR.match(vocab.norm_label(cell))
            if year:
                form.project["year"] = int(year.group(1))
            key = vocab.HEADER_LABELS.get(vocab.norm_label(cell))
            if key is None or form.project.get(key):
                continue
            following = filled[position + 1] if position + 1 < len(filled) else None
            if following is not None and vocab.norm_label(following) not in vocab.HEADER_LABELS:
                form.project[key] = following
            else:
                form.project.setdefault(key, None)
    if not form.project.get("project_name"):
        form.issue(form.chunk.first_line, "project_name", None, vocab.MESSAGES["no_project_name"])


# --- funds ---------------------------------------------------------------------------------


def _parse_funds(form: Form, rows: list[Row]) -> None:
    for row in rows:
        keys = list(map(vocab.norm_label, row.cells))
        label_at = next((i for i, key in enumerate(keys) if key in vocab.FUND_LINES), None)
        if label_at is None:
            if not sum(map(vocab.FUND_COLUMNS.__contains__, keys)) >= 3:
                form.issue(row.line, "funds", row.text, vocab.MESSAGES["fund_row_unknown"])
            continue
        line = vocab.FUND_LINES[keys[label_at]]
        values = _align_fund_values(row.cells[label_at + 1 :])
        # A fund line printed twice (a page repeated by the export, a hand-edited file)
        # would give the funds table a duplicate (form_id, fund_line) key and make the
        # whole run fail validation (found by tests/test_fuzz.py). Read it once: the
        # same values are a harmless repeat; different values cannot be told apart.
        earlier = next((f for f in form.funds if f["fund_line"] == line), None)
        if earlier is not None:
            if all(earlier[f"{c}_raw"] == (raw or None) for c, raw in zip(FUND_COLUMN_ORDER, values)):
                form.issue(
                    row.line,
                    "funds",
                    row.text,
                    f"{row.cells[label_at]} printed again (same values as line {earlier['line']}); read once",
                    "repaired",
                )
            else:
                form.issue(
                    row.line,
                    "funds",
                    row.text,
                    f"{row.cells[label_at]} printed twice with different values (lines {earlier['line']} "
                    f"and {row.line}); cannot tell which is right",
                    "error",
                )
            continue
        fund = {"form_id": form.chunk.form_id, "fund_line": line, "fund_label": row.cells[label_at], "line": row.line}
        for column, raw_column, printed in zip(FUND_COLUMN_ORDER, _FUND_RAW_COLUMNS, values):
            fund[raw_column] = printed or None  # an empty cell is null, never ""
            fund[column] = None if not printed or vocab.is_empty(printed) else form.number(printed, row.line, column)
        form.funds.append(fund)
    if not any(f["fund_line"] == "total" for f in form.funds):
        form.issue(rows[0].line if rows else form.chunk.first_line, "funds", None, vocab.MESSAGES["no_fund_total"])


def _align_fund_values(cells: list[str]) -> list[str]:
    """Pick the six value cells of a fund line out of a row whose cells may be shifted.

    PDF exports add empty cells before the values or after them. Try each
    offset, keep the one that drops no printed value, and among those prefer
    the one that puts a percentage in the 执行率 slot.
    """
    if len(cells) <= 6:  # the usual row: one place the six values can sit
        return (cells + [""] * 6)[:6]
    best, best_key = None, None
    for offset in range(0, max(1, len(cells) - 5)):
        window = (cells[offset : offset + 6] + [""] * 6)[:6]
        dropped = sum(1 for c in cells[:offset] + cells[offset + 6 :] if c)
        rate_ok = 0 if ("%" in window[4] or vocab.is_empty(window[4])) else 1
        key = (dropped, rate_ok, offset)
        if best_key is None or key < best_key:
            best, best_key = window, key
    return best if best is not None else [""] * 6


# --- goal ----------------------------------------------------------------------------------


def _parse_goal(form: Form, rows: list[Row]) -> None:
    texts = [
        cell
        for row in rows
        for cell in row.filled
        if not vocab.matches(cell, vocab.GOAL_BLOCK) and vocab.norm_label(cell) not in vocab.GOAL_LABELS
    ]
    form.project["goal_text"] = texts[0] if texts else None
    form.project["achievement_text"] = texts[1] if len(texts) > 1 else None
    if len(texts) > 2:
        form.project["achievement_text"] = "\n".join(texts[1:])
        form.issue(
            rows[0].line, "goal", " | ".join(texts), "more than two goal texts; extra text joined to the achievement"
        )
    if len(texts) < 2:
        form.issue(
            rows[0].line if rows else form.chunk.first_line,
            "goal",
            " | ".join(texts),
            vocab.MESSAGES["goal_text_missing"],
        )


# --- indicators ----------------------------------------------------------------------------


def _parse_indicators(form: Form, rows: list[Row]) -> None:
    # every cell's normalised label, once (map(): a C loop; these run for every cell of every form)
    row_keys = [list(map(vocab.norm_label, row.cells)) for row in rows]
    newer_taxonomy = not _NEWER_COST_LABELS.isdisjoint(chain.from_iterable(row_keys))
    level1_raw = level2_raw = level1 = level2 = None
    for row, keys in zip(rows, row_keys):
        if not row.filled or sum(map(vocab.INDICATOR_HEADER.__contains__, keys)) >= 3:  # the header row
            continue
        found1, found2, rest = _split_levels(row.cells, newer_taxonomy, keys)
        if len({code for _, code in found2}) > 1:
            form.issue(
                row.line,
                "level2",
                " | ".join(r for r, _ in found2),
                "several level-2 labels in one row; the one nearest the indicator name is used",
                "repaired",
            )
        if found1:
            if found1[-1][1] != level1:
                level2_raw = level2 = None  # a new level-1 group starts; level-2 is not carried into it
            level1_raw, level1 = found1[-1]
        if found2:
            level2_raw, level2 = found2[-1]
            parent = vocab.LEVEL2_PARENT[level2]
            if level2 == "cost" and newer_taxonomy:
                parent = "cost"
            if level1 != parent:
                if found1:
                    form.issue(
                        row.line,
                        "level1",
                        level1_raw,
                        f"level-1 printed {level1_raw} but level-2 {level2_raw} belongs to {parent}; "
                        f"level-1 taken from level-2",
                        "repaired",
                    )
                level1 = parent
                if not found1:
                    level1_raw = None
        if level1 and not level2 and len(_CHILDREN[level1]) == 1:
            level2 = _CHILDREN[level1][0]
            form.issue(
                row.line, "level2", row.text, f"level-2 missing; {level2} is the only level-2 of {level1}", "repaired"
            )
        indicator = _indicator_values(form, row, rest, keys[len(keys) - len(rest) :])
        if indicator is None:
            continue
        indicator.update(
            {
                "indicator_order": len(form.indicators) + 1,
                "line": row.line,
                "level1_raw": level1_raw if found1 else None,
                "level1": level1,
                "level2_raw": level2_raw if found2 else None,
                "level2": level2,
            }
        )
        if level1 is None or level2 is None:
            form.issue(row.line, "level", row.text, "indicator without level-1 or level-2 label")
        form.indicators.append(indicator)
    if not form.indicators:
        form.issue(
            rows[0].line if rows else form.chunk.first_line, "indicators", None, vocab.MESSAGES["no_indicator_rows"]
        )


def _split_levels(cells: list[str], newer_taxonomy: bool, keys: list[str] | None = None):
    """Level labels found before the indicator name, wherever they were printed
    (keys: the cells' normalised labels, when the caller has them)."""
    keys = list(map(vocab.norm_label, cells)) if keys is None else keys
    found1, found2, position = [], [], 0
    for position, (cell, key) in enumerate(zip(cells, keys)):
        if not key or key in vocab.INDICATOR_BLOCK:
            continue
        if vocab.LEVEL1.get(key) == "cost":
            # printed as level-1 in newer templates when a 经济成本指标 follows in the row
            nxt = next((k for c, k in zip(cells[position + 1 :], keys[position + 1 :]) if c), "")
            if newer_taxonomy and vocab.LEVEL2.get(nxt) in ("economic_cost", "social_cost", "ecological_cost"):
                found1.append((cell, "cost"))
            else:
                found2.append((cell, "cost"))
        elif key in vocab.LEVEL1:
            found1.append((cell, vocab.LEVEL1[key]))
        elif key in vocab.LEVEL2:
            found2.append((cell, vocab.LEVEL2[key]))
        else:
            return found1, found2, cells[position:]
    return found1, found2, []


def _indicator_values(form: Form, row: Row, raw_cells: list[str], keys: list[str] | None = None) -> dict | None:
    """[name, target, actual, weight, score, note] out of the cells after the level labels.

    raw_cells keeps empty cells: where only one of target/actual is printed,
    an empty cell between the name and the 分值 tells which one is missing.
    keys: the cells' normalised labels, when the caller has them.
    """
    keys = list(map(vocab.norm_label, raw_cells)) if keys is None else keys
    raw_cells = [c for c, key in zip(raw_cells, keys) if key not in vocab.INDICATOR_BLOCK]
    cells = [c for c in raw_cells if c]
    pair = _weight_score_position(cells)
    if pair is None:
        if cells:
            form.issue(row.line, "indicator", row.text, vocab.MESSAGES["no_weight_score_pair"])
        return None
    before, note_cells = cells[:pair], cells[pair + 2 :]
    name = before[0] if before else None
    target = actual = None
    if len(before) >= 3:
        if len(before) > 3:
            name = " ".join(before[:-2])
            form.issue(
                row.line,
                "indicator_name",
                row.text,
                vocab.MESSAGES["cells_joined_into_name"].format(n=len(before) - 2),
                "repaired",
            )
        target, actual = before[-2], before[-1]
    elif len(before) == 2 and _VALUE_LIKE.match(before[0]):
        name, (target, actual) = None, before
        form.issue(row.line, "indicator_name", row.text, vocab.MESSAGES["indicator_name_missing"])
    elif len(before) == 2:
        positions = [i for i, c in enumerate(raw_cells) if c]
        slots = raw_cells[positions[0] + 1 : positions[pair]]
        if len(slots) == 2 and not slots[0]:
            actual = before[1]
            form.issue(row.line, "target", row.text, vocab.MESSAGES["target_cell_empty"])
        else:
            target = before[1]
            form.issue(row.line, "actual", row.text, vocab.MESSAGES["one_value_printed"])
    else:
        form.issue(row.line, "target", row.text, vocab.MESSAGES["no_value_printed"])
    prefix = None
    if name:
        match = vocab.INDICATOR_PREFIX.match(name)
        if match:
            prefix, name = re.sub(r"\s", "", match.group(1)), name[match.end() :]
    return {
        "form_id": form.chunk.form_id,
        "indicator_prefix": prefix,
        "indicator_name": name,
        "target_raw": None if vocab.is_empty(target) else target,
        "actual_raw": None if vocab.is_empty(actual) else actual,
        "weight_raw": cells[pair],
        "weight": form.number(cells[pair], row.line, "weight"),
        "score_raw": cells[pair + 1],
        "score": form.number(cells[pair + 1], row.line, "score"),
        "deviation_note": " ".join(c for c in note_cells if c) or None,
    }


def _weight_score_position(cells: list[str]) -> int | None:
    """Index of the 分值 cell: the last two numbers, with at most one text cell (偏差原因) after."""
    for start in (len(cells) - 2, len(cells) - 3):
        if start < 1:
            continue
        if _NUMERIC.match(cells[start]) and _NUMERIC.match(cells[start + 1]):
            return start
    return None


# --- total and completeness -----------------------------------------------------------------


def _parse_total(form: Form, rows: list[Row]) -> None:
    numbers = [c for row in rows for c in row.filled if _NUMERIC.match(c)]
    line = rows[0].line if rows else form.chunk.first_line
    form.project["total_weight_raw"] = numbers[0] if numbers else None
    form.project["total_score_raw"] = numbers[1] if len(numbers) > 1 else None
    form.project["total_weight"] = form.number(form.project["total_weight_raw"], line, "total_weight")
    form.project["total_score"] = form.number(form.project["total_score_raw"], line, "total_score")
    form.project["grade_raw"] = next(
        (c for row in rows for c in row.filled if vocab.norm_label(c) in vocab.TOTAL_GRADES), None
    )
    if len(numbers) != 2:
        form.issue(line, "total", " | ".join(numbers), vocab.MESSAGES["total_row_unreadable"])


def _check_complete(form: Form, sections: dict[str, list[Row]]) -> None:
    """A form cut off (a page missing, a copy stopped short) is loaded with what it has, marked
    partial with the parts it lacks; only a form with neither 项目名称 nor a fund line is not a
    form (a fragment of another one) and is rejected."""
    missing = [
        part
        for part, there in (
            ("project_name", bool(form.project.get("project_name"))),
            ("fund_total", any(f["fund_line"] == "total" for f in form.funds)),
            ("goal", bool(sections["goal"])),
            ("indicators", bool(form.indicators)),
            ("total", form.project.get("total_weight") is not None or form.project.get("total_score") is not None),
        )
        if not there
    ]
    form.project["completeness"] = "partial" if missing else "complete"
    form.project["missing_parts"] = "; ".join(missing) or None
    if not form.project.get("project_name") and not form.funds:
        form.issue(form.chunk.first_line, "form", None, vocab.MESSAGES["no_name_no_funds"], "error")
    elif missing:
        form.issue(
            form.chunk.first_line, "form", None, vocab.MESSAGES["partial_form"].format(missing=", ".join(missing))
        )


# --- funds: unit and the zero total of formula cells -------------------------------------------


def _convert_unit(form: Form) -> None:
    """Amounts printed in 元 are stored in 万元 (the printed values stay in the *_raw columns)."""
    unit = form.project.get("funds_unit_raw")
    factor = vocab.FUNDS_UNIT_FACTORS.get(vocab.norm_label(unit), 1.0) if unit else 1.0
    for fund in form.funds:
        fund["unit_raw"] = unit
        if factor != 1.0:
            for column in stream.FUND_AMOUNTS:
                if fund.get(column) is not None:
                    fund[column] = round(fund[column] * factor, 8)


def _repair_zero_total(form: Form) -> None:
    """年度资金总额 printed as zeros while 财政拨款 holds the amounts: the total's formula cells were
    exported as 0. The amounts (and the rate) are taken from the sub-line, the repair recorded."""
    total = next((f for f in form.funds if f["fund_line"] == "total"), None)
    sub = next((f for f in form.funds if f["fund_line"] == "current_appropriation"), None)
    if total is None or sub is None:
        return
    amounts = [total.get(c) for c in stream.FUND_AMOUNTS]
    if not any(a == 0 for a in amounts) or any(a for a in amounts) or not any(sub.get(c) for c in stream.FUND_AMOUNTS):
        return
    for column in (*stream.FUND_AMOUNTS, "execution_rate"):
        total[column] = sub.get(column)
    total["repaired_from"] = sub["fund_line"]
    form.issue(
        total["line"],
        "funds",
        " | ".join(str(total.get(f"{c}_raw")) for c in stream.FUND_AMOUNTS),
        vocab.MESSAGES["zero_total_repaired"].format(label=sub["fund_label"]),
        "repaired",
    )


# --- forms whose rows were lost (parse/stream.py) -----------------------------------------------


def _parse_stream(form: Form, rows: list[Row]) -> dict[str, list[Row]]:
    cells = [(row.line, cell) for row in rows for cell in row.cells if not vocab.is_filler(cell)]
    parts = stream.sections(cells, _OPENS)
    header = [cell for _, cell in parts["header"]]  # label and value may stand on different lines
    _parse_header(form, [Row(parts["header"][0][0], header)] if header else [])
    _stream_funds(form, parts["funds"])
    goal = [
        (line, cell)
        for line, cell in parts["goal"]
        if vocab.block_key(cell) not in vocab.GOAL_BLOCK and vocab.norm_label(cell) not in vocab.GOAL_LABELS
    ]
    _parse_goal(form, stream.as_rows(goal) or stream.as_rows(parts["goal"][:1]))
    _stream_indicators(form, parts["indicators"])
    _stream_total(form, parts["total"])
    return {name: stream.as_rows(part) for name, part in parts.items()}


def _stream_funds(form: Form, cells: list[tuple[int, str]]) -> None:
    unit = stream.funds_unit(cells)
    form.project["funds_unit_raw"] = unit
    columns = stream.fund_columns(cells, FUND_COLUMN_ORDER)
    form.columns["funds"] = columns
    rows, stray = stream.fund_rows(cells)
    for line, cell in stray:
        form.issue(line, "funds", cell, vocab.MESSAGES["fund_row_unknown"])
    total_columns: tuple[str, ...] | None = None
    for line, label, code, values in rows:
        if code is None:
            form.issue(line, "funds", " | ".join([label, *values]), vocab.MESSAGES["fund_row_unknown"])
            continue
        placed, filled = stream.place_fund_values(values, columns, total_columns)
        if code == "total":
            total_columns = filled
        if len(values) > len(columns):
            form.issue(
                line,
                "funds",
                " | ".join(values),
                f"{len(values) - len(columns)} cell(s) beyond the {len(columns)} columns of the funds table not read",
            )
        elif len(values) != len(columns) and values:
            form.issue(
                line,
                "funds",
                " | ".join(values),
                f"{len(values)} value(s) for {len(columns)} columns (empty cells dropped by the export): "
                f"read as {', '.join(filled)}",
                "repaired",
            )
        earlier = next((f for f in form.funds if f["fund_line"] == code), None)
        if earlier is not None:
            same = all(earlier[f"{c}_raw"] == placed.get(c) for c in FUND_COLUMN_ORDER)
            form.issue(
                line,
                "funds",
                " | ".join([label, *values]),
                f"{label} printed again (same values as line {earlier['line']}); read once"
                if same
                else f"{label} printed twice with different values (lines {earlier['line']} and {line}); "
                f"cannot tell which is right",
                "repaired" if same else "error",
            )
            continue
        fund = {"form_id": form.chunk.form_id, "fund_line": code, "fund_label": label, "line": line}
        for column in FUND_COLUMN_ORDER:
            printed = placed.get(column)
            fund[f"{column}_raw"] = printed or None
            fund[column] = None if not printed or vocab.is_empty(printed) else form.number(printed, line, column)
        form.funds.append(fund)
    if not any(f["fund_line"] == "total" for f in form.funds):
        form.issue(cells[0][0] if cells else form.chunk.first_line, "funds", None, vocab.MESSAGES["no_fund_total"])
    _convert_unit(form)


def _stream_indicators(form: Form, cells: list[tuple[int, str]]) -> None:
    body = [(line, cell) for line, cell in cells if vocab.block_key(cell) not in vocab.INDICATOR_BLOCK]
    header_end = 0
    while header_end < len(body) and (
        vocab.norm_label(body[header_end][1]) in vocab.INDICATOR_HEADER
        or vocab.norm_label(body[header_end][1]) in vocab.INDICATOR_COLUMNS
    ):
        header_end += 1
    columns = stream.indicator_columns([cell for _, cell in body[:header_end]])
    form.columns["indicators"] = columns
    tokens = body[header_end:]
    keys = [vocab.block_key(cell) for _, cell in tokens]
    newer_taxonomy = not _NEWER_COST_LABELS.isdisjoint(keys)
    level1 = level2 = level1_raw = level2_raw = None
    printed1 = printed2 = False  # a level label printed since the last indicator
    for (line, cell), placed, span in stream.indicator_records(tokens, columns):
        key = vocab.block_key(cell)
        code1, code2 = vocab.LEVEL1.get(key), vocab.LEVEL2.get(key)
        if code1 == "cost" and code2 == "cost":  # 成本指标: level-1 in newer templates (with 经济成本指标)
            code1, code2 = ("cost", None) if newer_taxonomy else (None, "cost")
        if code1 is not None:
            if code1 != level1:
                level2 = level2_raw = None
            level1, level1_raw, printed1 = code1, cell, True
            continue
        if code2 is not None:
            level2, level2_raw, printed2 = code2, cell, True
            parent = "cost" if code2 == "cost" and newer_taxonomy else vocab.LEVEL2_PARENT[code2]
            if level1 != parent:
                level1, level1_raw, printed1 = parent, None, False
            continue
        if not placed and not stream.is_name_like(cell):
            form.issue(line, "indicator", cell, "cell outside any indicator; not read")
            continue
        if "weight" not in placed and "score" not in placed:
            if stream.is_placeholder(cell):
                form.issue(line, "indicator", cell, vocab.MESSAGES["placeholder_row"])
            elif vocab.SUB_INDICATOR.match(vocab.norm_label(cell)):
                form.issue(line, "indicator", " | ".join(c for _, c in span), vocab.MESSAGES["sub_indicator_row"])
            else:
                form.issue(line, "indicator", " | ".join(c for _, c in span), vocab.MESSAGES["no_weight_score_pair"])
            continue
        if level1 and not level2 and len(_CHILDREN[level1]) == 1:
            level2 = _CHILDREN[level1][0]
            form.issue(line, "level2", cell, f"level-2 missing; {level2} is the only level-2 of {level1}", "repaired")
        name, prefix = cell, None
        match = vocab.INDICATOR_PREFIX.match(name)
        if match:
            prefix, name = re.sub(r"\s", "", match.group(1)), name[match.end() :]
        target = "".join(placed[c] for c in ("nature", "target", "unit") if placed.get(c)) or None
        actual = placed.get("actual")
        indicator = {
            "form_id": form.chunk.form_id,
            "indicator_prefix": prefix,
            "indicator_name": name,
            "target_raw": None if vocab.is_empty(target) else target,
            "actual_raw": None if vocab.is_empty(actual) else actual,
            "weight_raw": placed.get("weight"),
            "weight": form.number(placed.get("weight"), line, "weight"),
            "score_raw": placed.get("score"),
            "score": form.number(placed.get("score"), line, "score"),
            "deviation_note": placed.get("note"),
            "indicator_order": len(form.indicators) + 1,
            "line": line,
            "level1_raw": level1_raw if printed1 else None,
            "level1": level1,
            "level2_raw": level2_raw if printed2 else None,
            "level2": level2,
        }
        printed1 = printed2 = False
        if level1 is None or level2 is None:
            form.issue(line, "level", cell, "indicator without level-1 or level-2 label")
        form.indicators.append(indicator)
    if not form.indicators:
        form.issue(
            cells[0][0] if cells else form.chunk.first_line, "indicators", None, vocab.MESSAGES["no_indicator_rows"]
        )


def _stream_total(form: Form, cells: list[tuple[int, str]]) -> None:
    """The total's weight and score, and a grade printed after them; the cells that follow
    (another form's fragment) are reported, not read."""
    line = cells[0][0] if cells else form.chunk.first_line
    numbers: list[str] = []
    grade = None
    after: list[str] = []
    for _, cell in cells:
        if grade is None and len(numbers) < 2 and _NUMERIC.match(cell):
            numbers.append(cell)
        elif grade is None and numbers and vocab.norm_label(cell) in vocab.TOTAL_GRADES:
            grade = cell
        elif numbers and _NUMERIC.match(cell):
            after.append(cell)
    blank = (
        bool(form.indicators)
        and all(i["score"] is None for i in form.indicators)
        and all(f.get("score") is None for f in form.funds)
    )
    form.project["total_weight_raw"] = numbers[0] if numbers else None
    form.project["total_score_raw"] = numbers[1] if len(numbers) > 1 and not blank else None
    form.project["total_weight"] = form.number(form.project["total_weight_raw"], line, "total_weight")
    form.project["total_score"] = form.number(form.project["total_score_raw"], line, "total_score")
    form.project["grade_raw"] = grade
    if blank:
        form.issue(
            line,
            "total",
            " | ".join(numbers),
            vocab.MESSAGES["blank_self_evaluation"].format(total=" ".join(numbers) or "-"),
        )
    elif numbers and len(numbers) != 2:
        form.issue(line, "total", " | ".join(numbers), vocab.MESSAGES["total_row_unreadable"])
    if after:
        form.issue(line, "total", " | ".join(after), vocab.MESSAGES["after_total_not_read"])
