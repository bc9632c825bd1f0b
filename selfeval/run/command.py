"""`selfeval etl` (and `python etl.py`): every 项目支出绩效自评表 in data/raw/ -> tidy tables in data/processed/.

Exit status: 0 when every form was read; 1 when a form or file could not be read
(the other forms are still written; see parse_issues); 2 when nothing was written
(locked, read-only or full output folder, a bad sources.csv, no forms in the raw
folder, a bad option); 130 on Ctrl-C and 143 on SIGTERM (nothing written, the
workers stopped); with --strict, 1 on any warning. Every error is one line.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

import pandas as pd

from selfeval.paths import PROCESSED_DIR, RAW_DIR
from selfeval.run import pipeline
from selfeval.store import outputs


class Stopped(BaseException):
    """SIGTERM: raised where the run is, so that the workers, the staging folder and the lock
    are cleaned up on the way out (a BaseException, as KeyboardInterrupt: no handler of
    ordinary errors swallows it)."""


def _stop(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop: a second TERM must not interrupt the clean-up
    raise Stopped()


def build(
    raw_dir: Path = RAW_DIR,
    out_dir: Path = PROCESSED_DIR,
    jobs: int = 1,
    progress: bool = False,
    use_cache: bool = True,
) -> dict:
    """Rebuild the tables (reusing them when nothing changed) and return the run summary."""
    return pipeline.run(Path(raw_dir), Path(out_dir), jobs=jobs, progress=progress, use_cache=use_cache)


def load(processed_dir: Path = PROCESSED_DIR, raw_dir: Path = RAW_DIR, rebuild: bool = True) -> dict[str, pd.DataFrame]:
    """The tables as DataFrames: projects, funds, indicators, files, parse_issues (and checks).

    With rebuild=True (the default) the ETL runs first when the raw files or the
    parser changed since the tables were written; otherwise they are read as they are.
    """
    processed_dir, raw_dir = Path(processed_dir), Path(raw_dir)
    # Checked without the lock first: current tables in a read-only folder are read, not refused.
    if rebuild and raw_dir.exists() and not pipeline.current(raw_dir, processed_dir):
        build(raw_dir, processed_dir)
    return outputs.read_tables(processed_dir)


def print_summary(summary: dict) -> None:
    issues = summary["issues"]
    state = "unchanged, previous tables reused" if summary.get("reused") else "tables written"
    skipped = (
        f" ({summary['skipped_entries']} other entries skipped; see files)" if summary.get("skipped_entries") else ""
    )
    print(
        f"{summary['files']} files{skipped}, {summary['forms']} forms loaded, {summary['forms_rejected']} rejected, "
        f"{summary['funds']} fund lines, {summary['indicators']} indicators; issues: "
        f"{issues['error']} error, {issues['warning']} warning, {issues['repaired']} repaired "
        f"({state}, {summary['seconds']} s, {summary.get('parser', 'python')} parser)"
    )


def arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--raw", type=Path, default=RAW_DIR, help="folder of raw files (default data/raw)")
    parser.add_argument("--out", type=Path, default=PROCESSED_DIR, help="output folder (default data/processed)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="parallel parser processes")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any warning, not only on errors")
    parser.add_argument("--no-cache", action="store_true", help="re-parse every file and rebuild the tables")
    return parser


def _stopped(code: int, hard_exit: bool) -> int:
    """The exit of a stopped run, once its clean-up is done. As a program (*hard_exit*) the
    process ends here: a worker killed while it wrote a batch leaves half a message in the
    pool's result pipe, and the pool's manager thread, blocked reading the rest, would hold the
    interpreter's exit for ever (seen under load: the ETL alive, orphaned, after its SIGTERM)."""
    if hard_exit:
        import multiprocessing.util

        # what a normal exit does first, bar the join of that thread: unlink the pool's
        # semaphores (else the resource tracker reports them leaked, a second stderr line)
        multiprocessing.util._run_finalizers(0)  # type: ignore[attr-defined]  # private, not in typeshed
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def main(argv: list[str] | None = None, prog: str | None = None, hard_exit: bool = False) -> int:
    parser = arguments(argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0].split(": ", 1)[-1]))
    args = parser.parse_args(argv)
    if not args.raw.is_dir():
        print(f"error: raw folder {args.raw} does not exist", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"error: --jobs must be at least 1 (got {args.jobs})", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _stop) if threading.current_thread() is threading.main_thread() else None
    try:
        summary = build(args.raw, args.out, jobs=args.jobs, progress=sys.stderr.isatty(), use_cache=not args.no_cache)
    except pipeline.EtlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Stopped:
        print(f"error: stopped by SIGTERM; the previous outputs in {args.out} were left as they were", file=sys.stderr)
        return _stopped(128 + signal.SIGTERM, hard_exit)
    except KeyboardInterrupt:
        print(
            f"error: interrupted (Ctrl-C); the previous outputs in {args.out} were left as they were", file=sys.stderr
        )
        return _stopped(128 + signal.SIGINT, hard_exit)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print_summary(summary)
    if summary["issues"]["error"]:
        # From the memory-mapped Arrow copy, not the Parquet file: pd.read_parquet starts
        # Arrow's I/O threads, and one still alive at interpreter exit can abort the process
        # ("terminate called without an active exception", exit -6 instead of 1; seen in a
        # fresh-clone test run under load; apache/arrow#34314).
        issues = outputs.read_table(args.out / "parse_issues.parquet")
        for row in issues[issues["severity"] == "error"].itertuples():
            where = f"{row.source_file}:{row.line}" if pd.notna(row.line) else row.source_file
            form = f" [{row.form_id}]" if pd.notna(row.form_id) else ""
            print(f"error: {where}{form}: {row.message}", file=sys.stderr)
        return 1
    if args.strict and summary["issues"]["warning"]:
        print(f"error: --strict and {summary['issues']['warning']} warning(s); see parse_issues", file=sys.stderr)
        return 1
    return 0
