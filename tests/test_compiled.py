"""The compiled sub-packages (mypyc, selfeval/compiled.py): the same tables as the Python
sources, found by folder, and a build made from other sources is removed before it can run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

import etl
from bench import generate
from selfeval import compiled
from selfeval.run import pipeline
from selfeval.schema.fields import TABLE_NAMES

PACKAGE = Path(compiled.__file__).resolve().parent


def _corpus(tmp_path: Path) -> Path:
    """The seed files and 200 synthetic forms (both layouts, CRLF, GB18030, BOM) in one folder."""
    raw = generate.generate(200, 11, tmp_path / "synthetic")
    for path in [*etl.RAW_DIR.glob("*.txt")]:
        shutil.copy(path, raw / path.name)
    return raw


def _sources_copy(tmp_path: Path) -> Path:
    """The package's sources without any compiled file, as a checkout without `make compile` has them."""
    copy = tmp_path / "src" / "selfeval"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("*.so", "__pycache__", ".compiled.json"))
    return copy


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLE_NAMES}


@pytest.mark.skipif(compiled.status() != "current", reason="not compiled here (make compile); nothing to compare")
def test_compiled_modules_give_the_same_tables_as_the_python_sources(tmp_path):
    raw = _corpus(tmp_path)
    assert compiled.in_use()
    pipeline.run(raw, tmp_path / "compiled", use_cache=False)
    script = (
        "import sys; from pathlib import Path; from selfeval import compiled; from selfeval.run import pipeline; "
        "assert not compiled.in_use(), 'compiled modules in the sources copy'; "
        "pipeline.run(Path(sys.argv[1]), Path(sys.argv[2]), use_cache=False)"
    )
    # run from a copy of the sources: Python finds that package (the working directory) first
    subprocess.run(
        [sys.executable, "-c", script, str(raw), str(tmp_path / "python")],
        cwd=_sources_copy(tmp_path).parent,
        check=True,
    )
    made, expected = _tables(tmp_path / "compiled"), _tables(tmp_path / "python")
    assert len(expected["projects"]) == 270 and len(expected["indicators"]) > 2000
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(made[name], expected[name], obj=name)


def _fake_build(package: Path, stamp: dict | None) -> Path:
    (package / "parse" / "form.cpython-311-x86_64-linux-gnu.so").write_bytes(b"not really an extension")
    if stamp is not None:
        (package / ".compiled.json").write_text(json.dumps(stamp), encoding="utf-8")
    return package


def test_the_compiled_set_is_every_module_of_the_compiled_folders(tmp_path):
    package = _sources_copy(tmp_path)
    names = {path.relative_to(package).as_posix() for path in compiled.compiled_sources(package)}
    assert {
        "parse/form.py",
        "extract/read.py",
        "extract/layouts/tab_rows.py",
        "score/scoring.py",
        "vocab/labels.py",
    } <= names
    assert not any(
        name.endswith("__init__.py") or name.startswith(("run/", "analysis/", "extract/formats/")) for name in names
    )
    (package / "parse" / "new_rule.py").write_text("X = 1\n", encoding="utf-8")
    assert "parse/new_rule.py" in set(compiled.source_stamp(package)["modules"])


def test_a_build_is_current_only_for_the_sources_and_python_it_was_made_from(tmp_path):
    package = _sources_copy(tmp_path)
    assert compiled.status(package) == "absent"
    stamp = compiled.source_stamp(package)
    assert compiled.status(_fake_build(package, stamp)) == "current"
    assert compiled.status(_fake_build(package, {**stamp, "python": "cpython-39"})) == "stale"
    assert compiled.status(_fake_build(package, None)) == "stale"  # extensions without a stamp: an interrupted build
    _fake_build(package, stamp)
    source = package / "score" / "scoring.py"
    source.write_text(source.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert compiled.status(package) == "stale"


def test_a_stale_build_is_removed_before_it_can_run_and_says_so(tmp_path):
    package = _sources_copy(tmp_path)
    stamp = compiled.source_stamp(package)
    _fake_build(package, {**stamp, "modules": {**stamp["modules"], "extract/cells.py": "0" * 64}})
    with pytest.warns(UserWarning, match="built from other sources"):
        assert compiled.discard_stale(package)
    assert compiled.extensions(package) == [] and not (package / ".compiled.json").exists()

    _fake_build(package, stamp)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not compiled.discard_stale(package)
    assert len(compiled.extensions(package)) == 1


def test_an_edited_source_runs_as_python_in_a_fresh_process(tmp_path):
    """Through `import selfeval` itself: the stale extension is gone before selfeval.parse is imported."""
    package = _sources_copy(tmp_path)
    _fake_build(package, {**compiled.source_stamp(package), "python": "cpython-39"})
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "always",
            "-c",
            "import selfeval.parse.form as f, selfeval.compiled as c; print(f.__file__, c.in_use())",
        ],
        cwd=package.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == [str(package / "parse" / "form.py"), "False"]
    assert "built from other sources" in done.stderr
