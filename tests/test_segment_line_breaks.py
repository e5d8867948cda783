"""Lines and paragraphs are cut at ``\\n``, ``\\r\\n`` and a bare ``\\r`` (classic Mac
files), so SemEval line numbers and paragraphs do not depend on the line ending; offsets
stay those of the text as given; a sentence never ends between a letter and its accent
(texts written for these tests)."""

from __future__ import annotations

import unicodedata

import pytest

from narrascope.doc import Document
from narrascope.export.semeval import technique_lines
from narrascope.text.segment import segment, split_paragraphs, split_sentences

LINES = [
    "Western elites are destroying our nation",
    "",
    "The traitors sold the country, and only fools believe them.",
    "Everyone knows the war was provoked, there is no other explanation.",
    "We must stand together now.",
]
LF = "\n".join(LINES) + "\n"
CR = "\r".join(LINES) + "\r"
CRLF = "\r\n".join(LINES) + "\r\n"
# CRLF after the title and the blank line, a bare CR, then LF
MIXED = f"{LINES[0]}\r\n\r\n{LINES[2]}\r{LINES[3]}\n{LINES[4]}\n"


def _paragraphs(text: str) -> list[tuple[int, str]]:
    return [(line, text[start:end]) for line, start, end in split_paragraphs(text)]


@pytest.mark.parametrize("text", [CR, CRLF, MIXED], ids=["cr", "crlf", "mixed"])
def test_every_line_ending_numbers_lines_as_lf_does(text):
    want = [(1, LINES[0]), (3, LINES[2]), (4, LINES[3]), (5, LINES[4])]
    assert _paragraphs(LF) == want
    assert _paragraphs(text) == want  # offsets into the text as given: slices match


def test_a_cr_file_gets_its_paragraphs_sentences_and_semeval_lines():
    doc = segment(Document(text=CR, id="article900001"))
    assert [p.line for p in doc.paragraphs] == [1, 3, 4, 5]
    assert [p.text for p in doc.paragraphs] == [LINES[0], LINES[2], LINES[3], LINES[4]]
    assert all(CR[p.start : p.end] == p.text for p in doc.paragraphs)
    assert [CR[s:e] for s, e in split_sentences(CR)] == [LINES[0], *LINES[2:]]
    record = {"id": "article900001", "text": MIXED, "techniques": []}
    assert [line.split("\t")[1] for line in technique_lines(record)] == ["1", "3", "4", "5"]


def test_blank_and_whitespace_lines_keep_their_numbers():
    text = "title\r \r\t\rbody  \r"
    assert _paragraphs(text) == [(1, "title"), (4, "body")]
    assert split_paragraphs("") == []


def test_a_blind_cut_of_a_long_run_never_leaves_an_accent_behind():
    # 1201 characters without a space: the cut at 1000 falls on a U+0303 of "ã" (NFD)
    text = "x" + "a\u0303" * 600
    spans = split_sentences(text)
    assert len(spans) == 2 and spans[0][0] == 0 and spans[-1][1] == len(text)
    for _, end in spans[:-1]:
        assert not unicodedata.combining(text[end])  # the next piece starts on a letter
    assert "".join(text[s:e] for s, e in spans) == text
