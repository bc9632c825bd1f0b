"""Issue 15, the ETL side: every case of "What happens when input is bad" that a hostile review broke,
each reproduced on the real seed files (data/raw) and checked against what their text says.

002_fd002be877c499a2.txt (丰台区, 15 forms, tab rows): line 41 is the second form's title
"项目支出绩效自评表", line 45 its 项目名称 row ("2024年-城指中心搬迁信息化建设"), line 39 the first
form's 总分 row (100, 99.97). The subprocess tests run the real `python etl.py`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

import etl
from selfeval.paths import ROOT
from selfeval.run import cache, per_file, pipeline
from selfeval.store import outputs as tables

RAW = etl.RAW_DIR
F002 = "002_fd002be877c499a2.txt"
F003 = "003_d45a1a0ca283005b.txt"
F000 = "000_cbaa33e73a3cfdfd.txt"
ETL = [sys.executable, str(ROOT / "etl.py")]


def _raw(folder: Path, names=(F000, F002, F003), sources: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(RAW / name, folder / name)
    if sources:
        shutil.copy(RAW / "sources.csv", folder / "sources.csv")
    return folder


def _lines_002() -> list[str]:
    return (RAW / F002).read_text(encoding="utf-8").split("\n")


def _write_002(folder: Path, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / F002).write_text("\n".join(lines), encoding="utf-8")
    return folder


def _etl(raw: Path, out: Path, *extra: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ETL, "--raw", str(raw), "--out", str(out), "--jobs", "1", *extra],
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file() and p.name != ".etl.lock"}


def _messages(frames, severity=None) -> list[str]:
    issues = frames["parse_issues"]
    if severity:
        issues = issues[issues.severity == severity]
    return issues.message.tolist()


# --- 2. titles the patterns did not know ----------------------------------------------------------


def test_titles_with_a_unit_a_continuation_mark_or_the_goal_form_word_start_forms(tmp_path):
    lines = _lines_002()
    assert (
        lines[40] == "项目支出绩效自评表" and lines[64] == "项目支出绩效自评表" and lines[103] == "项目支出绩效自评表"
    )
    lines[40] = "丰台区城市管理指挥中心项目支出绩效自评表"  # a unit in front: more than 8 characters
    lines[64] = "项目支出绩效自评表（续）"
    lines[103] = "丰台区项目绩效目标自评表"
    frames = pipeline.collect(_write_002(tmp_path / "raw", lines))
    projects = frames["projects"].set_index("form_id")
    assert len(projects) == 15
    assert projects.loc["002_fd002be877c499a2#002", "project_name"] == "2024年-城指中心搬迁信息化建设"
    assert projects.loc["002_fd002be877c499a2#002", "title"] == "丰台区城市管理指挥中心项目支出绩效自评表"
    assert projects.loc["002_fd002be877c499a2#003", "project_name"] == "2024年-城指中心接诉即办运维项目"
    assert projects.loc["002_fd002be877c499a2#001", "total_score"] == 99.97  # not glued to the next form


def test_a_form_starts_at_its_project_name_row_after_a_complete_form(tmp_path):
    lines = _lines_002()
    lines[40] = "北京市丰台区城市管理指挥中心2024年度项目支出绩效评价表"  # no title word the patterns know
    frames = pipeline.collect(_write_002(tmp_path / "raw", lines))
    projects = frames["projects"].set_index("form_id")
    assert len(projects) == 15
    second = projects.loc["002_fd002be877c499a2#002"]
    assert second.project_name == "2024年-城指中心搬迁信息化建设" and second.first_line == 41
    assert second.title == "北京市丰台区城市管理指挥中心2024年度项目支出绩效评价表" and second.year == 2024
    assert projects.loc["002_fd002be877c499a2#001", "total_score"] == 99.97
    warned = [m for m in _messages(frames, "warning") if "without a recognised title line" in m]
    assert warned == [
        "a form starts at line 41 without a recognised title line (项目名称 row after a complete "
        "form); read as a form of its own"
    ]


def test_form_rows_after_a_total_without_a_title_or_project_name_are_not_dropped(tmp_path):
    lines = _lines_002()
    assert lines[44].startswith("项目名称\t2024年-城指中心搬迁信息化建设")
    lines[40], lines[44] = "", ""  # the second form lost its title and its 项目名称 row
    frames = pipeline.collect(_write_002(tmp_path / "raw", lines))
    files = frames["files"].set_index("source_file")
    # the form is found (not glued to the one before) and, having fund lines, loaded as partial (issue 14)
    assert (files.loc[F002, "titles_seen"], files.loc[F002, "forms_loaded"], files.loc[F002, "forms_rejected"]) == (
        15,
        15,
        0,
    )
    second = frames["projects"].set_index("form_id").loc["002_fd002be877c499a2#002"]
    assert (second["completeness"], second["missing_parts"]) == ("partial", "project_name")
    warnings = frames["parse_issues"][frames["parse_issues"].severity == "warning"]
    said = warnings[warnings.form_id == "002_fd002be877c499a2#002"].message.tolist()
    assert "no 项目名称 found" in said and "form cut off: no project_name; loaded as partial" in said
    assert any(m.startswith("a form starts at line 43 without a recognised title line") for m in said)
    assert frames["projects"].set_index("form_id").loc["002_fd002be877c499a2#001", "total_score"] == 99.97


def test_n_forms_of_sources_csv_is_checked_against_the_forms_found(tmp_path):
    raw = _raw(tmp_path / "raw", names=(F002,))
    text = (raw / "sources.csv").read_text(encoding="utf-8")
    assert ",PDF export,15\n" in text
    (raw / "sources.csv").write_text(text.replace(",PDF export,15\n", ",PDF export,16\n"), encoding="utf-8")
    frames = pipeline.collect(raw)
    assert "data/raw/sources.csv says 16 form(s), 15 found in the file" in _messages(frames, "warning")
    assert not [
        m for m in _messages(pipeline.collect(_raw(tmp_path / "raw2", names=(F002,)))) if "form(s)," in m
    ]  # 15 as listed: no warning


# --- 3. every entry of the raw folder is in `files` -----------------------------------------------


def test_every_entry_of_the_raw_folder_ends_in_files_with_a_status_and_a_reason(tmp_path):
    raw = _raw(tmp_path / "raw", names=(F000,))
    shutil.copy(RAW / F003, raw / "UPPER.TXT")  # 48 forms, extension in capitals
    (raw / "sub").mkdir()
    shutil.copy(RAW / F002, raw / "sub" / "in_a_folder.txt")  # 15 forms, one level down
    (raw / "x.txt").mkdir()  # a folder with a file's name
    (raw / "gone.txt").symlink_to(raw / "nowhere.txt")  # a dangling symbolic link
    os.mkfifo(raw / "pipe.txt")
    (raw / "report.docx").write_bytes(b"PK\x03\x04 a damaged Word file")  # read, and refused with a reason
    (raw / "notes.md").write_text("# notes\n", encoding="utf-8")
    out = tmp_path / "out"
    summary = pipeline.run(raw, out)
    files = tables.read_table(out / "files.parquet").set_index("source_file")
    assert summary["forms"] == 7 + 48 + 15
    assert files.status.to_dict() == {
        F000: "ok",
        "UPPER.TXT": "ok",
        "gone.txt": "skipped",
        "notes.md": "skipped",
        "pipe.txt": "skipped",
        "report.docx": "failed",
        "sub/in_a_folder.txt": "ok",
        "x.txt": "skipped",
    }
    assert files.loc["UPPER.TXT", "forms_loaded"] == 48 and files.loc["sub/in_a_folder.txt", "forms_loaded"] == 15
    assert files.loc["report.docx", "format"] == "docx" and "report.docx" in files.loc["report.docx", "reason"]
    assert files.loc["gone.txt", "reason"] == "broken symbolic link (its target does not exist)"
    assert files.loc["pipe.txt", "reason"] == "not a regular file (FIFO)"
    assert files.loc["notes.md", "reason"] == "unsupported file type (.md)"
    assert files.loc["x.txt", "reason"].startswith("a folder with a file's name")
    projects = tables.read_table(out / "projects.parquet")
    assert "sub/in_a_folder#001" in set(projects.form_id)  # ids keep the folder: no clash with a top-level file
    issues = tables.read_table(out / "parse_issues.parquet")
    assert "pipe.txt: skipped: not a regular file (FIFO)" in issues.message.tolist()
    (raw / "later.odt").write_bytes(b"PK")  # a new entry, even a skipped one, makes a new run
    assert pipeline.run(raw, out)["reused"] is False
    assert tables.read_table(out / "files.parquet").set_index("source_file").loc["later.odt", "status"] == "skipped"


# --- 4. a raw file changed during the run ---------------------------------------------------------


def test_a_file_changed_during_the_run_is_reported_and_cached_under_the_bytes_parsed(tmp_path, monkeypatch):
    raw = _raw(tmp_path / "raw", names=(F000, F002))
    out = tmp_path / "out"
    original = (raw / F002).read_bytes()
    lines = _lines_002()
    cut = lines.index("项目支出绩效自评表", 60)  # the replacement keeps the first two forms only
    replacement = "\n".join(lines[:cut]).encode("utf-8")
    real = pipeline.raw_fingerprint

    def replaced_after_hashing(*args, **kwargs):
        found = real(*args, **kwargs)
        (raw / F002).write_bytes(replacement)  # replaced between the hash and the parse
        return found

    monkeypatch.setattr(pipeline, "raw_fingerprint", replaced_after_hashing)
    summary = pipeline.run(raw, out)
    monkeypatch.undo()
    sha_new, sha_old = hashlib.sha256(replacement).hexdigest(), hashlib.sha256(original).hexdigest()
    assert summary["forms"] == 7 + 2
    assert summary["raw_files"][F002] == sha_new  # the bytes parsed, not the ones hashed first
    files = tables.read_table(out / "files.parquet").set_index("source_file")
    assert files.loc[F002, "sha256"] == sha_new
    issues = tables.read_table(out / "parse_issues.parquet")
    assert any(m.startswith(f"{F002} changed during the run") for m in issues.message)
    code = cache.code_fingerprint()
    sources = pipeline.read_sources(raw)
    assert not (out / ".cache" / f"{cache.cache_key(sha_old, code, sources[F002])}.pkl").exists()
    assert (out / ".cache" / f"{cache.cache_key(sha_new, code, sources[F002])}.pkl").exists()
    (raw / F002).write_bytes(original)  # restored: the next run sees it and reads all 15 forms again
    again = pipeline.run(raw, out)
    assert again["reused"] is False and again["forms"] == 7 + 15


# --- 5. --no-cache, sources.csv in the fingerprint, damaged outputs -------------------------------


def test_no_cache_rebuilds_and_sources_csv_is_part_of_the_fingerprint(tmp_path):
    raw, out = _raw(tmp_path / "raw", names=(F002,)), tmp_path / "out"
    pipeline.run(raw, out)
    assert pipeline.run(raw, out)["reused"] is True
    assert pipeline.run(raw, out, use_cache=False)["reused"] is False
    text = (raw / "sources.csv").read_text(encoding="utf-8")
    (raw / "sources.csv").write_text(text.replace(",2024,PDF export", ",2023,PDF export"), encoding="utf-8")
    assert pipeline.run(raw, out)["reused"] is False


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
@pytest.mark.parametrize("table", ["projects.arrow", "indicators.parquet"])
def test_a_damaged_table_is_rebuilt_not_reused(tmp_path, damage, table):
    raw, out = _raw(tmp_path / "raw", names=(F002,)), tmp_path / "out"
    pipeline.run(raw, out)
    good = (out / table).read_bytes()
    path = out / table
    path.write_bytes(good[: len(good) // 2] if damage == "truncate" else os.urandom(len(good)))
    assert pipeline.current(raw, out) is None  # run.json's sizes and times, and the end marks, disagree
    tables_now = etl.load(out, raw)  # the check on reuse finds it: rebuilt
    assert len(tables_now["projects"]) == 15 and len(tables_now["indicators"]) == 203
    assert (out / table).read_bytes() == good


def test_load_names_the_damaged_file(tmp_path):
    raw, out = _raw(tmp_path / "raw", names=(F002,)), tmp_path / "out"
    pipeline.run(raw, out)
    (out / "funds.arrow").write_bytes(b"garbage")
    with pytest.raises(tables.TableError) as caught:
        etl.load(out, raw, rebuild=False)
    assert str(out / "funds.arrow") in str(caught.value) and "etl.py" in str(caught.value)


def test_load_reads_current_tables_in_a_read_only_folder(tmp_path, monkeypatch):
    raw, out = _raw(tmp_path / "raw", names=(F002,)), tmp_path / "out"
    pipeline.run(raw, out)
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):  # as a read-only mount (tests run as root: chmod is ignored)
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and Path(os.fsdecode(path)).resolve().is_relative_to(out):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    loaded = etl.load(out, raw)
    assert len(loaded["projects"]) == 15 and set(loaded["projects"].district) == {"丰台区"}


# --- 7. one-line errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, expected",
    [
        ("gbk", "sources.csv is not UTF-8 (saved as GBK/ANSI by Excel?)"),
        ("renamed", "no file_name column (header: 文件名,"),
        ("year", "sources.csv line 3: year '2024年' is not a year (four digits, e.g. 2024)"),
    ],
)
def test_a_bad_sources_csv_is_one_line_and_exit_2(tmp_path, capsys, case, expected):
    raw, out = _raw(tmp_path / "raw"), tmp_path / "out"
    text = (RAW / "sources.csv").read_text(encoding="utf-8")
    if case == "gbk":
        (raw / "sources.csv").write_bytes(text.encode("gbk"))
    elif case == "renamed":
        (raw / "sources.csv").write_text(text.replace("file_name,", "文件名,", 1), encoding="utf-8")
    else:
        (raw / "sources.csv").write_text(text.replace(",2024,", ",2024年,"), encoding="utf-8")
    assert etl.main(["--raw", str(raw), "--out", str(out), "--jobs", "1"]) == 2
    assert expected in _one_line_error(capsys.readouterr().err)
    assert not (out / "projects.parquet").exists()


def test_jobs_0_is_one_line_and_exit_2(tmp_path, capsys):
    assert etl.main(["--raw", str(RAW), "--out", str(tmp_path / "out"), "--jobs", "0"]) == 2
    assert _one_line_error(capsys.readouterr().err) == "error: --jobs must be at least 1 (got 0)"


def test_a_raw_file_moved_away_mid_run_is_one_line_and_exit_1(tmp_path, capsys, monkeypatch):
    raw, out = _raw(tmp_path / "raw"), tmp_path / "out"
    real = pipeline.raw_fingerprint

    def moved_after_listing(*args, **kwargs):
        found = real(*args, **kwargs)
        (raw / F002).rename(tmp_path / F002)  # moved away between the listing and the read
        return found

    monkeypatch.setattr(pipeline, "raw_fingerprint", moved_after_listing)
    assert etl.main(["--raw", str(raw), "--out", str(out), "--jobs", "1"]) == 1
    captured = capsys.readouterr()
    line = _one_line_error(captured.err)
    assert line.startswith(f"error: {F002}: {F002}: cannot be read (No such file or directory)")
    assert "7 files" not in captured.out and "55 forms loaded" in captured.out
    files = tables.read_table(out / "files.parquet").set_index("source_file")
    assert files.loc[F002, "status"] == "failed" and "moved or deleted" in files.loc[F002, "reason"]


def test_an_empty_or_unreadable_raw_folder_keeps_the_previous_tables(tmp_path, capsys):
    out = tmp_path / "out"
    pipeline.run(_raw(tmp_path / "raw", names=(F002,)), out)
    before = _snapshot(out)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert etl.main(["--raw", str(empty), "--out", str(out), "--jobs", "1"]) == 2
    assert _one_line_error(capsys.readouterr().err).startswith(f"error: no forms in {empty}; previous tables kept")
    unreadable = tmp_path / "unreadable"
    unreadable.mkdir()
    (unreadable / "a.txt").write_bytes(b"")
    (unreadable / "b.txt").write_bytes(bytes(range(256)) * 8)
    assert etl.main(["--raw", str(unreadable), "--out", str(out), "--jobs", "1"]) == 2
    assert "no forms in" in _one_line_error(capsys.readouterr().err)
    assert _snapshot(out) == before


# --- 8. the parse cache is best-effort ------------------------------------------------------------


@pytest.mark.parametrize("entry", [b"", b"\x80\x05garbage", b"x" * 100])
def test_a_bad_cache_entry_is_ignored_and_replaced(tmp_path, monkeypatch, entry):
    raw, out = _raw(tmp_path / "raw", names=(F002,)), tmp_path / "out"
    pipeline.run(raw, out)
    [cached] = list((out / ".cache").glob("*.pkl"))
    cached.write_bytes(entry)  # what a crash after an unsynced rename, or a bad disk, leaves
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    (raw / "sources.csv").write_text((raw / "sources.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    summary = pipeline.run(raw, out)  # sources.csv changed: a new run, which reads the cache
    assert summary["reused"] is False and summary["forms"] == 15
    assert synced  # the new entry was flushed to disk before its rename
    [replaced] = list((out / ".cache").glob("*.pkl"))
    assert replaced.name == cached.name and cache._verified(replaced) is not None
    assert len(list(cache._cached_parts(replaced, cache._verified(replaced)))) == 1


# --- 10. control characters in the CSV ------------------------------------------------------------


def test_c1_controls_and_bidi_overrides_are_dropped_from_the_csv(tmp_path):
    assert tables.neutralise_for_csv("a\x85b\x9bc\u202ed\u2066e\u2069f") == "abcdef"
    assert tables.neutralise_for_csv("≥90%\u2030") == "≥90%\u2030"  # ≥ and ‰ (E2 lead bytes) stay
    lines = _lines_002()
    assert lines[44].startswith("项目名称\t2024年-城指中心搬迁信息化建设")
    lines[44] = lines[44].replace("搬迁", "搬\u202e迁\x85")
    raw, out = _write_002(tmp_path / "raw", lines), tmp_path / "out"
    pipeline.run(raw, out)
    csv_text = (out / "projects.csv").read_text(encoding="utf-8-sig")
    assert "2024年-城指中心搬迁信息化建设" in csv_text and "\u202e" not in csv_text and "\x85" not in csv_text
    parquet = pd.read_parquet(out / "projects.parquet").set_index("form_id")
    assert parquet.loc["002_fd002be877c499a2#002", "project_name"] == "2024年-城指中心搬\u202e迁\x85信息化建设"


# --- duplicates in other bytes, GBK lines ---------------------------------------------------------


def test_the_same_forms_in_other_bytes_load_once(tmp_path):
    raw = _raw(tmp_path / "raw", names=(F000, F002))
    (raw / "zz_crlf.txt").write_bytes((RAW / F002).read_bytes().replace(b"\n", b"\r\n"))
    (raw / "zz_gb18030.txt").write_bytes((RAW / F002).read_text(encoding="utf-8").encode("gb18030"))
    frames = pipeline.collect(raw)
    files = frames["files"].set_index("source_file")
    for copy in ("zz_crlf.txt", "zz_gb18030.txt"):
        assert (files.loc[copy, "status"], files.loc[copy, "duplicate_of"]) == ("duplicate", F002)
        assert (files.loc[copy, "forms_loaded"], files.loc[copy, "forms_rejected"]) == (0, 15)
    assert len(frames["projects"]) == 22 and set(frames["projects"].source_file) == {F000, F002}
    assert len(frames["indicators"]) == len(pipeline.collect(_raw(tmp_path / "two", names=(F000, F002)))["indicators"])
    said = frames["parse_issues"][frames["parse_issues"].source_file == "zz_crlf.txt"].message.tolist()
    assert any(m.startswith(f"same content (decoded text) as {F002}; loaded once") for m in said)


def test_a_gbk_line_inside_a_utf8_file_is_read_with_a_warning(tmp_path):
    data = (RAW / F002).read_bytes().split(b"\n")
    assert data[44].decode("utf-8").startswith("项目名称\t2024年-城指中心搬迁信息化建设")
    data[44] = data[44].decode("utf-8").encode("gbk")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / F002).write_bytes(b"\n".join(data))
    frames = pipeline.collect(raw)
    assert len(frames["projects"]) == 15
    assert (
        frames["projects"].set_index("form_id").loc["002_fd002be877c499a2#002", "project_name"]
        == "2024年-城指中心搬迁信息化建设"
    )
    assert (
        f"{F002}: line(s) 45 not valid UTF-8 but GB18030 (a line pasted from another file?); decoded as GB18030"
        in _messages(frames, "warning")
    )


# --- 11. a large file is parsed in parts ----------------------------------------------------------


def test_a_file_is_parsed_in_parts_with_the_same_rows(tmp_path):
    data = (RAW / F003).read_bytes()
    parts = list(per_file.parse_parts(F003, data, None, forms_per_part=10))
    assert [len(p.projects) for p in parts] == [10, 10, 10, 10, 8]
    assert all(p.file_row is parts[0].file_row for p in parts) and parts[0].file_row["forms_loaded"] == 48
    whole = per_file.parse_file(F003, data, None)
    assert [row for p in parts for row in p.indicators] == whole.indicators


# --- 7, 12. SIGTERM, Ctrl-C and SIGKILL: one line, no process left behind -------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """200 synthetic forms in 8 files: enough for the pool of workers (--jobs 2) to start."""
    from bench import generate

    return generate.generate(200, 5, tmp_path_factory.mktemp("corpus"), forms_per_file=25)


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _gone(processes: list[psutil.Process], timeout: float = 10) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


def _start_and_wait_for_workers(raw: Path, out: Path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    process = subprocess.Popen(
        [*ETL, "--raw", str(raw), "--out", str(out), "--jobs", "2", "--no-cache"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.time() + 120
    children: list[psutil.Process] = []
    while process.poll() is None and time.time() < deadline:
        children = _descendants(process.pid)
        if len(children) >= 3 and list(out.glob(".staging-*")):  # forkserver (+ resource tracker) + workers
            break
        time.sleep(0.05)
    assert process.poll() is None, process.communicate()
    time.sleep(0.3)
    return process, _descendants(process.pid)


@pytest.mark.parametrize(
    "sig, code, said", [(signal.SIGTERM, 143, "stopped by SIGTERM"), (signal.SIGINT, 130, "interrupted (Ctrl-C)")]
)
def test_sigterm_and_ctrl_c_stop_cleanly_with_one_line(corpus, tmp_path, sig, code, said):
    out = tmp_path / "out"
    pipeline.run(_raw(tmp_path / "seed", names=(F002,)), out)
    before = _snapshot(out)
    process, children = _start_and_wait_for_workers(corpus, out)
    if sig == signal.SIGINT:
        os.killpg(process.pid, sig)  # as Ctrl-C in a terminal: to the whole process group, workers included
    else:
        process.send_signal(sig)  # as `kill PID`: to the ETL only
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert said in _one_line_error(stderr)
    assert _gone(children) == []
    assert _snapshot(out) == before and not list(out.glob(".staging-*"))


def test_killing_the_etl_leaves_no_worker_behind(corpus, tmp_path):
    out = tmp_path / "out"
    process, children = _start_and_wait_for_workers(corpus, out)
    assert len(children) >= 3
    process.kill()
    process.wait(timeout=30)
    assert _gone(children) == []


# --- fault injection: the ETL killed at random points ---------------------------------------------


@pytest.fixture(scope="module")
def full_run(corpus, tmp_path_factory) -> float:
    """How long an uninterrupted run of the corpus takes here (the range the kills are drawn from)."""
    started = time.time()
    done = _etl(corpus, tmp_path_factory.mktemp("timing") / "out", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    return time.time() - started


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_at_a_random_point_the_outputs_are_old_or_new_and_complete(corpus, full_run, tmp_path, seed):
    import random

    out = tmp_path / "out"
    pipeline.run(_raw(tmp_path / "seed", names=(F002,)), out)
    before = _snapshot(out)
    at = random.Random(seed).uniform(0.2, full_run)
    process = subprocess.Popen(
        [*ETL, "--raw", str(corpus), "--out", str(out), "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline, children = time.time() + at, []
    while time.time() < deadline and process.poll() is None:
        children = _descendants(process.pid) or children
        time.sleep(0.02)
    process.kill()
    process.wait(timeout=30)
    assert _gone(children) == [], f"left behind after a kill at {at:.2f} s"
    after = _snapshot(out)
    manifest = pipeline.read_manifest(out)
    if after["run.json"] != before["run.json"]:  # the kill came after the final move: the new set, complete
        assert manifest["forms"] == 200 and tables.outputs_intact(out, manifest["outputs"]), at
        assert len(tables.read_table(out / "projects.parquet")) == 200
    elif after != before:  # killed during the final move: run.json names the old run, whose files no longer match
        assert not tables.outputs_intact(out, manifest["outputs"]), at
    else:
        assert len(tables.read_table(out / "projects.parquet")) == 15
    again = _etl(corpus, out, "--jobs", "2")
    assert again.returncode == 0, again.stderr
    assert "200 forms loaded" in again.stdout and not list(out.glob(".staging-*"))
    assert len(tables.read_table(out / "projects.parquet")) == 200
