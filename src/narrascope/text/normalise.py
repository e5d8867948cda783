"""A view of a text without its invisible format characters, and the way back to its offsets.

Why: a zero-width space, word joiner, soft hyphen or zero-width (non-)joiner put inside a
word ("nu\\u200bke", "wi\\u00adpe") is invisible to a reader, but every regex and tokenizer
sees a word break there: a well-known way to slip a threat past a moderation filter.
Detectors read the view instead; their offsets are mapped back onto the original text,
which is never changed (evidence must slice it exactly), and a span that ends on an
obfuscated word covers the whole of it. A zero-width (non-)joiner next to a Devanagari
virama stays: there it is part of the script (it picks a conjunct's shape), not a trick.

A text without any of these characters (nearly all) costs one regex search and is its own
view; only a text that has them pays for the mapping.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right

# Format characters (Unicode category Cf) that draw nothing: soft hyphen, Mongolian vowel
# separator, zero-width space / non-joiner / joiner, the bidi marks, embeddings and
# isolates, word joiner, the invisible math operators, and the zero-width no-break space
# (the BOM; at the start of a file the readers already drop it).
_FORMAT = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_INVISIBLE = re.compile(f"[{_FORMAT}]+")
_JOINERS = "\u200c\u200d"
_VIRAMA = "\u094d"
# a joiner that touches a virama (the only place it shapes Devanagari)
_VIRAMA_JOINER = re.compile(f"{_VIRAMA}[{_JOINERS}]|[{_JOINERS}]{_VIRAMA}")

Span = tuple[int, int]


class VisibleView:
    """``text`` (the view: ``original`` without its invisible format characters) and the
    map from its offsets back to ``original``'s.

    The map is kept as the removed runs only: for each, where it sat in the view and how
    many characters had been removed up to and including it, so a lookup is one bisect.
    """

    __slots__ = ("_at", "_shift", "original", "removed", "text")

    def __init__(self, original: str) -> None:
        self.original = original
        self.removed: list[Span] = []  # (start, end) in ``original`` of each removed run
        if _INVISIBLE.search(original):
            self.removed = _removed_runs(original)
        self._at: list[int] = []  # where each removed run sat in the view
        self._shift: list[int] = []  # characters removed up to and including that run
        kept, cursor, gone = [], 0, 0
        for start, end in self.removed:
            kept.append(original[cursor:start])
            self._at.append(start - gone)
            gone += end - start
            self._shift.append(gone)
            cursor = end
        self.text = "".join([*kept, original[cursor:]]) if self.removed else original

    @property
    def changed(self) -> bool:
        """Whether the view differs from the original (offsets need mapping)."""
        return bool(self.removed)

    def char(self, i: int) -> int:
        """The offset in ``original`` of the view's character ``i``."""
        k = bisect_right(self._at, i)
        return i + self._shift[k - 1] if k else i

    def span(self, start: int, end: int) -> Span:
        """A view span as a span of ``original``: from its first character to just after its
        last, so invisible characters inside it are covered and those around it are not."""
        if not self.removed:
            return start, end
        if end <= start:
            at = self.char(start)
            return at, at
        return self.char(start), self.char(end - 1) + 1


def _removed_runs(text: str) -> list[Span]:
    """``(start, end)`` of the runs of invisible characters that the view drops: all of
    them but a joiner next to a Devanagari virama (a half form, क्\\u200dष, or an eyelash
    ra, र\\u200d्); a joiner between two full Devanagari letters shapes nothing and goes."""
    runs: list[Span] = []
    for m in _INVISIBLE.finditer(text):
        start, end = m.span()
        if not _VIRAMA_JOINER.search(text, max(start - 1, 0), end + 1):
            runs.append((start, end))
            continue
        run_start = None
        for i in range(start, end):  # a few characters: a kept joiner splits the run
            before = text[i - 1 : i] if i == start else ""
            after = text[end : end + 1] if i == end - 1 else ""
            kept = text[i] in _JOINERS and _VIRAMA in (before, after)
            if kept and run_start is not None:
                runs.append((run_start, i))
                run_start = None
            elif not kept and run_start is None:
                run_start = i
        if run_start is not None:
            runs.append((run_start, end))
    return runs


def visible_text(text: str) -> str:
    """``text`` without its invisible format characters, for a reading that needs no
    offsets (does it name a group? how abusive does it look?)."""
    return VisibleView(text).text if _INVISIBLE.search(text) else text


def _in_word(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def hides_inside_words(text: str) -> bool:
    """Whether ``text`` holds an invisible character the view drops between two
    characters of one word ("nu\\u200bke"): a sign that someone tried to slip its words
    past a filter."""
    if not _INVISIBLE.search(text):
        return False
    return any(
        start > 0 and end < len(text) and _in_word(text[start - 1]) and _in_word(text[end])
        for start, end in _removed_runs(text)
    )
