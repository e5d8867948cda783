"""``semeval-narratives`` and the official SemEval-2025 subtask-2 scorer, which pairs
prediction and gold lines by position: the documented recipe puts narrascope's lines
(reading order) into the gold file's order, and the warning is where users look."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from narrascope.export import semeval

ROOT = Path(__file__).resolve().parents[1]
DISCREDIT = "URW: Discrediting Ukraine"
BLAME = "URW: Blaming the war on others rather than the invader"


def recipe() -> str:
    """The shell command the export's docstring gives, its line continuation joined."""
    found = re.search(r"^\s+(awk .*?gold\.txt > \S+)$", semeval.__doc__ or "", re.M | re.S)
    assert found, "the docstring must say how to order the lines for the scorer"
    return found.group(1).replace("\\\n", " ")


def test_the_export_and_readme_warn_that_the_scorer_pairs_lines_by_position() -> None:
    assert "pairs prediction and\ngold lines by their position" in (semeval.__doc__ or "")
    readme = (ROOT / "README.md").read_text("utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `semeval-narratives`"))
    assert "Reorder it like the gold or template file" in row
    assert "**Scoring `semeval-narratives` with the official scorer.**" in readme


@pytest.mark.skipif(shutil.which("awk") is None, reason="no awk on this machine")
def test_the_documented_recipe_orders_predictions_like_the_gold_file(tmp_path: Path) -> None:
    records = [
        {"id": "EN_10.txt", "narratives": [{"label": DISCREDIT}], "subnarratives": []},
        {"id": "EN_2.txt", "narratives": [{"label": "Other"}], "subnarratives": []},
        {"id": "EN_33.txt", "narratives": [{"label": BLAME}], "subnarratives": []},
    ]
    fh = io.StringIO()
    semeval.write(records, fh)  # reading order: a folder's files sorted by name
    (tmp_path / "predictions.txt").write_text(fh.getvalue(), encoding="utf-8")
    gold = "EN_33.txt\tx\ty\nEN_10.txt\tx\ty\nEN_2.txt\tx\ty\n"  # the release's own order
    (tmp_path / "gold.txt").write_text(gold, encoding="utf-8")
    subprocess.run(["sh", "-c", recipe()], cwd=tmp_path, check=True, timeout=60)
    ordered = (tmp_path / "predictions.ordered.txt").read_text("utf-8").splitlines()
    assert [line.split("\t")[0] for line in ordered] == ["EN_33.txt", "EN_10.txt", "EN_2.txt"]
    assert sorted(ordered) == sorted(fh.getvalue().splitlines())  # every line, unchanged
