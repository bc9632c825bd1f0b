"""The raw folder: which files it holds, their sha256 (reused while size, mtime and inode match) and sources.csv."""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from selfeval.extract.formats import RAW_EXTENSIONS


def read_sources(raw_dir: Path) -> dict[str, dict]:
    path = raw_dir / "sources.csv"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return {row["file_name"]: row for row in csv.DictReader(handle)}



def raw_files(raw_dir: Path) -> list[Path]:
    """The raw folder's forms: text exports and documents (.txt .docx .doc .xlsx .xls .pdf
    .html .htm, extensions in any case). The format itself is then decided by content."""
    return sorted(p for p in raw_dir.glob("*") if p.suffix.lower() in RAW_EXTENSIONS and p.is_file())


def raw_fingerprint(raw_dir: Path, previous: dict | None = None) -> dict[str, str]:
    """sha256 per raw file. With the previous run's manifest, a file whose size,
    modification time and inode are those recorded there keeps its recorded sha256
    instead of being read again (as git and make do): an unchanged corpus of 100,000
    forms is checked in milliseconds instead of the second that hashing 160 MB takes."""
    known = (previous or {}).get("raw_files", {})
    stats = (previous or {}).get("raw_stats", {})
    return {p.name: known[p.name] if p.name in known and stats.get(p.name) == _stat(p)
            else hashlib.sha256(p.read_bytes()).hexdigest() for p in raw_files(raw_dir)}


def raw_stats(raw_dir: Path) -> dict[str, list[int]]:
    return {p.name: _stat(p) for p in raw_files(raw_dir)}


def _stat(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]

