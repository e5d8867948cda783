"""`narrascope discover -o FILE`: an extension that names no format is refused before the
clustering runs, and an existing file of that name is left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

import narrascope.corpus.discover as discover_module
from narrascope.cli import main


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The databases discover_run was called on (it never is when the CLI refuses)."""
    called: list[str] = []

    def fake_run(db: str, **_: object) -> object:
        called.append(db)
        raise AssertionError("the clustering ran before the --out check")

    monkeypatch.setattr(discover_module, "discover_run", fake_run)
    return called


@pytest.mark.parametrize("name", ["clusters.parquet", "clusters.xml"])
def test_an_unknown_out_extension_is_refused_before_clustering(
    tmp_path: Path, runs: list[str], capsys: pytest.CaptureFixture[str], name: str
) -> None:
    out = tmp_path / name
    out.write_text("my earlier notes\n", encoding="utf-8")
    assert main(["discover", "--db", str(tmp_path / "corpus.db"), "-o", str(out)]) == 2
    assert f"no format is written as {out.suffix}" in capsys.readouterr().err
    assert runs == []
    assert out.read_text(encoding="utf-8") == "my earlier notes\n"


def test_a_new_out_with_an_unknown_extension_is_not_created(
    tmp_path: Path, runs: list[str]
) -> None:
    out = tmp_path / "clusters.json"
    assert main(["discover", "--db", str(tmp_path / "corpus.db"), "-o", str(out)]) == 2
    assert runs == [] and not out.exists()
