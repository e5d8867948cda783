"""WhatsApp chat exports ("Export chat", without media): one document per message.

Why: in India and Brazil, and in many diaspora communities, war rumours and debunked
claims travel in WhatsApp groups, and tiplines hand fact-checkers exactly this file. Read
as one text, a chat of 5,000 messages was a single "article" whose claims, hate and
debunk matches could not be told apart, nor placed in time. Each message here is a
document with its sender (``author``), its time (``date``) and the chat (``source``: the
file's name, which WhatsApp sets to "WhatsApp Chat with GROUP"), so the timeline, the
debunk matcher's dates and the campaign view read it as they read Telegram posts.
The chat's language (lingua over its longer messages) goes to each message as
``chat_language``: "ok" has none of its own, and the language stage reads it in the
chat's.

The two layouts WhatsApp writes, with the phone's date order and 12- or 24-hour clock:

* Android: ``23/03/2024, 14:35 - Name: text``
* iOS: ``[23/03/2024, 14:35:12] Name: text``

A message goes on over the following lines until the next one starts. Lines without a
sender (WhatsApp's notices: encryption, someone added; iOS writes its notices under the
chat's name, marked with a left-to-right mark) and media placeholders are not messages.
The date order (day or month first) is read off the whole file: a first number over 12
means day first, a second one month first; when no date tells, day first (most
locales), with a warning on each document. Times are the phone's local time, as
written (the export does not say its zone).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from narrascope.doc import Document
from narrascope.errors import E_EMPTY, InputError

_STAMP = (
    r"(\d{1,2})([./-])(\d{1,2})\2(\d{2,4}),?\s+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?"
    r"(?:\s*([AaPp])\.?\s?[Mm]\.?)?"
)
_ANDROID = re.compile(rf"\u200e?{_STAMP}\s+[-–]\s+(.*)")
_IOS = re.compile(rf"\u200e?\[{_STAMP}\]\s+(.*)")
_PLACEHOLDER = re.compile(
    r"<[^<>]{1,80}>|(?:image|video|audio|sticker|document|GIF|Contact card) omitted"
    r"|This message was deleted\.?|You deleted this message\.?|null",
    re.IGNORECASE,
)
SNIFF_LINES = 10  # a chat's first lines are messages or its notices
CHAT_SURE = 0.5  # lingua less sure than this of a chat's messages: no chat language


@dataclass(slots=True)
class _Message:
    line: int
    stamp: tuple[int, int, int, int, int, int, str | None]  # a, b, year, h, m, s, am/pm
    author: str
    text: str


def _start(line: str) -> re.Match[str] | None:
    return _ANDROID.fullmatch(line) or _IOS.fullmatch(line)


def looks_like_whatsapp(head: str) -> bool:
    """Whether a text opens as a WhatsApp export: its first line and most of its first
    non-blank lines start with a message stamp."""
    lines = [line for line in head.lstrip("\ufeff").splitlines() if line.strip()][:SNIFF_LINES]
    if not lines or _start(lines[0]) is None:
        return False
    return sum(_start(line) is not None for line in lines) * 2 > len(lines)


def whatsapp_documents(
    text: str, label: str, path: str | None, *, max_bytes: int
) -> Iterator[Document | InputError]:
    """One document per message of the chat export ``text`` (read from ``label``)."""
    from narrascope.ingest.formats import meta, too_large

    messages = list(_messages(text))
    if not messages:
        yield InputError(label, "the WhatsApp export holds no message with text", E_EMPTY)
        return
    day_first, told = _date_order(messages)
    chat = PurePath(label).stem
    name = PurePath(label).name
    language = chat_language(messages)
    for message in messages:
        where = f"{label}:{message.line}"
        size = len(message.text.encode("utf-8"))
        if size > max_bytes:
            yield too_large(where, size, max_bytes, what="message")
            continue
        when = _date(message.stamp, day_first)
        doc = Document(
            text=message.text, id=f"{name}:{message.line}", meta=meta(path, chat, None, when)
        )
        doc.meta["author"] = message.author
        if language:
            doc.meta["chat_language"] = language
        if not told:
            doc.meta["input_warnings"] = [
                "no date in the chat tells day from month: read day first (DD/MM)"
            ]
        yield doc


def chat_language(messages: list[_Message], sample: int = 2000) -> str | None:
    """The language most of the chat is written in (lingua over its first ``sample``
    characters of messages of 12 or more), or None when lingua is unsure of it."""
    from narrascope.text import detect_language

    texts: list[str] = []
    size = 0
    for message in messages:
        if len(message.text) >= 12:
            texts.append(message.text)
            size += len(message.text)
            if size >= sample:
                break
    code, confidence = detect_language("\n".join(texts))
    return code if confidence >= CHAT_SURE else None


def _messages(text: str) -> Iterator[_Message]:
    current: _Message | None = None
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        found = _start(line)
        if found is None:
            if current is not None:
                current.text += "\n" + line
            continue
        if current is not None and (kept := _kept(current)) is not None:
            yield kept
        current = None
        a, _, b, year, hour, minute, second, half, rest = found.groups()
        author, colon, body = rest.partition(": ")
        if not colon or body.startswith("\u200e"):  # WhatsApp's own notice (iOS marks
            continue  # its notices and media with a left-to-right mark, under the chat's name)
        stamp = (int(a), int(b), int(year), int(hour), int(minute), int(second or 0), half)
        current = _Message(number, stamp, author.strip("\u200e ~"), body)
    if current is not None and (kept := _kept(current)) is not None:
        yield kept


def _kept(message: _Message) -> _Message | None:
    """The message with its text trimmed, or None when it holds none (media, deleted)."""
    text = message.text.replace("\u200e", "").strip()
    if not text or _PLACEHOLDER.fullmatch(text):
        return None
    message.text = text
    return message


def _date_order(messages: list[_Message]) -> tuple[bool, bool]:
    """(day first, whether a date told it)."""
    if any(m.stamp[0] > 12 for m in messages):
        return True, True
    if any(m.stamp[1] > 12 for m in messages):
        return False, True
    return True, False


def _date(stamp: tuple[int, int, int, int, int, int, str | None], day_first: bool) -> str | None:
    a, b, year, hour, minute, second, half = stamp
    day, month = (a, b) if day_first else (b, a)
    if year < 100:
        year += 2000
    if half is not None:
        hour = hour % 12 + (12 if half in "Pp" else 0)
    try:
        return datetime(year, month, day, hour, minute, second).isoformat()
    except ValueError:  # 31/02, 25:00: the stamp as written tells nothing sure
        return None
