"""The package's shape, enforced: import contracts, lint, no path patches, no printed words in the parser,
and the `selfeval` command with --help on every sub-command."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from selfeval.cli import COMMANDS
from selfeval.paths import PACKAGE_DIR, ROOT

BIN = Path(sys.executable).parent
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _tool(name: str) -> str:
    found = BIN / name
    if not found.exists():
        found = Path(shutil.which(name) or name)
    return str(found)


def test_import_contracts_hold():
    """pyproject.toml [tool.importlinter]: layers, leaf vocabularies and schema, analysis and reports apart
    from the parser."""
    done = subprocess.run([_tool("lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_import_contracts_can_fail(tmp_path):
    """The contract check is real: a copy of the package whose analysis imports the parser breaks it."""
    project = tmp_path / "project"
    shutil.copytree(PACKAGE_DIR, project / "selfeval", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / "selfeval" / "analysis" / "leak.py").write_text("from selfeval.parse import form\n", encoding="utf-8")
    done = subprocess.run(
        [_tool("lint-imports")],
        cwd=project,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(project), "PATH": str(BIN)},
    )
    assert done.returncode != 0 and "BROKEN" in done.stdout.upper()


def test_ruff_lint_and_format_pass():
    done = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    formatted = subprocess.run([_tool("ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert formatted.returncode == 0, formatted.stdout[-3000:]


def _project_files() -> list[Path]:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:  # not a git checkout: the package, tests, notebooks and bench folders
        return [
            p
            for folder in ("selfeval", "tests", "notebooks", "bench")
            for p in (ROOT / folder).rglob("*")
            if p.suffix in (".py", ".ipynb")
        ] + [ROOT / "etl.py", ROOT / "Makefile"]
    return [ROOT / name for name in tracked if name.endswith((".py", ".ipynb")) or name == "Makefile"]


def test_no_import_path_patches_anywhere():
    """The package is installed (pip install -e .): nothing rewrites sys.path, PYTHONPATH or __path__."""
    patch = re.compile(r"sys\.path\.(insert|append)|PYTHONPATH|__path__\s*[.=]|\.pth\b")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in _project_files()
        if path.exists() and path.name != "test_architecture.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if patch.search(line)
    ]
    assert offenders == []


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module, docstrings left out (they explain the form's words)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_printed_word_in_the_parsers_code():
    """Every label, word and message naming the form's printed labels is in selfeval/vocab/*.yaml."""
    parser = [p for folder in ("extract", "parse") for p in (PACKAGE_DIR / folder).rglob("*.py")]
    assert len(parser) >= 6
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text[:40]!r}"
        for path in parser
        for line, text in _string_literals(path)
        if CJK.search(text)
    ]
    assert found == []


def test_the_cjk_check_finds_a_literal(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""文档 is fine."""\nLABEL = "项目名称"\n', encoding="utf-8")
    assert [text for _, text in _string_literals(module) if CJK.search(text)] == ["项目名称"]


def test_selfeval_command_lists_its_commands_and_each_has_help():
    selfeval = _tool("selfeval")
    shown = subprocess.run([selfeval, "--help"], capture_output=True, text=True, check=True).stdout
    for name in ("etl", "report", "findings", "compile", "docs"):
        assert name in COMMANDS and f"  {name} " in shown
    for name in COMMANDS:
        done = subprocess.run([selfeval, name, "--help"], capture_output=True, text=True)
        assert done.returncode == 0 and "usage: selfeval " + name in done.stdout, (name, done.stderr)
    wrong = subprocess.run([selfeval, "etll"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr


@pytest.mark.parametrize("entry", [["etl.py", "--help"]])
def test_etl_py_stays_a_thin_entry(entry):
    done = subprocess.run([sys.executable, *entry], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "usage: python etl.py" in done.stdout
    assert len((ROOT / "etl.py").read_text(encoding="utf-8").splitlines()) < 25


def test_mypy_passes_on_the_package():
    """pyproject.toml [tool.mypy]: the compiled sub-packages must type-check (mypyc needs it), the rest too."""
    done = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
