"""Fuzzing the parser: real form text, mutated at random, never breaks it.

Seeds are slices of the real exports in data/raw/ (Word layout: 000; PDF layout:
002, 003). Each example deletes, duplicates, swaps or rewrites lines and cells,
truncates the text at any line or byte, inserts random bytes (invalid UTF-8,
NULs, control characters), and re-encodes (UTF-8, BOM, GB18030, UTF-16,
CRLF/CR). Whatever comes out, per_file.parse_file must return rows or parse
issues that name the file (and, inside a form, the form and a line), and the
file's counts must add up.

In the suite the run is modest and the same every time (FUZZ_EXAMPLES, default 200;
re-scoring and corpus tests run a fifth and a twentieth of that). A campaign, with
fresh random examples:

    FUZZ_EXAMPLES=5000 FUZZ_RANDOM=1 .venv/bin/python -m pytest -q tests/test_fuzz.py

What the campaigns found is pinned at the end of this file.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import etl
from selfeval.extract.read import is_title
from selfeval.run import per_file, pipeline
from selfeval.run.workers import validated_arrow
from selfeval.schema import fields as schema
from selfeval.score.checks import derive

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
# In the suite: the same examples every run, nothing saved. FUZZ_RANDOM=1: new examples,
# and failures saved in .hypothesis/ to replay.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    database=settings.default.database if os.environ.get("FUZZ_RANDOM") else None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SEED_FILES = sorted(etl.RAW_DIR.glob("*.txt"))
SEEDS = {p.name: p.read_text(encoding="utf-8").split("\n") for p in SEED_FILES}
TITLES = {name: [i for i, line in enumerate(lines) if is_title(line)] for name, lines in SEEDS.items()}

# Cells worth planting: labels that open blocks, numbers the schema rejects or
# cannot hold (negative, huge, not finite), empty markers, markup and controls.
ODD_CELLS = [
    "",
    " ",
    "\t",
    "—",
    "-",
    "%",
    ".",
    "..",
    "1.2.3",
    "-5",
    "+7",
    "−3",
    "-0.5%",
    "1e999",
    "inf",
    "nan",
    "NaN",
    "9" * 400,
    "0." + "9" * 400,
    "１０％",
    "٣٤",
    "10%",
    "100",
    "0",
    "999999999999999999999",
    "年度资金总额",
    "其中：当年财政拨款",
    "项目名称",
    "主管部门",
    "实施单位",
    "项目资金（万元）",
    "年度总体目标",
    "预期目标",
    "实际完成情况",
    "绩效指标",
    "一级指标",
    "二级指标",
    "产出指标",
    "数量指标",
    "成本指标",
    "经济成本指标",
    "满意度指标",
    "总分",
    "分值",
    "得分",
    "指标1：",
    "(2021年度)",
    "（0000年度）",
    "朝阳区项目支出绩效自评表",
    "项目支出绩效自评表（2022年度）",
    "=1+1",
    "@cmd",
    "<b>x</b>",
    "**b**",
    "\x07",
    "\x1b[31m",
    "\u2028",
    "\x85",
    "\u3000",
    "\ufeff",
    "\x0c",
    "≥",
    "≥-5%",
    "≤ 9" * 3,
    "x" * 3000,
]
# Numbers the printed-number cells (amounts, rates, weights, scores, targets) may hold.
ODD_NUMBERS = [
    "-5",
    "9" * 400,
    "1" + "0" * 30,
    "-0",
    "+7",
    "-128.18",
    "1e5",
    "0.000000001",
    "0",
    "0%",
    "-3%",
    "100000000000000",
    "12.",
    ".5",
    "1,000.5",
    "1 0",
    "９９．９",
    "٣٤",
    "150%",
    "≥" + "9" * 300,
    "≤0." + "0" * 330 + "1",
    "≥1e9",
    "—",
    "",
    "NaN",
    "∞",
    "1/0",
    "10%%",
]
NAMES = ["fuzz.txt", "朝阳区 2021 自评表.txt", "a#b.txt", "no_ext", ".hidden.txt"]
ENCODINGS = ["utf-8", "utf-8", "utf-8-sig", "gb18030", "utf-16"]


@st.composite
def seed_lines(draw, whole_forms: bool = False) -> list[str]:
    """A slice of a real export: one to three whole forms, or any run of lines."""
    name = draw(st.sampled_from(sorted(SEEDS)))
    lines, titles = SEEDS[name], TITLES[name]
    if whole_forms or draw(st.booleans()):
        first = draw(st.integers(0, len(titles) - 1))
        last = min(first + draw(st.integers(1, 3)), len(titles))
        start = titles[first] - draw(st.integers(0, 2))  # sometimes a line or two of the form before
        end = titles[last] if last < len(titles) else len(lines)
        return lines[max(0, start) : end]
    start = draw(st.integers(0, len(lines) - 1))
    return lines[start : start + draw(st.integers(1, 150))]


def _cells(line: str) -> list[str]:
    return line.split("\t")


def _line_mutation(draw, lines: list[str]) -> list[str]:
    if not lines:
        return [draw(st.sampled_from(ODD_CELLS))]
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    op = draw(
        st.sampled_from(
            [
                "delete",
                "duplicate",
                "swap",
                "truncate",
                "cut_line",
                "insert",
                "delete_cell",
                "duplicate_cell",
                "swap_cells",
                "replace_cell",
                "join",
                "retab",
                "number",
                "number",
                "number",
                "number",
            ]
        )
    )
    out = list(lines)
    if op == "number":
        return _number_mutation(draw, out)
    if op == "delete":
        del out[i : i + draw(st.integers(1, 5))]
    elif op == "duplicate":
        out[i:i] = out[i : i + draw(st.integers(1, 12))]
    elif op == "swap":
        out[i], out[j] = out[j], out[i]
    elif op == "truncate":
        out = out[:i]
    elif op == "cut_line":  # a half-written last line
        out = out[:i] + [out[i][: draw(st.integers(0, len(out[i])))]]
    elif op == "insert":
        text = draw(st.one_of(st.sampled_from(ODD_CELLS), st.text(max_size=30)))
        out.insert(i, text)
    else:
        cells = _cells(out[i])
        k = draw(st.integers(0, len(cells) - 1))
        if op == "delete_cell" and len(cells) > 1:
            del cells[k]
        elif op == "duplicate_cell":
            cells.insert(k, cells[k])
        elif op == "swap_cells":
            m = draw(st.integers(0, len(cells) - 1))
            cells[k], cells[m] = cells[m], cells[k]
        elif op == "replace_cell":
            cells[k] = draw(st.one_of(st.sampled_from(ODD_CELLS), st.text(max_size=20)))
        elif op == "join":  # two lines run together
            if i + 1 < len(out):
                out[i : i + 2] = [out[i] + out[i + 1]]
            return out
        elif op == "retab":  # the cell separator lost or doubled
            out[i] = out[i].replace("\t", draw(st.sampled_from(["", " ", "\t\t", "\n"])))
            return out
        out[i] = "\t".join(cells)
    return out


def _number_mutation(draw, lines: list[str]) -> list[str]:
    """Rewrite a cell that holds a digit: amounts, rates, weights, scores, targets."""
    spots = [
        (n, k)
        for n, line in enumerate(lines)
        for k, cell in enumerate(_cells(line))
        if any(ch.isdigit() for ch in cell)
    ]
    if not spots:
        return lines
    n, k = draw(st.sampled_from(spots))
    cells = _cells(lines[n])
    cells[k] = draw(st.sampled_from(ODD_NUMBERS))
    return lines[:n] + ["\t".join(cells)] + lines[n + 1 :]


def _byte_mutation(draw, data: bytes) -> bytes:
    position = draw(st.integers(0, len(data)))
    op = draw(st.sampled_from(["insert", "truncate", "overwrite"]))
    if op == "truncate":  # half-downloaded: cut at any byte, even inside a character
        return data[:position]
    junk = draw(
        st.one_of(
            st.binary(min_size=1, max_size=8),
            st.sampled_from(
                [b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\x80", b"\xe6\x9c", b"\r", b"\x1b", b"\x07\x07\x07"]
            ),
        )
    )
    if op == "insert":
        return data[:position] + junk + data[position:]
    return data[:position] + junk + data[position + len(junk) :]


@st.composite
def fuzzed_file(draw) -> tuple[str, bytes]:
    if draw(st.integers(0, 3)) == 0:
        # a quarter of the files: whole forms with odd numbers only, so that most forms
        # load and their numbers reach the tables (structural damage rejects most forms)
        lines = draw(seed_lines(whole_forms=True))
        for _ in range(draw(st.integers(1, 4))):
            lines = _number_mutation(draw, lines)
    else:
        lines = draw(seed_lines())
        for _ in range(draw(st.integers(0, 8))):
            lines = _line_mutation(draw, lines)
    newline = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(ENCODINGS))
    data = newline.join(lines).encode(encoding)
    for _ in range(draw(st.integers(1, 3)) if draw(st.integers(0, 2)) == 0 else 0):  # a third of the files
        data = _byte_mutation(draw, data)
    return draw(st.sampled_from(NAMES)), data


NUMERIC = {
    table: [c.name for c in schema.TABLES[table]["columns"] if c.dtype in ("float", "int")]
    for table in ("projects", "funds", "indicators")
}
# The schema's lower bounds (>= 0, in [0, 1]) of those columns, checked in plain Python:
# pandera itself costs ~0.4 s a file with re-scoring, too slow for thousands of examples.
MINIMUM = {
    table: {
        c.name: k.statistics["min_value"]
        for c in schema.TABLES[table]["columns"]
        for k in c.checks
        if k.name in ("greater_than_or_equal_to", "in_range")
    }
    for table in NUMERIC
}


def assert_accounted(name: str, result: per_file.FileResult) -> None:
    """The properties every input must keep, however broken."""
    row = result.file_row
    issues = result.issues
    for issue in issues:
        assert issue.source_file == name, issue
        assert issue.message, issue
        if issue.form_id is not None:  # inside a form: the form and a line of the file
            assert issue.form_id.startswith(Path(name).stem + "#"), issue
            assert isinstance(issue.line, int) and issue.line >= 1, issue
        # the parser's safety net turns a crash into an issue; the fuzz wants none
        assert "parser failed" not in issue.message, issue
    assert row["forms_loaded"] + row["forms_rejected"] == row["titles_seen"], row
    assert row["forms_loaded"] == len(result.projects)
    if not result.projects:  # nothing loaded: at least one error says why
        assert any(i.severity == "error" for i in issues), (row, issues)
    rejected = {i.form_id for i in issues if i.severity == "error" and i.form_id}
    assert len(rejected) == row["forms_rejected"], (rejected, row)
    loaded = {p["form_id"] for p in result.projects}
    assert not loaded & rejected
    for project in result.projects:
        named = isinstance(project["project_name"], str) and project["project_name"].strip()
        # issue 14 part 4: a form with a fund line but no 项目名称 is loaded too, marked partial
        assert named or (
            project["completeness"] == "partial"
            and "project_name" in project["missing_parts"]
            and any(f["form_id"] == project["form_id"] for f in result.funds)
        ), project
    for table in ("projects", "funds", "indicators"):
        for record in getattr(result, table):
            for column in NUMERIC[table]:
                value = record.get(column)
                assert value is None or math.isfinite(value), (table, column, value)
                if value is not None and column in MINIMUM[table]:
                    assert value >= MINIMUM[table][column], (table, column, value)
    lines = {(f["form_id"], f["fund_line"]) for f in result.funds}
    assert len(lines) == len(result.funds), "a fund line twice in one form (funds primary key)"


def _validated(rows: dict[str, list[dict]]) -> dict:
    """Every table's rows -> typed, validated frames, the way a worker makes them."""
    return {name: schema.to_pandas(validated_arrow(name, table_rows)) for name, table_rows in rows.items()}


