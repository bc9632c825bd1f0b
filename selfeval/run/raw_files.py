"""The raw folder: every entry in it (read, or skipped with a reason), their sha256 (reused while
size, mtime and inode match) and sources.csv (checked: a bad sources.csv is one clear error)."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from selfeval.extract.formats import RAW_EXTENSIONS
from selfeval.run.lock import EtlError

SOURCES = "sources.csv"  # the raw folder's own description, not a raw file
SOURCES_COLUMNS = ("file_name", "sha256", "district", "publishing_unit", "year", "source_format", "n_forms")


def reader_for(suffix: str) -> str | None:
    """None when files with this suffix (any case) are read (text exports and the documents of
    selfeval/extract/formats: RAW_EXTENSIONS); else why they are skipped. The format itself is
    then decided by the file's content."""
    suffix = suffix.lower()
    if suffix in RAW_EXTENSIONS:
        return None
    return f"unsupported file type ({suffix or 'no extension'})"


@dataclass(frozen=True)
class RawEntry:
    name: str  # the path under the raw folder, with / (the files table's source_file)
    path: Path
    skipped: str | None  # why it is not read; None: read


def raw_entries(raw_dir: Path) -> list[RawEntry]:
    """Every entry under raw_dir (recursively, symbolic links to folders not followed), sorted by
    name: the files it reads and the ones it skips, each with its reason. Nothing is left out but
    the top-level sources.csv."""
    entries: list[RawEntry] = []
    for folder, dirs, files in os.walk(raw_dir, followlinks=False):
        base = Path(folder)
        for name in dirs:
            path = base / name
            relative = path.relative_to(raw_dir).as_posix()
            if path.is_symlink():
                entries.append(RawEntry(relative, path, "symbolic link to a folder, not followed"))
            elif reader_for(Path(name).suffix) is None:
                entries.append(
                    RawEntry(relative, path, "a folder with a file's name (its files are listed on their own)")
                )
        for name in files:
            path = base / name
            relative = path.relative_to(raw_dir).as_posix()
            if relative == SOURCES:
                continue
            entries.append(RawEntry(relative, path, _why_skipped(path)))
    return sorted(entries, key=lambda entry: entry.name)


def _why_skipped(path: Path) -> str | None:
    try:
        mode = path.stat().st_mode  # follows a symbolic link to its target
    except FileNotFoundError:
        return "broken symbolic link (its target does not exist)" if path.is_symlink() else "removed while listed"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if not stat.S_ISREG(mode):
        kind = "FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "device"
        return f"not a regular file ({kind})"
    return reader_for(path.suffix)


def raw_files(raw_dir: Path) -> list[Path]:
    """The files that are read."""
    return [entry.path for entry in raw_entries(raw_dir) if entry.skipped is None]


def raw_fingerprint(
    raw_dir: Path, previous: dict | None = None, entries: list[RawEntry] | None = None
) -> dict[str, str]:
    """sha256 per raw file. With the previous run's manifest, a file whose size,
    modification time and inode are those recorded there keeps its recorded sha256
    instead of being read again (as git and make do): an unchanged corpus of 100,000
    forms is checked in milliseconds instead of the second that hashing 160 MB takes.
    A file that cannot be read now is left out (its read fails later, with a reason)."""
    known = (previous or {}).get("raw_files", {})
    stats = (previous or {}).get("raw_stats", {})
    found: dict[str, str] = {}
    for entry in raw_entries(raw_dir) if entries is None else entries:
        if entry.skipped is not None:
            continue
        try:
            if entry.name in known and stats.get(entry.name) == _stat(entry.path):
                found[entry.name] = known[entry.name]
            else:
                found[entry.name] = hashlib.sha256(entry.path.read_bytes()).hexdigest()
        except OSError:
            continue
    return found


def raw_stats(raw_dir: Path, entries: list[RawEntry] | None = None) -> dict[str, list[int]]:
    stats = {}
    for entry in raw_entries(raw_dir) if entries is None else entries:
        if entry.skipped is None:
            try:
                stats[entry.name] = _stat(entry.path)
            except OSError:
                continue
    return stats


def _stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


# --- sources.csv -------------------------------------------------------------------------------------

_YEAR = re.compile(r"^\d{4}$")
_COUNT = re.compile(r"^\d+$")


def sources_sha256(raw_dir: Path) -> str | None:
    """sha256 of sources.csv (part of the run's fingerprint: its district, year and n_forms reach the tables)."""
    try:
        return hashlib.sha256((raw_dir / SOURCES).read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EtlError(f"cannot read {raw_dir / SOURCES}: {exc.strerror or exc}") from None


def read_sources(raw_dir: Path) -> dict[str, dict]:
    """sources.csv by file name, checked: a file Excel saved in GBK, a renamed column, a year
    that is not four digits or a form count that is not a number is one EtlError naming the
    file, the line and what to do (not a traceback, and not a table quietly missing a year)."""
    path = raw_dir / SOURCES
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise EtlError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise EtlError(
            f'{path} is not UTF-8 (saved as GBK/ANSI by Excel?): save it as "CSV UTF-8" and run again'
        ) from None
    try:
        reader = csv.DictReader(text.splitlines(), strict=True)
        header = reader.fieldnames or []
        if "file_name" not in header:
            raise EtlError(
                f"{path}: no file_name column (header: {', '.join(header) or 'empty'}); "
                f"the columns are {', '.join(SOURCES_COLUMNS)}"
            )
        rows: dict[str, dict] = {}
        for row in reader:
            line = reader.line_num
            for column, pattern, what in (
                ("year", _YEAR, "a year (four digits, e.g. 2024)"),
                ("n_forms", _COUNT, "a number of forms (digits only)"),
            ):
                value = (row.get(column) or "").strip()
                if value and not pattern.match(value):
                    raise EtlError(f"{path} line {line}: {column} {value!r} is not {what}; correct it and run again")
            rows[row["file_name"]] = row
    except csv.Error as exc:
        raise EtlError(f"{path}: not a readable CSV file ({exc}); correct it and run again") from None
    return rows
