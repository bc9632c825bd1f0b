"""The tables on disk: Arrow tables -> Parquet, CSV and Arrow files, staged and moved into place together; and read back."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from selfeval.schema import fields as schema

# --- writing ---------------------------------------------------------------------------------

_FORMULA_START = r"^[=+\-@\t\r]"
# C0 (but tab, newline, carriage return), DEL, C1 (U+0080-U+009F: CSI, NEL...) and the bidi
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which can make a cell
# display reversed. The non-ASCII ones are written as the characters themselves, which both
# Python's re and Arrow's RE2 read the same way.
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f" + "\u0080-\u009f\u202a-\u202e\u2066-\u2069" + "]"
_PLAIN_NUMBER = r"[+-]?\d+(\.\d+)?%?"


def _safe_text(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Spreadsheet-safe text: control characters dropped, and a cell that Excel
    would run as a formula (=, +, -, @ first) prefixed with an apostrophe; plain
    numbers such as "-12.5" are left alone. Arrow compute (RE2, in C++): the CSV of
    100,000 forms has millions of text cells. Most columns hold neither, which a
    look at the raw bytes tells far faster than the regular expressions."""
    text = pc.replace_substring_regex(values, CONTROL_CHARACTERS, "") if may_hold_control_characters(values) else values
    if not _has_bytes(text, _FORMULA_BYTES, first_only=True):
        return text
    risky = pc.and_(
        pc.and_(
            pc.match_substring_regex(text, _FORMULA_START),
            pc.invert(pc.match_substring_regex(text, f"^{_PLAIN_NUMBER}$")),
        ),
        pc.greater(pc.utf8_length(text), 1),
    )
    quote, empty = pa.scalar("'", text.type), pa.scalar("", text.type)  # string or large_string
    return pc.if_else(risky, pc.binary_join_element_wise(quote, text, empty), text)


# In UTF-8 a byte below 0x80 is always the ASCII character itself, never part of a
# multi-byte character, so these byte tests cannot be fooled by Chinese text.
# As 256-entry lookup tables. np.isin made one pass over the bytes per wanted byte (a
# sixth of the main process's time at 100k forms); see _has_bytes.
_CONTROL_BYTES = np.zeros(256, dtype=bool)
_CONTROL_BYTES[[b for b in range(0x20) if b not in (0x09, 0x0A, 0x0D)] + [0x7F]] = True
_FORMULA_BYTES = np.zeros(256, dtype=bool)
_FORMULA_BYTES[list(b"=+-@\t\r")] = True


def may_hold_control_characters(values: pa.Array | pa.ChunkedArray) -> bool:
    """False only when no cell of the text column holds a CONTROL_CHARACTERS character: a
    scan of the Arrow data buffers instead of a regular expression over every cell."""
    return _has_bytes(values, _CONTROL_BYTES) or _has_wide_controls(values)


