"""Showing untrusted text to a person without letting it rearrange what is around it.

Bidirectional control characters (U+202E RIGHT-TO-LEFT OVERRIDE and its kin) change the
order in which the characters *after* them are drawn: an id ``rtl-\\u202eabc`` reads
"rtl-cba", a source name can flip the rest of its line. In identifiers and labels —
ids, titles, sources, entity names — they have no honest use, so displays show them as
visible placeholders (``⟨U+202E⟩``). Running document text keeps them (right-to-left
writing needs the marks) but is isolated by the caller. Only displays use this: the data
written to JSONL, CSV and the database keeps every character as it came.
"""

from __future__ import annotations

import re

# Embeddings, overrides and their terminator (U+202A-U+202E), isolates (U+2066-U+2069),
# and the marks: left-to-right, right-to-left, Arabic letter (U+200E, U+200F, U+061C).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
# Those that reorder strong letters, not only the neutral characters next to them.
_REORDERING = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _placeholder(match: re.Match[str]) -> str:
    return f"⟨U+{ord(match.group()):04X}⟩"


def visible_bidi(text: str) -> str:
    """``text`` with every bidi control character replaced by ``⟨U+XXXX⟩``.

    For short identifying strings (ids, titles, sources, names, labels).
    """
    return _BIDI.sub(_placeholder, text)


def visible_reordering(text: str) -> str:
    """``text`` with the embedding, override and isolate controls made visible, the
    marks kept: for running text shown where it cannot be isolated (a terminal line),
    since right-to-left prose uses the marks and they move only neutral characters."""
    return _REORDERING.sub(_placeholder, text)
