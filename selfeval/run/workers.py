"""Re-scoring, typing and validating batches of parsed files: what the worker processes run."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from selfeval.run.cache import cached_parse
from selfeval.run.per_file import FileResult
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


@dataclass
class BatchTables:
    """Several files' part of every form table, re-scored, typed and validated: what a
    worker sends back (Arrow tables: compact to send, and written as they are)."""
    file_rows: list[dict]
    tables: dict[str, pa.Table]
    issues: list[Issue]


def batch_tables(results: list[FileResult]) -> BatchTables:
    """Re-score, type and validate the forms of several files at once (scoring, checks and
    the schema's checks are per form or per row, and a form's rows never span files, so
    any grouping of files gives the same rows; a batch pays pandera's per-call costs once
    for many forms) and add the cross-total failures to the issues. Runs in a worker, so
    both cores share everything but the writing."""
    from selfeval.score.checks import derive

    derived = derive({part: [row for r in results for row in getattr(r, part)]
                      for part in ("projects", "funds", "indicators")})
    tables = {name: validated_arrow(name, derived[name]) for name in FORM_TABLES}
    issues = [issue for r in results for issue in r.issues]
    source = {p["form_id"]: p["source_file"] for p in derived["projects"]}
    for check in derived["checks"]:
        if check["check"] in CROSS_TOTALS:
            issues.append(Issue(source[check["form_id"]], check["form_id"], check["line"], "total", None,
                                f"totals do not add up ({check['check']}): {check['message']}", "warning"))
    return BatchTables([r.file_row for r in results], tables, issues)


def validated_arrow(name: str, rows: list[dict]) -> pa.Table:
    """One table's rows -> an Arrow table with the declared schema, validated (pandera)."""
    table = schema.rows_to_arrow(name, rows)
    if name == "funds":  # printed as a percentage; a fraction in the table (divided in Arrow: no row copies)
        at = table.schema.get_field_index("execution_rate")
        table = table.set_column(at, table.schema.field(at), pc.divide(table.column(at), 100.0))
    schema.validate(name, schema.to_pandas(table))
    return table



def parse_batch(batch: list[tuple]) -> BatchTables:
    return batch_tables([cached_parse(args) for args in batch])


@contextmanager
def gc_thresholds(thresholds: tuple[int, int, int]):
    """GC_THRESHOLDS while parsing in this process, the caller's settings restored after."""
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*previous)

