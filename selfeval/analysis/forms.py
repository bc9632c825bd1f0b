"""A form's printed lines, read back from its raw file for the form pages (reports/forms/).

The tables say where each form starts (projects.first_line) and how its file was decoded
(files.encoding): a form's lines run from its title to the line before the next form of the
same file. Only text exports have printed lines; a document's lines are its reader's rows
(selfeval/extract/formats), so its form page shows the parsed fields only.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def raw_lines(raw_dir: Path, projects: pd.DataFrame, files: pd.DataFrame | None) -> dict[str, list[tuple[int, str]]]:
    """{form_id: [(line number, text), ...]} for the forms of text exports whose file is still there."""
    encodings = {} if files is None else dict(zip(files["source_file"], files["encoding"]))
    out: dict[str, list[tuple[int, str]]] = {}
    for source_file, forms in projects.groupby("source_file", sort=False):
        encoding = encodings.get(source_file)
        path = Path(raw_dir) / str(source_file)
        if not isinstance(encoding, str) or not path.suffix.lower() == ".txt" or not path.is_file():
            continue
        text = path.read_bytes().decode(encoding, errors="replace")
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        starts = sorted(
            (int(first), form_id) for form_id, first in zip(forms["form_id"], forms["first_line"]) if pd.notna(first)
        )
        for k, (first, form_id) in enumerate(starts):
            end = starts[k + 1][0] - 1 if k + 1 < len(starts) else len(lines)
            out[str(form_id)] = [(n, lines[n - 1]) for n in range(first, end + 1) if lines[n - 1].strip()]
    return out
