"""Subtitles (``.srt``, ``.vtt``) read as what was said: no cue numbers, timings or markup.

A video's transcript is a common input (``yt-dlp --write-subs``). Read as plain text, its
cue numbers and timestamps became sentences and entities (``000``), and a WebVTT voice tag
(``<v Anchor>``) the first word of a claim. Here a cue's lines, which are one stretch of
speech wrapped for the screen, are joined with spaces, and cues are joined into
paragraphs: a new one starts where the speaker changes (a voice tag, a ``>>`` line), or
after the end of a sentence where the speakers pause or the paragraph has grown long.
YouTube's automatic captions repeat each line in the next cue (a rolling window of two
lines); a line equal to the one read just before it is read once.

Each cue's times go to ``meta["cues"]``: ``{"start", "end", "from", "to"}``, the
character span of its words in the text (as every span) and its times in seconds from
the start, with ``"speaker"`` when a voice tag names one; a claim or a threat found in
the text can so be found in the video.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from narrascope.doc import Document
from narrascope.errors import E_NO_MAIN_TEXT, InputError
from narrascope.ingest.encoding import decode_bytes
from narrascope.ingest.formats import Item, empty, meta

SUFFIXES = (".srt", ".vtt")

# "00:00:01,000 --> 00:00:04,200" (SRT), "00:01.000 --> 00:04.200 align:start" (WebVTT)
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s.*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[A-Za-z0-9][^>]*>|<\d[\d:.]*>")  # <i>, <c.red>, <00:00:01.520>
_ASS_OVERRIDE = re.compile(r"\{\\[^}]*\}")  # {\an8}, {\i1} in SRT from ASS
_NEW_SPEAKER = re.compile(r"^>>+\s*")  # broadcast captions mark a new speaker so
_DIALOGUE_DASH = re.compile(r"^[-‐–—]\s+")
_SENTENCE_END = tuple(".!?…\"”»)]'’")
# A pause this long after the end of a sentence starts a new paragraph; so does the end
# of a sentence once the paragraph holds this many characters.
_PAUSE_S = 2.0
_PARAGRAPH_CHARS = 600


@dataclass(slots=True)
class _Cue:
    begin: float
    until: float
    lines: list[str]


def subtitle_document(
    data: bytes, source: str, doc_id: str, path: str | None, *, threads: bool = True
) -> Item:
    """One document of the subtitles' words, its cues' times in ``meta["cues"]``.
    ``threads`` is taken for the readers' common signature: subtitles hold no comments."""
    warnings: list[str] = []
    try:
        raw = decode_bytes(data, source, warnings)
    except InputError as err:
        return err
    if not raw.strip():
        return empty(source)
    vtt = source.lower().endswith(".vtt")
    cues = _cues(raw.splitlines(), vtt=vtt)
    if not cues:
        return InputError(
            source,
            "no subtitle cue found (no '00:00:01,000 --> 00:00:04,200' line); "
            "if it is plain text, rename it .txt",
            E_NO_MAIN_TEXT,
        )
    text, spans = _joined(cues, vtt=vtt)
    if not text.strip():
        return empty(source)
    doc = Document(text=text, id=doc_id, meta=meta(path))
    doc.meta["cues"] = spans
    if warnings:
        doc.meta["input_warnings"] = warnings
    return doc


def _cues(lines: list[str], *, vtt: bool) -> list[_Cue]:
    """The cues: a timing line and the lines under it, to an empty line.

    Headers, NOTE, STYLE and REGION blocks and cue numbers have no timing line of their
    own, so they are never read. WebVTT ends a cue at an empty line only (YouTube writes
    cues whose first line is one space); SRT at a line of spaces too.
    """
    cues: list[_Cue] = []
    current: _Cue | None = None
    for line in lines:
        timing = _TIMING.match(line)
        if timing is not None:
            if current is not None and current.lines and current.lines[-1].strip().isdigit():
                current.lines.pop()  # an SRT cue number with no blank line before it
            groups = timing.groups()
            current = _Cue(_seconds(*groups[:4]), _seconds(*groups[4:]), [])
            cues.append(current)
        elif current is not None and (line == "" or (not vtt and not line.strip())):
            current = None
        elif current is not None:
            current.lines.append(line)
    return cues


def _seconds(hours: str | None, minutes: str, seconds: str, fraction: str) -> float:
    whole = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    return round(whole + int(fraction.ljust(3, "0")) / 1000, 3)


def _joined(cues: list[_Cue], *, vtt: bool) -> tuple[str, list[dict[str, Any]]]:
    """The cues' words as paragraphs, and each cue's span, times and speaker."""
    pieces: list[str] = []
    spans: list[dict[str, Any]] = []
    position = 0
    paragraph = 0  # characters in the paragraph being written
    previous = ""  # the last line written, to read a rolling caption's repeat once
    speaker: str | None = None
    last_until: float | None = None
    for cue in cues:
        start = None
        named = None  # the speaker this cue's voice tag names
        for raw in cue.lines:
            voice = _VOICE.search(raw)
            line = _clean(raw, vtt=vtt)
            new_speaker = _NEW_SPEAKER.match(line) is not None
            line = _DIALOGUE_DASH.sub("", _NEW_SPEAKER.sub("", line))
            if not line or line == previous:
                continue
            if voice is not None and voice.group(1).strip():
                named = voice.group(1).strip()
                if named != speaker:
                    new_speaker = new_speaker or speaker is not None
                    speaker = named
            ended = previous.endswith(_SENTENCE_END)
            paused = start is None and last_until is not None and cue.begin - last_until >= _PAUSE_S
            if not pieces:
                separator = ""
            elif new_speaker or (ended and (paused or paragraph >= _PARAGRAPH_CHARS)):
                separator = "\n\n"
                paragraph = 0
            else:
                separator = " "
            pieces.append(separator + line)
            if start is None:
                start = position + len(separator)
            position += len(separator) + len(line)
            paragraph += len(separator) + len(line)
            previous = line
        if start is not None:
            span: dict[str, Any] = {
                "start": start,
                "end": position,
                "from": cue.begin,
                "to": cue.until,
            }
            if named is not None:
                span["speaker"] = named
            spans.append(span)
            last_until = cue.until
    return "".join(pieces), spans


def _clean(line: str, *, vtt: bool) -> str:
    """A cue line's words: markup and runs of spaces out; WebVTT's escapes (``&amp;``)
    read after the tags are gone, so that an escaped ``&lt;b&gt;`` stays text."""
    line = _ASS_OVERRIDE.sub("", _TAG.sub("", line))
    return " ".join((html.unescape(line) if vtt else line).split())
