"""The ETL run: raw files -> parsed forms -> validated tables in data/processed/ (orchestration only).

Each raw file is parsed on its own (per_file), in worker batches (workers) with --jobs, and
its parse is cached under its sha256 (cache), so a run on an unchanged corpus re-reads
nothing and one changed file re-parses only that file. The tables are streamed to a
staging folder and moved into place together (store.outputs), under a lock (lock).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from itertools import chain
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from selfeval import compiled
from selfeval.extract.read import form_key
from selfeval.run import same_forms
from selfeval.run.cache import cache_key, code_fingerprint, prune_cache
from selfeval.run.lock import EtlError, acquire, output_errors
from selfeval.run.per_file import new_file_row, source_issues
from selfeval.run.raw_files import RawEntry, raw_entries, raw_fingerprint, raw_stats, read_sources, sources_sha256
from selfeval.run.workers import (
    GC_THRESHOLDS,
    BatchTables,
    gc_thresholds,
    iter_batch,
    parse_batch,
    start_worker,
    validated_arrow,
)
from selfeval.schema import fields as schema
from selfeval.schema.fields import FORM_TABLES, TABLE_NAMES
from selfeval.schema.issues import Issue, file_issue
from selfeval.store import outputs as tables
from selfeval.store.outputs import read_manifest

__all__ = ["EtlError", "collect", "current", "run"]

# Files re-scored together in one worker task (pandas' per-call costs are paid per batch).
BATCH_FILES = 64
# Below this many files, starting worker processes costs more than it saves.
MIN_FILES_FOR_POOL = 8


def parse_all(
    raw_dir: Path,
    fingerprint: dict[str, str],
    cache_dir: Path | None,
    jobs: int,
    progress: bool,
    append: Callable[[str, pa.Table], None],
    entries: list[RawEntry] | None = None,
) -> tuple[list[dict], list[Issue]]:
    """Parse and re-score every raw file, a batch of files at a time; `append(name, table)`
    receives each batch's form tables, in file order, as soon as the batch is done.
    Returns the files table's rows (every entry of the raw folder: read, duplicate or
    skipped) and every issue.

    A file whose decoded text (newlines folded) is that of an earlier one (a copy, a CRLF
    copy, a GB18030 re-export) is loaded once, under the first name; the copy is reported
    as a duplicate and its rows are not appended. A form read again from another file (the
    same report as .docx and .pdf) is kept and marked (same_forms.mark). A file whose bytes changed between the
    fingerprint and the parse is reported, and `fingerprint` is updated to the bytes parsed."""
    sources = read_sources(raw_dir)
    code = code_fingerprint()
    entries = raw_entries(raw_dir) if entries is None else entries
    readable = [entry for entry in entries if entry.skipped is None]
    stems: dict[str, str] = {}
    clashes: dict[str, str] = {}
    for entry in readable:  # form ids are "<form_key>#NNN": a.txt and a.TXT would share them
        stem = form_key(entry.name)
        if stem in stems:
            clashes[entry.name] = stems[stem]
        else:
            stems[stem] = entry.name
    work = [
        (
            entry.name,
            str(entry.path),
            sources.get(entry.name),
            str(cache_dir) if cache_dir else None,
            code,
            fingerprint.get(entry.name),
        )
        for entry in readable
        if entry.name not in clashes
    ]
    size = max(1, min(BATCH_FILES, -(-len(work) // (jobs * 4))))  # ceil: several batches per core
    batches = [work[i : i + size] for i in range(0, len(work), size)]
    file_rows: dict[str, dict] = {}
    issues: list[Issue] = []
    first_text: dict[str, str] = {}
    copy_of: dict[str, str | None] = {}  # per file read: the earlier file with the same text, or None
    signatures: dict[tuple, tuple[str, str]] = {}  # a form's parts -> its first reading (same_forms)

    def take(done: Iterable[BatchTables]) -> None:
        for batch in done:
            for name, text in batch.texts.items():
                if name not in copy_of:
                    first = first_text.setdefault(text, name) if text else name
                    copy_of[name] = first if first != name else None
            copies = sorted(name for name in batch.texts if copy_of[name])
            tables = batch.tables
            if copies:  # loaded once, under the first name: the copy's rows and issues are left out
                copy_ids = pc.is_in(tables["projects"].column("source_file"), pa.array(copies))
                ids = tables["projects"].filter(copy_ids).column("form_id")
                tables = {
                    name: table.filter(pc.invert(pc.is_in(table.column("form_id"), ids)))
                    for name, table in tables.items()
                }
            tables, found_again = same_forms.mark(tables, signatures)
            for name, table in tables.items():
                append(name, table)
            issues.extend(issue for issue in batch.issues if not copy_of.get(issue.source_file))
            issues.extend(found_again)
            for row in batch.file_rows:
                name = row["source_file"]
                row.pop("text_sha256", None)
                file_rows[name] = row
                original = copy_of.get(name)
                if original:
                    _mark_duplicate(row, original)
                    issues.append(
                        file_issue(
                            name,
                            f"same content (decoded text) as {original}; loaded once, its "
                            f"{row['titles_seen']} form(s) counted as rejected here",
                            "warning",
                        )
                    )
                    issues.extend(source_issues(name, row["sha256"], sources.get(name)))

    pool = None
    try:
        if jobs > 1 and len(work) >= MIN_FILES_FOR_POOL:
            # forkserver: workers start from a clean process instead of a fork of this one,
            # whose Arrow/BLAS threads a fork can leave half-alive (seen as an abort at exit).
            # The server imports what workers run (pandas, pyarrow, pandera...) once, before any
            # thread starts, and each worker is a fork of it: 1.3 s of imports saved per worker.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["selfeval.run.pipeline", "selfeval.score.checks"])
            pool = ProcessPoolExecutor(
                max_workers=jobs, mp_context=context, initializer=start_worker, initargs=(os.getpid(),)
            )
            take(_progress(pool.map(parse_batch, batches), len(batches), progress))
            pool.shutdown()
        else:
            # in this process, each piece of a batch is written before the next is parsed
            with gc_thresholds(GC_THRESHOLDS):
                take(chain.from_iterable(map(iter_batch, _progress(batches, len(batches), progress))))
    except BaseException:
        if pool is not None:  # stopped (SIGTERM, Ctrl-C, an error): the workers go now, not after their batch
            stop_pool(pool)
        raise
    rows = []
    for entry in entries:
        if entry.skipped is not None:
            row = new_file_row(entry.name, None)
            row.update(status="skipped", reason=entry.skipped)
            row.pop("text_sha256")
            rows.append(row)
            issues.append(file_issue(entry.name, f"{entry.name}: skipped: {entry.skipped}", "warning"))
        elif entry.name in clashes:
            row = new_file_row(entry.name, fingerprint.get(entry.name))
            reason = (
                f"same name as {clashes[entry.name]} but for the extension's case: the form ids would "
                "clash; rename one of them"
            )
            row.update(reason=reason)
            row.pop("text_sha256")
            rows.append(row)
            issues.append(file_issue(entry.name, f"{entry.name}: not read: {reason}", "error"))
        else:
            row = file_rows[entry.name]
            rows.append(row)
            known = fingerprint.get(entry.name)
            if row["sha256"] and known and row["sha256"] != known:
                issues.append(
                    file_issue(
                        entry.name,
                        f"{entry.name} changed during the run (sha256 {known[:12]} when listed, "
                        f"{row['sha256'][:12]} when read); the tables hold the bytes read; "
                        "run again once the file is final",
                        "warning",
                    )
                )
            if row["sha256"]:
                fingerprint[entry.name] = row["sha256"]  # the bytes parsed, not the ones listed
            else:
                fingerprint.pop(entry.name, None)
    if cache_dir:
        prune_cache(
            cache_dir,
            {cache_key(row["sha256"], code, sources.get(row["source_file"])) for row in rows if row["sha256"]},
        )
    return rows, issues


def _mark_duplicate(row: dict, first: str) -> None:
    # Its forms count as rejected here (loaded once, under the first file), so
    # titles_seen = forms_loaded + forms_rejected holds for every row and in total.
    row.update(
        forms_loaded=0,
        forms_rejected=row["titles_seen"],
        duplicate_of=first,
        status="duplicate",
        reason=f"same forms as {first} (same decoded text)",
    )


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """End the workers at once (Python 3.11's pool has no terminate(): its processes are ended one by one)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.terminate()
        except (OSError, ValueError):
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def collect(
    raw_dir: Path, cache_dir: Path | None = None, jobs: int = 1, progress: bool = False
) -> dict[str, pd.DataFrame]:
    """Parse every raw file and return the validated tables (no writing; for tests and
    small corpora: run() streams the tables to disk instead)."""
    parts: dict[str, list[pa.Table]] = {name: [] for name in FORM_TABLES}
    file_rows, issues = parse_all(
        Path(raw_dir),
        raw_fingerprint(Path(raw_dir)),
        cache_dir,
        jobs,
        progress,
        lambda name, table: parts[name].append(table),
    )
    frames = {
        name: schema.to_pandas(pa.concat_tables([schema.arrow_schema(name).empty_table(), *parts[name]]))
        for name in FORM_TABLES
    }
    # validated per batch already; again as a whole, so tests also catch a key repeated across batches
    frames = {name: schema.validate(name, frame) for name, frame in frames.items()}
    return {
        **frames,
        "files": schema.to_pandas(validated_arrow("files", file_rows)),
        "parse_issues": schema.to_pandas(validated_arrow("parse_issues", [vars(i) for i in issues])),
    }


def _progress(iterable, total: int, enabled: bool):
    """A bar over the batches of files (each up to BATCH_FILES files) on long runs."""
    if not enabled or total < 4:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, unit="batch", file=sys.stderr)


