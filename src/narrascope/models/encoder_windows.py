"""What the fine-tuned encoder reads for one entity mention: a short window around it.

Why a window and markers: who does what to whom is said in the words around a name, and
the reader must know which name is meant when a window holds several. The mention is
wrapped in `` << … >> `` (each an existing sentencepiece piece, so the vocabulary stays as
shipped) and the window is centred on it. Why a prefix: a window alone does not carry the
author's stance (an admiring sentence about Putin reads like any other), so the prefix
names the document's most probable narratives and its title.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from narrascope.taxonomy import OTHER
from narrascope.text.sides import entity_side

Span = tuple[int, int]
_SIDE_NAMES = {"russia": "Russia's", "ukraine": "Ukraine's", "west": "the West's"}


@dataclass(frozen=True)
class WindowSettings:
    """How windows are cut; saved with the model so inference cuts them the same way."""

    size: int = 160  # tokens, <s> and </s> included
    title_tokens: int = 24
    stance: int = 2  # how many narratives the prefix names (0: none)
    stance_min: float = 0.2  # ... each with at least this probability
    prefix: str = "query: "
    sides: bool = False  # name the mention's side of the war (``text.sides``) in the prefix


@dataclass(frozen=True)
class MentionWindow:
    """Token ids of one window (``<s>`` … ``</s>``), the ``<<`` marker's index and the
    mention's token range ``[start, end)``."""

    ids: tuple[int, ...]
    marker: int
    mention: Span


def stance_text(narratives: dict[str, float] | None, settings: WindowSettings | None = None) -> str:
    """The narratives a prefix names: the most probable coarse ones (``A: B`` labels
    below them are skipped), most probable first."""
    s = settings or WindowSettings()
    if not narratives or s.stance <= 0:
        return ""
    coarse = [
        (p, label)
        for label, p in narratives.items()
        if label != OTHER and label.count(": ") == 1 and p >= s.stance_min
    ]
    coarse.sort(key=lambda x: (-x[0], x[1]))
    return "; ".join(label for _, label in coarse[: s.stance])


def _title(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _clip_tokens(tokenizer: Any, text: str, n: int) -> str:
    if n <= 0 or not text:
        return ""
    enc = tokenizer.encode(text, add_special_tokens=False)
    if len(enc.ids) <= n:
        return text
    return text[: enc.offsets[n - 1][1]]


def mention_windows(
    tokenizer: Any,
    text: str,
    spans: Sequence[Span],
    stance: str,
    settings: WindowSettings | None = None,
    *,
    bos: int = 0,
    eos: int = 2,
) -> list[MentionWindow]:
    """One window per span of ``text``: ``prefix + [stance |] title | left << mention >> right``,
    at most ``settings.size`` tokens, the context split evenly around the mention."""
    s = settings or WindowSettings()
    enc = tokenizer.encode(text, add_special_tokens=False)
    offsets = enc.offsets
    title = _clip_tokens(tokenizer, _title(text), s.title_tokens) + " |"
    heads: dict[str | None, tuple[str, int]] = {}
    starts, ends = [a for a, _ in offsets], [b for _, b in offsets]
    out: list[MentionWindow] = []
    for start, end in spans:
        side = entity_side(text[start:end]) if s.sides else None
        if side not in heads:
            words = s.prefix + (f"{stance} | " if stance else "")
            words += f"{_SIDE_NAMES[side]} side | " if side else ""
            ids = tokenizer.encode(words + title, add_special_tokens=False).ids
            heads[side] = (words + title, len(ids))
        head, head_tokens = heads[side]
        # the tokens overlapping the mention (offsets are in text order): [first, last)
        first = bisect_right(ends, start)
        last = max(first, bisect_left(starts, end))
        budget = max(0, s.size - 2 - head_tokens - 2 - (last - first) - 4)
        left = min(first, budget // 2)
        right = min(len(offsets) - last, budget - left)
        left = min(first, budget - right)
        a = offsets[first - left][0] if left else start
        b = offsets[last + right - 1][1] if right else end
        before, mention, after = text[a:start], text[start:end], text[end:b]
        window = f"{head} {before} << {mention} >> {after}"
        marker_at = len(f"{head} {before} ")
        m_start = marker_at + 3
        m_end = m_start + len(mention)
        w = tokenizer.encode(window, add_special_tokens=False)
        ids = list(w.ids[: s.size - 2])
        woff = w.offsets[: s.size - 2]
        marker = next((i for i, (x, y) in enumerate(woff) if x <= marker_at < y), 0)
        tokens = [i for i, (x, y) in enumerate(woff) if x < m_end and y > m_start]
        span = (tokens[0] + 1, tokens[-1] + 2) if tokens else (marker + 1, marker + 2)
        out.append(MentionWindow((bos, *ids, eos), marker + 1, span))
    return out
