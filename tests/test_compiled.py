"""The compiled parser (mypyc, selfeval/compiled.py): the same tables as the Python
source, used only when built from the sources as they are now."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

import etl
import selfeval
from bench import generate
from selfeval import compiled
from selfeval.run import pipeline

ROOT = Path(__file__).resolve().parent.parent


def _corpus(tmp_path: Path) -> Path:
    """The seed files and 200 synthetic forms (both layouts, CRLF, GB18030, BOM) in one folder."""
    raw = generate.generate(200, 11, tmp_path / "synthetic")
    for path in [*etl.RAW_DIR.glob("*.txt")]:
        shutil.copy(path, raw / path.name)
    return raw


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in pipeline.TABLE_NAMES}


@pytest.mark.skipif(selfeval.compiled_status() != "current",
                    reason="parser not compiled here (make compile); nothing to compare")
def test_compiled_parser_gives_the_same_tables_as_the_python_source(tmp_path):
    raw = _corpus(tmp_path)
    assert compiled.in_use()
    pipeline.run(raw, tmp_path / "compiled", use_cache=False)
    env = {**os.environ, selfeval.PURE_PYTHON_VARIABLE: "1"}
    script = ("import sys; from pathlib import Path; from selfeval import pipeline, compiled; "
              "assert not compiled.in_use(); "
              "pipeline.run(Path(sys.argv[1]), Path(sys.argv[2]), use_cache=False)")
    subprocess.run([sys.executable, "-c", script, str(raw), str(tmp_path / "python")], cwd=ROOT, env=env,
                   check=True)
    made, expected = _tables(tmp_path / "compiled"), _tables(tmp_path / "python")
    assert len(expected["projects"]) == 270 and len(expected["indicators"]) > 2000
    for name in pipeline.TABLE_NAMES:
        pd.testing.assert_frame_equal(made[name], expected[name], obj=name)


def _fake_build(tmp_path: Path, stamp: dict) -> Path:
    build = tmp_path / "build"
    (build / "selfeval").mkdir(parents=True)
    (build / "stamp.json").write_text(json.dumps(stamp), encoding="utf-8")
    return build


def test_a_build_is_current_only_for_the_sources_and_python_it_was_made_from(tmp_path, monkeypatch):
    monkeypatch.delenv(selfeval.PURE_PYTHON_VARIABLE, raising=False)
    stamp = selfeval.source_stamp()
    assert set(stamp["modules"]) == set(selfeval.COMPILED_MODULES)
    assert selfeval.compiled_status(_fake_build(tmp_path / "a", stamp)) == "current"
    edited = {**stamp, "modules": {**stamp["modules"], "form": "0" * 64}}
    assert selfeval.compiled_status(_fake_build(tmp_path / "b", edited)) == "stale"
    other_python = {**stamp, "python": "cpython-39"}
    assert selfeval.compiled_status(_fake_build(tmp_path / "c", other_python)) == "stale"
    assert selfeval.compiled_status(tmp_path / "nothing") == "absent"
    monkeypatch.setenv(selfeval.PURE_PYTHON_VARIABLE, "1")
    assert selfeval.compiled_status(_fake_build(tmp_path / "d", stamp)) == "disabled"


def test_a_stale_build_is_not_used_and_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv(selfeval.PURE_PYTHON_VARIABLE, raising=False)
    stamp = selfeval.source_stamp()
    stale = _fake_build(tmp_path / "stale", {**stamp, "modules": {**stamp["modules"], "cells": "0" * 64}})
    search_path = ["selfeval-sources"]
    with pytest.warns(UserWarning, match="built from other sources"):
        selfeval._use_compiled(search_path, stale)
    assert search_path == ["selfeval-sources"]

    current = _fake_build(tmp_path / "current", stamp)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        selfeval._use_compiled(search_path, current)
    assert search_path == [str(current / "selfeval"), "selfeval-sources"]


def test_the_source_modules_stay_importable_as_python():
    # nothing compiled may land beside the sources, where it would shadow them
    package = Path(selfeval.__file__).parent
    assert not [p.name for p in package.iterdir() if p.suffix in (".so", ".pyd", ".c")]
    env = {**os.environ, selfeval.PURE_PYTHON_VARIABLE: "1"}
    shown = subprocess.run([sys.executable, "-c", "import selfeval.parse.form as f; print(f.__file__)"], cwd=ROOT,
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert shown == str(package / "form.py")