def current(
    raw_dir: Path, out_dir: Path, previous: dict | None = None, entries: list[RawEntry] | None = None
) -> dict | None:
    """The previous run's manifest when its tables are those this raw folder and this code
    would give (same raw files and skipped entries, same sources.csv, same code) and are
    still on disk as written (sizes, modification times and the Parquet/Arrow end marks);
    else None. Takes no lock and writes nothing (etl.load() on a read-only folder)."""
    previous = read_manifest(out_dir) if previous is None else previous
    if not previous:
        return None
    entries = raw_entries(raw_dir) if entries is None else entries
    if previous.get("code") != code_fingerprint() or previous.get("sources_sha256") != sources_sha256(raw_dir):
        return None
    if previous.get("skipped", {}) != {e.name: e.skipped for e in entries if e.skipped is not None}:
        return None
    if previous.get("raw_files") != raw_fingerprint(raw_dir, previous, entries):
        return None
    if not tables.outputs_intact(out_dir, previous.get("outputs")):
        return None
    return previous


def run(raw_dir: Path, out_dir: Path, jobs: int = 1, progress: bool = False, use_cache: bool = True) -> dict:
    """Rebuild out_dir from raw_dir. Returns the run summary (also written as run.json).
    use_cache=False (--no-cache) re-parses every file and rewrites every table."""
    started = time.time()
    out_dir = Path(out_dir)
    lock = acquire(out_dir)
    try:
        tables.remove_stale_staging(out_dir)  # left by a run that was killed mid-write; safe under the lock
        previous = read_manifest(out_dir)
        read_sources(raw_dir)  # a bad sources.csv stops the run here, with one line
        entries = raw_entries(raw_dir)
        stats = raw_stats(raw_dir, entries)  # before hashing: a file changed meanwhile is hashed again next time
        reusable = current(raw_dir, out_dir, previous, entries) if use_cache else None
        if reusable is not None:
            return {**reusable, "reused": True, "seconds": round(time.time() - started, 3)}
        fingerprint = raw_fingerprint(raw_dir, previous, entries)
        code = code_fingerprint()
        with output_errors(out_dir):
            outputs = tables.StagedOutputs(out_dir, {name: schema.arrow_schema(name) for name in TABLE_NAMES})
        with outputs:

            def append(name: str, table: pa.Table) -> None:
                with output_errors(out_dir):
                    outputs.append(name, table)

            file_rows, issues = parse_all(
                raw_dir, fingerprint, out_dir / ".cache" if use_cache else None, jobs, progress, append, entries
            )
            if not outputs.rows["projects"]:
                # an empty or unmounted raw folder, or one where nothing could be read: good
                # tables are not replaced by empty ones
                problems = sum(i.severity == "error" for i in issues)
                raise EtlError(
                    f"no forms in {raw_dir}; previous tables kept ({len(entries)} entries, "
                    f"{problems} error(s): "
                    + (next((i.message for i in issues if i.severity == "error"), "no raw files") + ")")
                )
            append("files", validated_arrow("files", file_rows))
            append("parse_issues", validated_arrow("parse_issues", [vars(i) for i in issues]))
            summary = {
                **_summary(outputs.rows, file_rows, issues, fingerprint, code, started),
                "raw_stats": stats,
                "sources_sha256": sources_sha256(raw_dir),
                "skipped": {e.name: e.skipped for e in entries if e.skipped is not None},
            }
            resources = {name: f"{name}.parquet" for name in TABLE_NAMES}
            with output_errors(out_dir):
                outputs.write_text("datapackage.json", schema.datapackage_json(resources))
                outputs.write_text("data_dictionary.md", schema.data_dictionary_markdown())
                summary["outputs"] = outputs.finish()  # sizes and times of the staged files, checked on reuse
                outputs.write_text("run.json", json.dumps(summary, ensure_ascii=False, indent=2))
                outputs.commit()
        return {**summary, "reused": False}
    finally:
        lock.release()


def _summary(
    rows: dict[str, int], files: list[dict], issues: list[Issue], fingerprint: dict, code: str, started: float
) -> dict:
    return {
        "raw_files": fingerprint,
        "code": code,
        "tables": list(TABLE_NAMES),
        "files": sum(f["status"] != "skipped" for f in files),  # the files read
        "skipped_entries": sum(f["status"] == "skipped" for f in files),
        "forms": rows["projects"],
        "forms_rejected": sum(f["forms_rejected"] for f in files),
        "funds": rows["funds"],
        "indicators": rows["indicators"],
        "issues": {s: sum(i.severity == s for i in issues) for s in ("error", "warning", "repaired")},
        "parser": "compiled" if compiled.in_use() else "python",  # same tables; the speed differs
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "seconds": round(time.time() - started, 3),
    }
