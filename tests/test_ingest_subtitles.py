"""Subtitles (.srt, .vtt) read as what was said, and unknown extensions said to be guessed."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from narrascope import Document
from narrascope.errors import InputError
from narrascope.ingest import ReadOptions, read_inputs
from narrascope.ingest.encoding import E_NO_MAIN_TEXT

SRT = """1
00:00:01,000 --> 00:00:04,200
The minister said Russian troops
shelled Kharkiv overnight.

2
00:00:04,500 --> 00:00:08,000
At least 12 civilians were killed,
according to the regional governor.

3
00:00:11,300 --> 00:00:13,900
<i>Moscow denied</i> targeting residential areas.
"""

VTT = """WEBVTT
Kind: captions
Language: en

STYLE
::cue { color: yellow }

NOTE recorded for the evening bulletin

intro
00:00:01.000 --> 00:00:04.200 align:start position:0%
<v Anchor>The minister said Russian troops shelled Kharkiv overnight.

00:00:04.500 --> 00:00:06.000
<v Anchor>Dnipro &amp; Odesa were hit too.

00:00:06.100 --> 00:00:09.000
<v.loud Reporter>We saw <c.red>three</c> craters near the station.
"""

# YouTube's automatic captions: each cue repeats the line before it (a rolling window),
# words carry their own times, and a cue may start with a line of one space.
YOUTUBE = "\n".join(
    [
        "WEBVTT",
        "Kind: captions",
        "Language: en",
        "",
        "00:00:00.000 --> 00:00:02.350 align:start position:0%",
        " ",
        "sanctions<00:00:00.320><c> are</c><00:00:00.640><c> working</c>",
        "",
        "00:00:02.350 --> 00:00:02.360 align:start position:0%",
        "sanctions are working",
        " ",
        "",
        "00:00:02.360 --> 00:00:05.000 align:start position:0%",
        "sanctions are working",
        "said<00:00:02.600><c> the</c><00:00:02.900><c> minister</c>",
        "",
    ]
)


def read_all(*inputs: str | Path, **options: object) -> list[Document | InputError]:
    return list(read_inputs(list(inputs), ReadOptions(**options)))  # type: ignore[arg-type]


def only_doc(items: list[Document | InputError]) -> Document:
    assert len(items) == 1 and isinstance(items[0], Document), items
    return items[0]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def cue_texts(doc: Document) -> list[str]:
    return [doc.text[cue["start"] : cue["end"]] for cue in doc.meta["cues"]]


def test_srt_cue_numbers_and_timings_are_dropped(tmp_path: Path) -> None:
    doc = only_doc(read_all(write(tmp_path, "interview.srt", SRT)))
    assert doc.text == (
        "The minister said Russian troops shelled Kharkiv overnight. At least 12 civilians "
        "were killed, according to the regional governor.\n\n"  # a pause of 3.3 s
        "Moscow denied targeting residential areas."
    )
    assert cue_texts(doc) == [
        "The minister said Russian troops shelled Kharkiv overnight.",
        "At least 12 civilians were killed, according to the regional governor.",
        "Moscow denied targeting residential areas.",
    ]
    assert [(cue["from"], cue["to"]) for cue in doc.meta["cues"]] == [
        (1.0, 4.2),
        (4.5, 8.0),
        (11.3, 13.9),
    ]
    assert "input_warnings" not in doc.meta


def test_vtt_headers_notes_tags_and_speakers(tmp_path: Path) -> None:
    doc = only_doc(read_all(write(tmp_path, "bulletin.vtt", VTT)))
    assert doc.text == (
        "The minister said Russian troops shelled Kharkiv overnight. Dnipro & Odesa were hit "
        "too.\n\nWe saw three craters near the station."  # a new speaker, a new paragraph
    )
    assert [cue.get("speaker") for cue in doc.meta["cues"]] == ["Anchor", "Anchor", "Reporter"]
    assert cue_texts(doc)[2] == "We saw three craters near the station."


def test_youtube_rolling_captions_are_read_once(tmp_path: Path) -> None:
    doc = only_doc(read_all(write(tmp_path, "talk.en.vtt", YOUTUBE)))
    assert doc.text == "sanctions are working said the minister"
    assert cue_texts(doc) == ["sanctions are working", "said the minister"]
    assert [cue["from"] for cue in doc.meta["cues"]] == [0.0, 2.36]


def test_a_subtitle_file_without_cues_is_one_bad_input(tmp_path: Path) -> None:
    notes = write(tmp_path, "notes.srt", "Just some notes, no timings here.\n")
    good = write(tmp_path, "interview.srt", SRT)
    first, second = read_all(notes, good)
    assert isinstance(first, InputError) and first.code == E_NO_MAIN_TEXT
    assert "no subtitle cue found" in first.reason
    assert isinstance(second, Document)


def test_decomposed_subtitles_keep_their_cue_spans(tmp_path: Path) -> None:
    srt = (
        "1\n00:00:01,000 --> 00:00:02,000\nЇжак пішов.\n\n"
        "2\n00:00:02,100 --> 00:00:03,000\nЙорж теж.\n"
    )
    doc = only_doc(read_all(write(tmp_path, "nfd.srt", unicodedata.normalize("NFD", srt))))
    assert doc.text == "Їжак пішов. Йорж теж."
    assert cue_texts(doc) == ["Їжак пішов.", "Йорж теж."]


def test_an_unknown_extension_is_read_as_text_with_a_warning(tmp_path: Path) -> None:
    text = "Kyiv was shelled overnight, officials said."
    guessed = only_doc(read_all(write(tmp_path, "transcript.sbv", text)))
    assert guessed.text == text
    assert guessed.meta["input_warnings"] == [
        "unknown file extension '.sbv': read as plain text (choose the format with --input-format)"
    ]
    for name in ("article900001", "note.txt", "note.md"):
        assert "input_warnings" not in only_doc(read_all(write(tmp_path, name, text))).meta


def test_input_format_forces_subtitles_whatever_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "clip.txt"
    path.write_text(SRT, encoding="utf-8")
    docs = list(read_inputs([path], ReadOptions(input_format="subtitles")))
    assert "00:00" not in docs[0].text and docs[0].text.startswith("The minister said")
    assert [c["from"] for c in docs[0].meta["cues"]] == [1.0, 4.5, 11.3]