def assert_valid(result: per_file.FileResult) -> dict:
    """What collect() does with a file's rows: re-score (checks.derive) and validate
    (pandera, every table); a SchemaError or a crash fails the test."""
    frames = _validated(
        derive(
            {
                "projects": result.projects,
                "funds": result.funds,
                "indicators": result.indicators,
                "files": [result.file_row],
                "parse_issues": [vars(i) for i in result.issues],
            }
        )
    )
    for table in ("projects", "funds", "indicators", "checks"):
        for column in frames[table].columns:
            if str(frames[table][column].dtype) == "Float64":
                values = frames[table][column].dropna().astype(float)
                assert values.map(math.isfinite).all(), (table, column, values.tolist())
    return frames


@FUZZ
@given(fuzzed_file())
def test_parse_file_never_raises_and_accounts_for_every_form(case):
    name, data = case
    assert_accounted(name, per_file.parse_file(name, data, None))


# Re-scoring and validation cost ~0.4 s a file (parsing ~1 ms): fewer examples.
@settings(FUZZ, max_examples=max(10, EXAMPLES // 5))
@given(fuzzed_file())
def test_fuzzed_file_rows_pass_validation(case):
    name, data = case
    result = per_file.parse_file(name, data, None)
    assert_accounted(name, result)
    assert_valid(result)


@FUZZ
@given(st.data())
def test_damage_only_costs_the_forms_it_touches(data):
    """Bytes inserted at, or the file cut at, any byte: every form that was loaded and
    lies wholly before the damage (the next form's title line included) still loads."""
    lines = data.draw(seed_lines(whole_forms=True))
    clean = "\n".join(lines).encode("utf-8")
    loaded = {p["form_ordinal"] for p in per_file.parse_file("clean.txt", clean, None).projects}
    title_ends, offset = [], 0
    for line in lines:
        offset += len(line.encode("utf-8")) + 1
        if is_title(line):
            title_ends.append(offset - 1)
    position = data.draw(st.integers(0, len(clean)))
    if data.draw(st.booleans()):
        damaged = clean[:position]  # cut short: a half-downloaded file
    else:
        junk = data.draw(
            st.one_of(
                st.binary(min_size=1, max_size=4),
                st.sampled_from([b"\x00", b"\x00" * 4, b"\xff", b"\x80", b"\xe6\x9c", b"\x1b"]),
            )
        )
        damaged = clean[:position] + junk + clean[position:]
    safe = {ordinal for ordinal in loaded if ordinal < len(title_ends) and title_ends[ordinal] < position}
    result = per_file.parse_file("damaged.txt", damaged, None)
    assert_accounted("damaged.txt", result)
    assert safe <= {p["form_ordinal"] for p in result.projects}, [i.describe() for i in result.issues]


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_are_reported_not_raised(data):
    result = per_file.parse_file("random.txt", data, None)
    assert_accounted("random.txt", result)
    assert any(i.severity == "error" and "random.txt" in i.message for i in result.issues)


@settings(FUZZ, max_examples=max(5, EXAMPLES // 20))
@given(st.lists(fuzzed_file(), min_size=1, max_size=4))
def test_collect_validates_fuzzed_corpora(cases):
    """The whole run (derive, re-scoring, pandera validation) over a folder of fuzzed files."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp)
        for n, (name, data) in enumerate(cases):
            (raw / f"{n}_{Path(name).stem or 'x'}.txt").write_bytes(data)
        frames = pipeline.collect(raw)  # validates every table; a SchemaError fails the test
    files = frames["files"]
    assert len(files) == len(cases)
    counted = files[files.status != "duplicate"]
    assert (counted.forms_loaded + counted.forms_rejected == counted.titles_seen).all()
    assert len(frames["projects"]) == int(counted.forms_loaded.sum())
    for name, frame in frames.items():
        for column in frame.columns:
            if str(frame[column].dtype) == "Float64":
                values = frame[column].dropna().astype(float)
                assert values.map(math.isfinite).all(), (name, column)
    issues = frames["parse_issues"]
    assert issues.source_file.isin(files.source_file).all()
    inside = issues[issues.form_id.notna()]
    assert inside.line.notna().all()
    assert not issues.message.str.contains("parser failed").any()
    assert isinstance(frames["projects"], pd.DataFrame)


# --- what the fuzz campaign found, pinned -------------------------------------------------------

SEED_002 = (etl.RAW_DIR / "002_fd002be877c499a2.txt").read_text(encoding="utf-8")
FORM_002 = SEED_002[: SEED_002.index("项目支出绩效自评表", 10)]  # the file's first form, PDF layout


def _issues(result, severity=None):
    return [i.message for i in result.issues if severity is None or i.severity == severity]


def test_fund_line_printed_twice():
    total = next(line for line in FORM_002.split("\n") if "年度资金总额" in line)
    same = per_file.parse_file("twice.txt", FORM_002.replace(total, total + "\n" + total).encode(), None)
    assert same.file_row["forms_loaded"] == 1 and len(same.funds) == 4
    assert any("printed again" in m for m in _issues(same, "repaired"))
    other = total.replace("127.85", "120.00")
    differ = per_file.parse_file("differ.txt", FORM_002.replace(total, total + "\n" + other).encode(), None)
    assert differ.file_row["forms_rejected"] == 1
    assert any("printed twice with different values" in m for m in _issues(differ, "error"))
    assert_valid(same), assert_valid(differ)


def test_negative_and_huge_numbers_are_left_empty_not_fatal():
    text = FORM_002.replace("128.18\t128.18\t127.85", "-128.18\t128.18\t127.85", 1)
    text = text.replace("\t100\t99.97", "\t100\t" + "9" * 400)
    result = per_file.parse_file("odd.txt", text.encode(), None)
    assert result.file_row["forms_loaded"] == 1
    project = result.projects[0]
    assert project["initial_budget"] is None and project["total_score"] is None
    assert project["total_score_raw"] == "9" * 400  # the printed text is kept
    assert sum("negative or too large" in m for m in _issues(result, "warning")) == 2
    assert_valid(result)


def test_half_downloaded_file_keeps_its_complete_forms():
    data = (etl.RAW_DIR / "003_d45a1a0ca283005b.txt").read_bytes()
    cut = len(data) // 2
    while data[cut] < 0x80:  # cut inside a three-byte character
        cut += 1
    result = per_file.parse_file("half.txt", data[: cut + 1], None)
    assert result.file_row["encoding"] == "utf-8"
    # the form cut in half keeps its name and fund lines: loaded as partial (issue 14 part 4)
    assert result.file_row["forms_loaded"] == 25 and result.file_row["forms_rejected"] == 0
    assert [p["completeness"] for p in result.projects].count("partial") == 1
    assert any("not valid utf-8 replaced" in m and "truncated or damaged" in m for m in _issues(result, "warning"))
    stray = per_file.parse_file("stray.txt", data[:cut] + b"\xff" + data[cut:], None)
    assert stray.file_row["forms_loaded"] == 48
    # bytes that are damaged everywhere are still refused, not read as mojibake
    refused = per_file.parse_file("junk.txt", bytes(range(0x80, 0x100)) * 20, None)
    assert refused.file_row["encoding"] is None
    assert "junk.txt: cannot decode as UTF-8 or GB18030" in _issues(refused, "error")


def test_nul_padding_and_a_stray_nul_do_not_lose_the_file():
    data = (etl.RAW_DIR / "002_fd002be877c499a2.txt").read_bytes()
    padded = per_file.parse_file("padded.txt", data + b"\x00" * 4096, None)  # an interrupted download
    assert padded.file_row["forms_loaded"] == 15
    assert any("ends in 4096 NUL byte(s), ignored" in m for m in _issues(padded, "warning"))
    cut = data.index("年度资金总额".encode())
    stray = per_file.parse_file("stray.txt", data[:cut] + b"\x00" + data[cut:], None)
    assert stray.file_row["forms_loaded"] == 15 and stray.funds[0]["fund_label"] == "年度资金总额"
    assert any("1 NUL byte(s) removed (line 10)" in m for m in _issues(stray, "warning"))
    binary = per_file.parse_file("utf16.txt", FORM_002.encode("utf-16-le"), None)  # UTF-16 without BOM
    assert "utf16.txt: binary file (NUL bytes), not a text export of a form" in _issues(binary, "error")


# --- input in another format: one clear issue, never silence ------------------------------------

NOT_FORMS = {
    "minutes.txt": "会议纪要\n今天讨论了2021年度预算执行情况。\n".encode(),
    "form_as_csv.txt": (
        "项目支出绩效自评表,（2021年度）\n项目名称,公共事务协管经费\n年度资金总额,9234.43,9234.43,8216.78,10,88.97%,9\n"
    ).encode(),
    # (a web page named .txt is now read as the web page it is: tests/test_formats.py)
    "form_as_json.txt": '{"title": "项目支出绩效自评表", "项目名称": "公共事务协管经费"}'.encode(),
    "english.txt": b"Project expenditure performance self-evaluation form\nProject name\tPublic affairs\n",
    "gbk_notes.txt": "财政局通知：请各单位报送自评表。\n".encode("gb18030"),
}


@pytest.mark.parametrize("name", sorted(NOT_FORMS))
def test_non_form_document_gives_one_clear_issue(name):
    result = per_file.parse_file(name, NOT_FORMS[name], None)
    errors = _issues(result, "error")
    assert errors == [f"no self-evaluation form found in {name} (no line ending in 项目支出绩效自评表)"]
    assert (result.file_row["titles_seen"], result.file_row["status"]) == (0, "failed")


def test_form_title_over_an_unknown_layout_is_rejected_with_the_reason():
    text = "项目支出绩效自评表\n项目名称,公共事务协管经费\n年度资金总额,9234.43,9234.43\n总分,100,95\n"
    result = per_file.parse_file("commas.txt", text.encode(), None)
    assert (result.file_row["titles_seen"], result.file_row["forms_rejected"]) == (1, 1)
    errors = _issues(result, "error")
    assert any("unknown layout" in m for m in errors) and any("no 项目名称 found" in m for m in errors)


def test_huge_target_is_not_infinite():
    """A 400-digit target used to be read as inf; values.py now reads it as text (too large)."""
    line = next(line for line in FORM_002.split("\n") if "≥30个" in line)
    text = FORM_002.replace(line, line.replace("≥30个", "≥" + "9" * 400 + "个"))
    frames = assert_valid(per_file.parse_file("big.txt", text.encode(), None))
    assert frames["indicators"].target_number.dropna().astype(float).map(math.isfinite).all()
    assert frames["checks"].printed.dropna().astype(float).map(math.isfinite).all()
