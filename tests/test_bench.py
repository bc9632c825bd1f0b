"""The synthetic corpus: deterministic, read back exactly, and incremental runs."""

from __future__ import annotations

import pandas as pd

from bench import generate, verify
from selfeval.run import cache, pipeline


def test_generator_is_deterministic(tmp_path):
    a = generate.generate(60, 7, tmp_path / "a")
    b = generate.generate(60, 7, tmp_path / "b")
    names = sorted(p.name for p in a.glob("*.txt"))
    assert names == sorted(p.name for p in b.glob("*.txt")) and len(names) == 2
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    assert (tmp_path / "a" / "expected.csv").read_bytes() == (tmp_path / "b" / "expected.csv").read_bytes()


def test_etl_reads_the_synthetic_corpus_exactly(tmp_path):
    # 8 files of 50 forms: both layouts, CRLF (file 2), GB18030 (file 3), BOM (file 4)
    raw = generate.generate(400, 3, tmp_path)
    summary = pipeline.run(raw, tmp_path / "out", jobs=2)
    assert summary["forms"] == 400 and summary["issues"]["error"] == 0
    bad = verify.mismatches(tmp_path / "expected.csv", tmp_path / "out")
    assert bad.empty, bad.head().to_string()
    encodings = set(pd.read_parquet(tmp_path / "out" / "files.parquet")["encoding"])
    assert encodings == {"utf-8", "gb18030", "utf-8-sig"}


def test_unchanged_corpus_is_reused_and_one_changed_file_is_reparsed(tmp_path, monkeypatch):
    raw = generate.generate(150, 5, tmp_path)
    out = tmp_path / "out"
    first = pipeline.run(raw, out)
    assert first["reused"] is False and first["forms"] == 150
    assert pipeline.run(raw, out)["reused"] is True

    parsed = []
    real = cache.parse_file  # what a cache miss calls
    monkeypatch.setattr(cache, "parse_file", lambda name, *a: parsed.append(name) or real(name, *a))
    changed = raw / "synthetic_00001.txt"
    changed.write_bytes(changed.read_bytes().replace("合成项目000051".encode(), "改名项目000051".encode()))
    summary = pipeline.run(raw, out)
    assert summary["reused"] is False and parsed == ["synthetic_00001.txt"]
    projects = pd.read_parquet(out / "projects.parquet")
    assert projects.project_name.str.startswith("改名项目000051").sum() == 1 and len(projects) == 150


def test_unchanged_files_are_not_hashed_again_but_an_edit_of_the_same_size_is_seen(tmp_path):
    raw = generate.generate(100, 6, tmp_path)
    out = tmp_path / "out"
    pipeline.run(raw, out)
    manifest = pipeline.read_manifest(out)
    # the recorded sha256 is trusted while size, mtime and inode are those recorded
    fake = {**manifest, "raw_files": {**manifest["raw_files"], "synthetic_00000.txt": "recorded"}}
    assert pipeline.raw_fingerprint(raw, fake)["synthetic_00000.txt"] == "recorded"
    assert pipeline.run(raw, out)["reused"] is True

    changed = raw / "synthetic_00001.txt"
    data = changed.read_bytes()
    edited = data.replace("合成项目000051".encode(), "合成项目000052".encode())
    assert len(edited) == len(data) and edited != data
    changed.write_bytes(edited)
    summary = pipeline.run(raw, out)
    assert summary["reused"] is False
    projects = pd.read_parquet(out / "projects.parquet")
    assert projects.project_name.str.startswith("合成项目000052").sum() == 2


def test_cache_keeps_only_the_entries_of_the_last_run(tmp_path):
    raw = generate.generate(100, 7, tmp_path)
    out = tmp_path / "out"
    pipeline.run(raw, out)
    cache = out / ".cache"
    assert len(list(cache.glob("*.pkl"))) == 2  # one per raw file
    (cache / ("0" * 64 + ".pkl")).write_bytes(b"from an older parser")
    (raw / "synthetic_00000.txt").unlink()
    pipeline.run(raw, out)
    assert len(list(cache.glob("*.pkl"))) == 1
