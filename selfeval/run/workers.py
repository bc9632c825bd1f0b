"""Re-scoring, typing and validating batches of parsed files: what the worker processes run."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from selfeval.run.cache import file_parts
from selfeval.run.per_file import FORMS_PER_PART, FileResult
from selfeval.schema import fields as schema
from selfeval.schema.fields import FORM_TABLES
from selfeval.schema.issues import Issue

# Checks whose failure means the totals printed on the form do not add up: reported
# in parse_issues too, where a reader of the parse looks first.
CROSS_TOTALS = ("fund_lines_total_mismatch", "weights_total_mismatch", "score_total_mismatch")
# Files re-scored together in one worker task (pandas' per-call costs are paid per batch).
BATCH_FILES = 64
# The parser and the scoring allocate millions of small dicts and lists, none of them in
# reference cycles (reference counting frees them). At Python's default threshold (700)
# the cycle collector ran every few rows over a growing heap: 15% of the parse time.
GC_THRESHOLDS = (50_000, 50, 100)
# How often a worker checks that the ETL process is still there.
WATCH_SECONDS = 0.5


@dataclass
class BatchTables:
    """Several files' part of every form table, re-scored, typed and validated: what a
    worker sends back (Arrow tables: compact to send, and written as they are)."""

    file_rows: list[dict]
    tables: dict[str, pa.Table]
    issues: list[Issue]
    # decoded-text sha256 of every file with rows here (known before its first rows: copies are
    # found before their rows are written); None for a file that could not be decoded
    texts: dict[str, str | None] = field(default_factory=dict)


def batch_tables(results: list[FileResult]) -> BatchTables:
    """Re-score, type and validate the forms of several files at once (scoring, checks and
    the schema's checks are per form or per row, and a form's rows never span files, so
    any grouping of files gives the same rows; a batch pays pandera's per-call costs once
    for many forms) and add the cross-total failures to the issues. Runs in a worker, so
    both cores share everything but the writing."""
    from selfeval.score.checks import derive

    derived = derive(
        {part: [row for r in results for row in getattr(r, part)] for part in ("projects", "funds", "indicators")}
    )
    tables = {name: validated_arrow(name, derived[name]) for name in FORM_TABLES}
    issues = [issue for r in results for issue in r.issues]
    source = {p["form_id"]: p["source_file"] for p in derived["projects"]}
    for check in derived["checks"]:
        if check["check"] in CROSS_TOTALS:
            issues.append(
                Issue(
                    source[check["form_id"]],
                    check["form_id"],
                    check["line"],
                    "total",
                    None,
                    f"totals do not add up ({check['check']}): {check['message']}",
                    "warning",
                )
            )
    return BatchTables([r.file_row for r in results], tables, issues)


def validated_arrow(name: str, rows: list[dict]) -> pa.Table:
    """One table's rows -> an Arrow table with the declared schema, validated (pandera)."""
    table = schema.rows_to_arrow(name, rows)
    if name == "funds":  # printed as a percentage; a fraction in the table (divided in Arrow: no row copies)
        at = table.schema.get_field_index("execution_rate")
        table = table.set_column(at, table.schema.field(at), pc.divide(table.column(at), 100.0))
    schema.validate(name, schema.to_pandas(table))
    return table


def iter_batch(batch: list[tuple]) -> Iterator[BatchTables]:
    """A batch of files -> their tables, FORMS_PER_PART forms at a time: re-scored across small
    files (pandera's per-call costs paid once for many forms) and within a large one (a file
    of 100,000 forms is never held as Python rows, and in one process never as one table:
    each piece is written before the next is parsed). A piece's file_rows are the files
    finished in it."""
    pending: list[FileResult] = []
    finished: list[dict] = []
    forms = 0

    def flush() -> BatchTables:
        done = (
            batch_tables(pending)
            if pending
            else BatchTables([], {name: validated_arrow(name, []) for name in FORM_TABLES}, [])
        )
        texts = {part.file_row["source_file"]: part.file_row.get("text_sha256") for part in pending}
        piece = BatchTables(list(finished), done.tables, done.issues, texts)
        pending.clear()
        finished.clear()
        return piece

    for args in batch:
        last = None
        for part in file_parts(args):
            pending.append(part)
            forms += len(part.projects)
            last = part
            if forms >= FORMS_PER_PART:
                yield flush()
                forms = 0
        if last is not None:
            finished.append(last.file_row)
    yield flush()


def parse_batch(batch: list[tuple]) -> BatchTables:
    """A batch of files -> their tables in one piece: what a worker process sends back."""
    pieces = list(iter_batch(batch))
    return BatchTables(
        [row for piece in pieces for row in piece.file_rows],
        {name: pa.concat_tables([piece.tables[name] for piece in pieces]) for name in FORM_TABLES},
        [issue for piece in pieces for issue in piece.issues],
        {name: text for piece in pieces for name, text in piece.texts.items()},
    )


# --- worker processes: they end with the ETL --------------------------------------------------------


def start_worker(main_pid: int) -> None:
    """Initializer of every worker process. A worker is a child of the forkserver, blocked on a
    pipe it holds both ends of: when the ETL was killed (SIGKILL, a lost terminal) it used to wait
    there forever (the issue saw two workers, the forkserver and the resource tracker, 700 MB,
    left behind). Now a watchdog thread ends the worker as soon as the ETL process is gone, and
    Ctrl-C is left to the ETL (which stops the pool) instead of printing a traceback per worker."""
    gc.set_threshold(*GC_THRESHOLDS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    threading.Thread(target=_watch, args=(main_pid, os.getppid()), daemon=True, name="selfeval-watchdog").start()


def _watch(main_pid: int, parent: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        if os.getppid() != parent or not _alive(main_pid):
            os._exit(1)  # nothing to save: the ETL that would have used the result is gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent (the forkserver) dies (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@contextmanager
def gc_thresholds(thresholds: tuple[int, int, int]):
    """GC_THRESHOLDS while parsing in this process, the caller's settings restored after."""
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
