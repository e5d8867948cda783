"""`eval`/`train` of the hate and claim models given a wrong --data: a coded error naming
what is missing (exit 2), never a traceback, an empty table or a made-up model."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrascope.cli import main


@pytest.mark.parametrize(
    "command",
    [
        ["eval", "hate"],
        ["eval", "claims"],
        ["train", "hate", "--out", "OUT"],
        ["train", "claims", "--out", "OUT"],
    ],
)
def test_a_missing_data_folder_is_e101(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    out = tmp_path / "model"
    argv = [str(out) if part == "OUT" else part for part in command]
    assert main([*argv, "--data", str(tmp_path / "nowhere")]) == 2
    captured = capsys.readouterr()
    assert f"[E101] corpus directory not found: {tmp_path / 'nowhere'}" in captured.err
    assert captured.out == "" and not out.exists()


def test_hate_data_without_its_corpora_names_every_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    told = tmp_path / "told-br"
    told.mkdir()
    (told / "ToLD-BR.csv").write_text("text,homophobia\nBom dia a todos,0\n", encoding="utf-8")
    assert main(["eval", "hate", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "[E101]" in err and "davidson-hate-offensive/data/labeled_data.csv" in err
    assert "ru-distorted-toxicity" in err and "checkthat2022-task1" in err
    assert "told-br/ToLD-BR.csv" not in err  # present: not named


def test_claim_data_without_a_checkthat_folder_or_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "claims", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "[E101]" in err and "checkthat2022-task1" in err and "checkthat2024-task1" in err
    (tmp_path / "checkthat2024-task1").mkdir()  # the folder, but no file of ours in it
    assert main(["train", "claims", "--data", str(tmp_path), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "[E105]" in err and "no labelled row" in err
    assert not (tmp_path / "m").exists()
