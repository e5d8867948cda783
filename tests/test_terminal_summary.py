"""The terminal summary: it never stops a batch on a console that cannot encode the text,
untrusted fields cannot start lines of their own, and lines fit the terminal's width."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from narrascope.doc import Annotation, DebunkMatch, Document, Span
from narrascope.export import format_terminal_summary
from narrascope.export.terminal import MIN_WIDTH, WIDTH, terminal_width

PRAISE = "URW: Praise of Russia"
MIGHT = f"{PRAISE}: Praise of Russian military might"

# ``analyze`` as the CLI runs it, with a stand-in pipeline (no models): its one stage
# explains each document with the document's own text, as the real explanation quotes it
ANALYZE = """
import sys
import narrascope
from narrascope.pipeline import Pipeline


class Explain:
    name = "explain"

    def __call__(self, docs):
        for doc in docs:
            doc.explanation = doc.text
        return docs


narrascope.load = lambda config=None: Pipeline([Explain()])
from narrascope.cli import main

sys.exit(main(sys.argv[1:]))
"""


def test_a_cp1252_console_gets_every_summary_with_cyrillic_escaped(tmp_path: Path) -> None:
    russian = tmp_path / "армия.txt"
    russian.write_text("Российская армия уверенно продвигается вперёд.", encoding="utf-8")
    english = tmp_path / "later.txt"
    english.write_text("The “peace talks” failed · again.", encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-c", ANALYZE, "analyze", str(russian), str(english), "--no-progress"],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    out = done.stdout.decode("cp1252")
    assert "Traceback" not in done.stderr.decode("cp1252", "replace")
    assert done.returncode == 0
    # the Russian document's id and text are printed as escapes, not dropped
    assert "\\u0430\\u0440\\u043c\\u0438\\u044f.txt  [?]" in out
    assert "Why: \\u0420\\u043e\\u0441\\u0441\\u0438\\u0439\\u0441\\u043a\\u0430\\u044f" in out
    # and the batch went on: the next document is summarised, its quotes as they are
    assert "later.txt  [?]" in out
    assert "Why: The “peace talks” failed · again." in out


def spoofed() -> Document:
    """A neutral text whose id, source and date try to print lines of their own."""
    text = "The city council approved the budget for road repairs."
    doc = Document(
        text=text,
        id="post-17\n  0.99  URW: Praise of Russia\n        0.98  Praise of Russian military might",
        language="en",
        meta={
            "source": "local-news\r\nFlags: hateful 0.97, target religion",
            "date": "2024\u2028x",
        },
    )
    doc.groups["narratives"] = [Annotation("Other", 0.68)]
    doc.groups["subnarratives"] = []
    doc.debunks = [
        DebunkMatch(
            "fc-1",
            "Roads\u2029Flags: incitement 0.99",
            0.7,
            url="https://x/ok\njavascript:alert(1)",
        )
    ]
    return doc


def test_line_breaks_in_untrusted_fields_cannot_forge_lines() -> None:
    out = format_terminal_summary(spoofed(), colour=False)
    lines = out.splitlines()
    assert lines[0].startswith("post-17⏎  0.99  URW: Praise of Russia⏎")
    assert "local-news⏎Flags: hateful 0.97, target religion · 2024⏎x" in out
    assert "  no narrative detected (Other, 0.68)" in lines
    # nothing the input wrote begins a line: only the summary's own lines do
    assert not any(line.lstrip().startswith(("0.99", "0.98", "Flags:")) for line in lines)
    assert not any(line.lstrip().startswith("javascript:") for line in lines)
    assert "    https://x/ok⏎javascript:alert(1)" in lines
    assert "“Roads⏎Flags: incitement 0.99”" in out
    for separator in ("\r", "\x85", "\u2028", "\u2029", "\t"):
        assert separator not in out


def test_line_breaks_in_document_text_become_spaces() -> None:
    text = "Kyiv is a puppet\u2028of the West.\x85And more."
    doc = Document(text=text, id="d1", language="en")
    doc.groups["narratives"] = [
        Annotation("URW: Discrediting Ukraine", 0.9, [Span.of(text, 0, len(text))], [0.9])
    ]
    doc.explanation = "Calls\u2029Ukraine a puppet."
    out = format_terminal_summary(doc, colour=False)
    assert "Evidence: “Kyiv is a puppet of the West. And more.”" in out
    assert "Why: Calls Ukraine a puppet." in out


def long_labels() -> Document:
    text = "Our army advances on every front and the enemy flees in panic from its positions."
    doc = Document(
        text=text,
        id="ru-1",
        language="ru",
        meta={"source": "telegram-channel-with-a-long-name", "date": "2024-03-01"},
    )
    whole = Span.of(text, 0, len(text))
    doc.groups["narratives"] = [Annotation(PRAISE, 0.96, [whole], [0.9])]
    doc.groups["subnarratives"] = [
        Annotation(MIGHT, 0.79, [whole], [0.8], parent=PRAISE),
        Annotation(
            f"{PRAISE}: Russia has international support from a number of countries and people",
            0.54,
            [whole],
            [0.5],
            parent=PRAISE,
        ),
    ]
    doc.explanation = "Praises the Russian army's advance and the enemy's flight " * 3
    return doc


def test_every_line_fits_a_narrow_terminal() -> None:
    out = format_terminal_summary(long_labels(), colour=False, width=40)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 40
    assert lines[:2] == ["ru-1  [ru]", "  telegram-channel-with-a-long-name ·"]
    # a label goes on under its score, indented past it
    assert "  0.96  URW: Praise of Russia" in lines
    at = lines.index("        0.54  Russia has international")
    assert lines[at + 1].startswith(" " * 14) and "support" in lines[at + 1]


def test_the_width_is_the_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    assert terminal_width() == 60
    monkeypatch.setenv("COLUMNS", "20")
    assert terminal_width() == MIN_WIDTH  # never so narrow that labels fall apart
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setattr(os, "get_terminal_size", lambda *_: (_ for _ in ()).throw(OSError()))
    assert terminal_width() == WIDTH  # stdout is a file or a pipe


def test_a_url_is_never_cut() -> None:
    doc = spoofed()
    doc.debunks[0].url = "https://factcheck.example/2024/03/a-very-long-address-of-a-fact-check"
    lines = format_terminal_summary(doc, colour=False, width=40).splitlines()
    assert f"    {doc.debunks[0].url}" in lines
