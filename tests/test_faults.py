"""Faults: a run killed mid-write, two runs at once, an output folder that cannot be
written (read-only, not a folder, full), and the same raw file present twice.

The kill and the concurrent runs are real `python etl.py` processes on a synthetic
corpus large enough (bench/generate.py) that writing takes a visible moment.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from filelock import FileLock

import etl
from bench import generate
from selfeval.paths import ROOT
from selfeval.run import pipeline
from selfeval.store import outputs as tables

ETL = [sys.executable, str(ROOT / "etl.py")]
SEED_RAW = etl.RAW_DIR


def _seed_copy(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in SEED_RAW.iterdir():
        shutil.copy(path, folder / path.name)
    return folder


def _snapshot(out: Path) -> dict[str, bytes]:
    """The published outputs: every regular file at the top of the output folder."""
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def _etl(raw: Path, out: Path, *extra: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ETL, "--raw", str(raw), "--out", str(out), "--jobs", "1", *extra],
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs,
    )


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture(scope="module")
def big_raw(tmp_path_factory) -> Path:
    """1,200 synthetic forms (24 files): parsing takes seconds, writing about one."""
    return generate.generate(1200, 17, tmp_path_factory.mktemp("big"))


@pytest.fixture
def previous(tmp_path) -> tuple[Path, dict[str, bytes]]:
    """An output folder holding a complete earlier run of the seed files, and its bytes."""
    out = tmp_path / "out"
    assert _etl(_seed_copy(tmp_path / "seed_raw"), out).returncode == 0
    return out, _snapshot(out)


# --- killed mid-write ----------------------------------------------------------------------------


def test_run_killed_mid_write_keeps_previous_outputs_and_next_run_completes(big_raw, previous):
    out, before = previous
    process = subprocess.Popen(
        [*ETL, "--raw", str(big_raw), "--out", str(out), "--jobs", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 300
    staging: list[Path] = []
    while not staging and process.poll() is None and time.time() < deadline:
        staging = list(out.glob(".staging-*"))
        time.sleep(0.005)
    assert staging, f"the run ended before writing began: {process.poll()} {process.stderr.read()!r}"
    process.send_signal(signal.SIGKILL)  # no finally, no atexit: as if the machine lost power
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert list(out.glob(".staging-*")), "the killed run should have left its staging folder"
    assert _snapshot(out) == before  # every table, CSV and the manifest byte for byte
    assert len(pd.read_parquet(out / "projects.parquet")) == 70

    again = _etl(big_raw, out)
    assert again.returncode == 0, again.stderr
    assert "1200 forms loaded" in again.stdout
    assert not list(out.glob(".staging-*"))  # the stale staging folder was removed
    assert len(pd.read_parquet(out / "projects.parquet")) == 1200
    assert pipeline.read_manifest(out)["forms"] == 1200


def test_stale_staging_is_removed_even_when_nothing_changed(previous):
    out, before = previous
    stale = out / ".staging-killed"
    (stale / "deep").mkdir(parents=True)
    (stale / "deep" / "projects.parquet").write_bytes(b"half")
    summary = pipeline.run(SEED_RAW, out)
    assert summary["reused"] is True and not stale.exists()
    assert _snapshot(out) == before


# --- two runs at once ----------------------------------------------------------------------------


def test_second_run_at_once_exits_2_naming_the_lock(big_raw, tmp_path):
    out = tmp_path / "out"
    lock = out / ".etl.lock"
    first = subprocess.Popen(
        [*ETL, "--raw", str(big_raw), "--out", str(out), "--jobs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not lock.exists() and time.time() < deadline:  # the first run holds the lock from its start
        time.sleep(0.01)
    second = _etl(big_raw, out)  # refused only while the first run holds the lock
    assert second.returncode == 2
    message = _one_line_error(second.stderr)
    assert "another ETL run is writing" in message and str(lock) in message
    stdout, stderr = first.communicate(timeout=600)
    assert first.returncode == 0, stderr
    assert len(pd.read_parquet(out / "projects.parquet")) == 1200  # the first run was not disturbed
    assert _etl(big_raw, out).returncode == 0  # and the lock is free again


def test_lock_held_by_another_process_is_reported(previous):
    out, before = previous
    with FileLock(str(out / ".etl.lock"), timeout=0):
        result = _etl(SEED_RAW, out, "--no-cache")
    assert result.returncode == 2
    assert ".etl.lock" in _one_line_error(result.stderr)
    assert _snapshot(out) == before


# --- output folder cannot be written -------------------------------------------------------------


def test_output_path_under_a_regular_file(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the output folder's parent should be")
    result = _etl(SEED_RAW, blocker / "out")
    assert result.returncode == 2
    message = _one_line_error(result.stderr)
    assert "cannot write to output folder" in message and "Not a directory" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permission bits; see the simulated test below")
def test_read_only_output_folder_chmod(previous):
    out, before = previous
    out.chmod(0o555)
    try:
        result = _etl(SEED_RAW, out, "--no-cache")
    finally:
        out.chmod(0o755)
    assert result.returncode == 2
    assert "cannot write" in _one_line_error(result.stderr)
    assert _snapshot(out) == before


def _refuse_writes_under(monkeypatch, folder: Path, code: int) -> None:
    """Make every create/write-open and mkdir under folder fail with errno code, as a
    read-only mount (EROFS) or a full disk would. Tests here run as root, for whom
    chmod 555 does not stop writes, and mounting a read-only file system needs
    privileges a test should not use; so the refusal is simulated at the os level,
    which is where both the lock (os.open) and the staging folder (os.mkdir) go."""
    real_open, real_mkdir = os.open, os.mkdir
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT

    def inside(path) -> bool:
        return Path(os.fsdecode(path)).resolve().is_relative_to(folder.resolve())

    def refusing_open(path, flags, *args, **kwargs):
        if flags & writing and inside(path):
            raise OSError(code, os.strerror(code), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    def refusing_mkdir(path, *args, **kwargs):
        if inside(path):
            raise OSError(code, os.strerror(code), os.fsdecode(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    monkeypatch.setattr(os, "mkdir", refusing_mkdir)


def test_read_only_output_folder_simulated(previous, monkeypatch, capsys):
    out, before = previous
    _refuse_writes_under(monkeypatch, out, errno.EROFS)
    status = etl.main(["--raw", str(SEED_RAW), "--out", str(out), "--no-cache", "--jobs", "1"])
    captured = capsys.readouterr()
    assert status == 2
    message = _one_line_error(captured.err)
    assert f"cannot write to output folder {out}: Read-only file system" in message
    monkeypatch.undo()
    assert _snapshot(out) == before


def test_full_disk_while_writing_tables(previous, tmp_path, monkeypatch, capsys):
    out, before = previous
    raw = _seed_copy(tmp_path / "raw2")
    (raw / "003_d45a1a0ca283005b.txt").unlink()  # a different corpus, so the run must write
    real = tables.StagedOutputs.append
    calls = {"n": 0}

    def full_on_third(self, *args, **kwargs):  # the third batch of rows: two are staged by then
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(tables.StagedOutputs, "append", full_on_third)
    status = etl.main(["--raw", str(raw), "--out", str(out), "--jobs", "1"])
    captured = capsys.readouterr()
    assert status == 2
    message = _one_line_error(captured.err)
    assert "No space left on device" in message and "previous outputs were left as they were" in message
    monkeypatch.undo()
    assert _snapshot(out) == before
    assert not list(out.glob(".staging-*"))
    assert _etl(raw, out).returncode == 0  # space again: the next run completes
    assert len(pd.read_parquet(out / "projects.parquet")) == 22


def test_full_disk_for_the_cache_too(previous, tmp_path, monkeypatch, capsys):
    """ENOSPC on every write under the output folder, cache included: one clear line."""
    out, before = previous
    raw = _seed_copy(tmp_path / "raw2")
    (raw / "002_fd002be877c499a2.txt").unlink()
    with open(raw / "003_d45a1a0ca283005b.txt", "a", encoding="utf-8") as handle:
        handle.write("\n")  # new bytes, not in the cache: the run tries to cache them
    _refuse_writes_under(monkeypatch, out / ".cache", errno.ENOSPC)
    real_mkdtemp = tables.tempfile.mkdtemp

    def full_mkdtemp(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tables.tempfile, "mkdtemp", full_mkdtemp)
    status = etl.main(["--raw", str(raw), "--out", str(out), "--jobs", "1"])
    captured = capsys.readouterr()
    monkeypatch.setattr(tables.tempfile, "mkdtemp", real_mkdtemp)
    assert status == 2
    assert "No space left on device" in _one_line_error(captured.err)
    monkeypatch.undo()
    assert _snapshot(out) == before


def _limit_file_size():  # runs in the child before exec
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, not a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


def test_real_write_failure_in_a_subprocess(previous, tmp_path):
    """A real failing write, not a monkeypatch: the child may not write a file over 20 kB
    (RLIMIT_FSIZE), so writing the tables fails with EFBIG half-way through."""
    out, before = previous
    raw = _seed_copy(tmp_path / "raw2")
    (raw / "000_cbaa33e73a3cfdfd.txt").unlink()
    result = _etl(raw, out, preexec_fn=_limit_file_size)
    assert result.returncode == 2
    message = _one_line_error(result.stderr)
    assert "cannot write outputs to" in message and "File too large" in message
    assert _snapshot(out) == before
    assert not list(out.glob(".staging-*"))


# --- the same file twice -------------------------------------------------------------------------


def test_same_file_twice_is_loaded_once_and_reported(tmp_path):
    raw = _seed_copy(tmp_path / "raw")
    shutil.copy(raw / "002_fd002be877c499a2.txt", raw / "zz_copy_of_002.txt")
    out = tmp_path / "out"
    result = _etl(raw, out)
    assert result.returncode == 0, result.stderr  # a duplicate is a warning, not an error
    assert "70 forms loaded, 15 rejected" in result.stdout
    files = pd.read_parquet(out / "files.parquet").set_index("source_file")
    copy = files.loc["zz_copy_of_002.txt"]
    assert (copy.status, copy.duplicate_of) == ("duplicate", "002_fd002be877c499a2.txt")
    assert (copy.titles_seen, copy.forms_loaded, copy.forms_rejected) == (15, 0, 15)
    assert (files.titles_seen == files.forms_loaded + files.forms_rejected).all()
    projects = pd.read_parquet(out / "projects.parquet")
    assert len(projects) == files.forms_loaded.sum() == 70
    assert not projects.source_file.eq("zz_copy_of_002.txt").any()
    issues = pd.read_parquet(out / "parse_issues.parquet")
    said = issues[issues.source_file == "zz_copy_of_002.txt"].message.tolist()
    assert any("same content (decoded text) as 002_fd002be877c499a2.txt; loaded once" in m for m in said)
    summary = pipeline.read_manifest(out)
    assert summary["forms"] + summary["forms_rejected"] == int(files.titles_seen.sum())
