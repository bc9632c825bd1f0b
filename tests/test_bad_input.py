"""Bad input: other encodings and newlines give the same tables; broken files give
clear parse issues while the other forms still load; a crash keeps old outputs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import etl
from selfeval.paths import ROOT
from selfeval.run import pipeline
from selfeval.store import outputs as tables

RAW = etl.RAW_DIR
SEEDS = sorted(RAW.glob("*.txt"))


def _copy_seeds(folder: Path, transform=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in SEEDS:
        data = path.read_bytes()
        (folder / path.name).write_bytes(transform(data) if transform else data)
    shutil.copy(RAW / "sources.csv", folder / "sources.csv")
    return folder


def _comparable(frames):
    # parse_issues also flag the sha256 mismatch with sources.csv; compare the data tables
    return {name: frames[name] for name in ("projects", "funds", "indicators")}


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda b: b.decode("utf-8").encode("gb18030"), id="gb18030"),
        pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(lambda b: b"\xef\xbb\xbf" + b, id="bom"),
        pytest.param(
            lambda b: b"\xef\xbb\xbf" + b.decode("utf-8").encode("utf-8").replace(b"\n", b"\r\n"), id="bom+crlf"
        ),
    ],
)
def test_reencoded_files_give_identical_tables(tmp_path, seed_tables, transform):
    frames = pipeline.collect(_copy_seeds(tmp_path / "raw", transform))
    for name, frame in _comparable(frames).items():
        pd.testing.assert_frame_equal(frame, seed_tables[name], obj=name)


def test_fullwidth_digits_read_as_numbers(tmp_path):
    text = (RAW / "003_d45a1a0ca283005b.txt").read_text(encoding="utf-8")
    first = text[: text.index("朝阳区项目支出绩效自评表", 10)]
    fullwidth = first.replace("0.69", "０．６９")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "fw.txt").write_text(fullwidth, encoding="utf-8")
    frames = pipeline.collect(raw)
    assert frames["projects"].iloc[0].full_year_budget == 0.69


def test_broken_files_are_reported_and_the_rest_loads(tmp_path):
    raw = _copy_seeds(tmp_path / "raw")
    (raw / "empty.txt").write_bytes(b"")
    (raw / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (raw / "notes.txt").write_text("会议纪要\n今天讨论了预算。\n", encoding="utf-8")
    text = (RAW / "000_cbaa33e73a3cfdfd.txt").read_text(encoding="utf-8")
    cut = text.index("年度总体目标")  # the first form stops before its goal and indicators
    (raw / "truncated.txt").write_text(text[:cut], encoding="utf-8")
    frames = pipeline.collect(raw)
    # the cut form has its name and fund lines: loaded as partial (issue 14 part 4), not dropped
    assert len(frames["projects"]) == 71
    partial = frames["projects"].set_index("form_id").loc["truncated#001"]
    assert (partial.completeness, partial.missing_parts) == ("partial", "goal; indicators; total")
    issues = frames["parse_issues"]
    errors = issues[issues.severity == "error"]
    by_file = errors.groupby("source_file")["message"].apply(" | ".join)
    assert "empty file" in by_file["empty.txt"]
    assert "binary file" in by_file["binary.txt"]
    assert "no self-evaluation form found in notes.txt" in by_file["notes.txt"]
    assert "truncated.txt" not in by_file
    cut_off = issues[(issues.source_file == "truncated.txt") & issues.message.str.contains("cut off")]
    assert cut_off.form_id.tolist() == ["truncated#001"] and cut_off.line.notna().all()
    files = frames["files"].set_index("source_file")
    assert files.loc["truncated.txt", "titles_seen"] == 1 and files.loc["truncated.txt", "forms_loaded"] == 1
    assert files.loc["empty.txt", "status"] == "failed"


def test_cli_exit_status_and_message(tmp_path):
    raw = _copy_seeds(tmp_path / "raw")
    (raw / "empty.txt").write_bytes(b"")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(ROOT / "etl.py"), "--raw", str(raw), "--out", str(out)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "error: empty.txt" in result.stderr and "empty file" in result.stderr
    assert "70 forms loaded" in result.stdout
    assert len(pd.read_parquet(out / "projects.parquet")) == 70


def test_crash_mid_write_keeps_previous_outputs(tmp_path, monkeypatch):
    raw = _copy_seeds(tmp_path / "raw")
    out = tmp_path / "out"
    pipeline.run(raw, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (raw / "003_d45a1a0ca283005b.txt").unlink()  # the next run would write 22 forms

    real = tables.StagedOutputs.append
    calls = {"n": 0}

    def crash_on_third(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed mid-write")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(tables.StagedOutputs, "append", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(raw, out, use_cache=False)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]
    monkeypatch.setattr(tables.StagedOutputs, "append", real)
    summary = pipeline.run(raw, out)
    assert summary["forms"] == 22 and len(pd.read_parquet(out / "projects.parquet")) == 22


def test_csv_is_excel_friendly_and_formula_safe():
    assert tables.neutralise_for_csv('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert tables.neutralise_for_csv("@SUM(A1)") == "'@SUM(A1)"
    assert tables.neutralise_for_csv("-") == "-"
    assert tables.neutralise_for_csv("-12.5") == "-12.5"
    assert tables.neutralise_for_csv("a\x07b") == "ab"
    assert tables.neutralise_for_csv("≥90%") == "≥90%"


def _safe_cell(text):
    """What the CSV should hold for one cell, by the rule's regular expressions alone."""
    if text is None:
        return None
    text = re.sub(tables.CONTROL_CHARACTERS, "", text)
    risky = re.match(tables._FORMULA_START, text) and not re.fullmatch(tables._PLAIN_NUMBER, text)
    return "'" + text if risky and len(text) > 1 else text


# the bytes the scans look for, their neighbours, and Chinese text (bytes >= 0x80)
_CELL_CHARS = st.sampled_from(list("=+-@\t\r\n\x00\x07\x1f\x20\x7f\x80a1.%中文≥"))


@given(st.lists(st.one_of(st.none(), st.text(_CELL_CHARS, max_size=5)), max_size=12), st.integers(0, 4))
def test_csv_text_is_what_the_regular_expressions_give(cells, start):
    # the byte scans that skip clean columns must never skip a cell the rule changes,
    # also on a slice of a larger array (offsets not starting at 0)
    column = pa.array(cells, pa.string()).slice(min(start, len(cells)))
    assert tables._safe_text(column).to_pylist() == [_safe_cell(c) for c in cells[min(start, len(cells)) :]]


def test_strict_fails_on_warnings(tmp_path, capsys):
    # the seed files carry warnings (e.g. 002 line 343: one of target/actual missing)
    assert etl.main(["--raw", str(RAW), "--out", str(tmp_path), "--jobs", "1"]) == 0
    assert etl.main(["--raw", str(RAW), "--out", str(tmp_path), "--jobs", "1", "--strict"]) == 1
    assert "--strict" in capsys.readouterr().err


def test_binary_test_counts_exactly_the_unicode_control_characters():
    import unicodedata

    from selfeval.extract import read

    for code in [*range(0x300), 0x2028, 0x3000, 0xFEFF, 0xFFFD]:
        char = chr(code)
        control = unicodedata.category(char) == "Cc" and char not in "\t\n\r\f\v"
        assert bool(read._CONTROL.fullmatch(char)) == control, hex(code)
