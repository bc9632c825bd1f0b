"""The vocabularies: every printed label, word and value set, as data (a leaf: imports nothing of selfeval).

- labels.yaml  printed labels and synonyms -> fields; the indicator taxonomy (labels.py matches them)
- values.yaml  units, comparators, rating words, boilerplate phrases of targets and actuals
- value_sets.py the closed sets of codes the tables may hold (kinds, grades, checks, severities, ...)

Each YAML file is read once, by load(), and every printed label is compared after one
normalisation (labels.norm_label).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

VOCAB_DIR = Path(__file__).resolve().parent


@cache
def load(name: str) -> dict:
    """A vocabulary file of this folder (name without .yaml), parsed once per process."""
    with open(VOCAB_DIR / f"{name}.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)