def _has_wide_controls(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a cell may hold a C1 character (UTF-8 C2 80-9F) or a bidi control (E2 80 AA-AE,
    E2 81 A6-A9): looked for at the lead bytes C2 and E2 only (E2 also starts ≥ and ≤, so the
    byte after it is checked too)."""
    for chunk in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        if len(chunk) == chunk.null_count:
            continue
        offsets_buffer, data_buffer = chunk.buffers()[1:3]
        if data_buffer is None:
            continue
        offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets: np.ndarray = np.frombuffer(offsets_buffer, dtype=offset_type)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
        lead = np.flatnonzero((data == 0xC2) | (data == 0xE2))
        if not len(lead):
            continue
        second = data[np.minimum(lead + 1, len(data) - 1)]
        if ((data[lead] == 0xC2) & (second >= 0x80) & (second <= 0x9F)).any():
            return True
        if ((data[lead] == 0xE2) & ((second == 0x80) | (second == 0x81))).any():
            return True  # U+2000-U+207F: rare in forms; the regular expression decides
    return False


def _has_bytes(values: pa.Array | pa.ChunkedArray, wanted: np.ndarray, first_only: bool = False) -> bool:
    """Whether any cell holds one of the `wanted` ASCII bytes (a 256-entry boolean table;
    first_only: as its first byte). Only the bytes of the cells themselves are read, also
    for a slice that views a larger buffer."""
    # Every wanted byte is ASCII: below `limit`, or DEL (0x7F). One vectorised comparison
    # keeps the few bytes below `limit` (most text is Chinese, >= 0x80), and the table
    # is read for those only.
    limit = int(np.flatnonzero(wanted[:0x7F]).max(initial=-1)) + 1
    for chunk in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        if len(chunk) == chunk.null_count:
            continue
        offsets_buffer, data_buffer = chunk.buffers()[1:3]
        if data_buffer is None:
            continue
        offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets: np.ndarray = np.frombuffer(offsets_buffer, dtype=offset_type)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        data = np.frombuffer(data_buffer, dtype=np.uint8)
        if first_only:
            data = data[offsets[:-1][offsets[1:] > offsets[:-1]]]  # first byte of each non-empty cell
        else:
            data = data[offsets[0] : offsets[-1]]
        if wanted[data[data < limit]].any() or (wanted[0x7F] and (data == 0x7F).any()):
            return True
    return False


def neutralise_for_csv(value):
    """One cell as the CSV export writes it."""
    if not isinstance(value, str):
        return value
    return _safe_text(pa.array([value], pa.string()))[0].as_py()


_BOM = b"\xef\xbb\xbf"


def csv_safe(table: pa.Table) -> pa.Table:
    """The table as the CSV shows it: every text column made spreadsheet-safe."""
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            table = table.set_column(i, field, _safe_text(table.column(i)))
    return table


def remove_stale_staging(out_dir: Path) -> list[Path]:
    """Remove the .staging-* folders a killed run left behind (call it holding the ETL lock:
    a running StagedOutputs' own staging folder must not be removed under it)."""
    stale = [p for p in Path(out_dir).glob(".staging-*") if p.is_dir()]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return stale


class StagedOutputs:
    """The run's outputs, written into a staging folder as they come (one batch of forms
    at a time, so the whole corpus never sits in memory) and moved into place by commit().

    Every table declared in `schemas` gets, also when no row was appended, a Parquet
    file (to share and archive), a CSV (UTF-8 with a BOM, for Excel) and an Arrow IPC
    file (uncompressed, what etl.load() memory-maps: the 100,000-form tables load in a
    quarter of a second instead of the 2.5 s Parquet decoding takes, for ~6x the disk). A crash before commit() leaves the
    previous outputs as they were (close() removes the staging folder); commit() moves
    the files one by one with os.replace, the manifest (run.json) last, so a reader
    can tell a complete set."""

    def __init__(self, out_dir: Path, schemas: dict[str, pa.Schema]):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.out_dir))
        self.rows = {name: 0 for name in schemas}
        self._files: list[str] = []
        self._parquet, self._csv, self._arrow, self._handles = {}, {}, {}, []
        try:
            for name, arrow_schema in schemas.items():
                self._parquet[name] = pq.ParquetWriter(self.staging / f"{name}.parquet", arrow_schema)
                handle = open(self.staging / f"{name}.csv", "wb")
                self._handles.append(handle)
                handle.write(_BOM)
                self._csv[name] = pa_csv.CSVWriter(
                    handle, arrow_schema, write_options=pa_csv.WriteOptions(quoting_style="needed")
                )
                sink = pa.OSFile(str(self.staging / f"{name}.arrow"), "wb")
                self._handles.append(sink)
                self._arrow[name] = pa.ipc.new_file(sink, arrow_schema)
                self._files += [f"{name}.parquet", f"{name}.csv", f"{name}.arrow"]
        except BaseException:
            self.close()
            raise

    def append(self, name: str, table: pa.Table) -> None:
        self._parquet[name].write_table(table)
        self._arrow[name].write_table(table)
        self._csv[name].write_table(csv_safe(table))
        self.rows[name] += table.num_rows

    def write_text(self, file_name: str, text: str) -> None:
        (self.staging / file_name).write_text(text, encoding="utf-8")
        self._files.append(file_name)

    def finish(self) -> dict[str, list[int]]:
        """Close the table writers; the staged files' sizes and modification times (kept by the
        move into place), recorded in run.json and checked before the tables are reused."""
        self._close_writers(raise_errors=True)
        return {name: _size_and_time(self.staging / name) for name in self._files if name != "run.json"}

    def commit(self) -> list[Path]:
        self._close_writers(raise_errors=True)
        ordered = [f for f in self._files if f != "run.json"] + (["run.json"] if "run.json" in self._files else [])
        for file_name in ordered:
            os.replace(self.staging / file_name, self.out_dir / file_name)
        return [self.out_dir / f for f in ordered]

    def close(self) -> None:
        self._close_writers(raise_errors=False)
        shutil.rmtree(self.staging, ignore_errors=True)

    def _close_writers(self, raise_errors: bool) -> None:
        writers = [*self._parquet.values(), *self._csv.values(), *self._arrow.values(), *self._handles]
        self._parquet, self._csv, self._arrow, self._handles = {}, {}, {}, []
        for writer in writers:
            try:
                writer.close()
            except (OSError, pa.ArrowException):
                if raise_errors:
                    raise

    def __enter__(self) -> StagedOutputs:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _size_and_time(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


# The end marks of a complete file: a truncated or overwritten table lacks them.
_MAGIC = {".parquet": (b"PAR1", b"PAR1"), ".arrow": (b"ARROW1", b"ARROW1")}


def outputs_intact(out_dir: Path, recorded: dict[str, list[int]] | None) -> bool:
    """Whether every output recorded in run.json is there as it was written: same size and
    modification time, and a Parquet or Arrow file still starts and ends with its mark."""
    if not recorded:
        return False
    for name, expected in recorded.items():
        path = Path(out_dir) / name
        try:
            if _size_and_time(path) != expected:
                return False
            marks = _MAGIC.get(path.suffix)
            if marks:
                with open(path, "rb") as handle:
                    head = handle.read(len(marks[0]))
                    handle.seek(-len(marks[1]), os.SEEK_END)
                    if head != marks[0] or handle.read(len(marks[1])) != marks[1]:
                        return False
        except OSError:
            return False
    return True


class TableError(Exception):
    """A table on disk that cannot be read (truncated, overwritten): names the file."""


def read_manifest(out_dir: Path) -> dict | None:
    try:
        return json.loads((Path(out_dir) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_tables(out_dir: Path, names=None) -> dict[str, pd.DataFrame]:
    manifest = read_manifest(out_dir) or {}
    return {name: read_table(Path(out_dir) / f"{name}.parquet") for name in (names or manifest.get("tables", []))}


def read_table(path: Path) -> pd.DataFrame:
    """A table (its .parquet path) as a DataFrame with the schema's pandas dtypes: from the
    Arrow IPC copy beside it, memory-mapped, when there is one (tables.StagedOutputs),
    else from the Parquet file. Text stays in Arrow memory (string[pyarrow]) instead of
    becoming one Python object per cell: at 100,000 forms that alone took 9 s."""
    arrow = Path(path).with_suffix(".arrow")
    source_path = arrow if arrow.exists() else Path(path)
    try:
        if source_path == arrow:
            with pa.memory_map(str(arrow)) as source:
                return schema.to_pandas(pa.ipc.open_file(source).read_all())
        return schema.to_pandas(pq.read_table(path))
    except (OSError, pa.ArrowException) as exc:
        raise TableError(
            f"cannot read table {source_path}: {exc}; rebuild the tables (python etl.py --no-cache)"
        ) from None


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write *data* to *path* via a temp file in the same folder + os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are for sharing
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
