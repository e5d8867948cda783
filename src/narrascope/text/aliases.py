"""Group a document's mentions of one entity: Putin, Vladimir Putin's, Путина → one entity.

Each mention gets a key: words without quotes, possessives or a leading article, Slavic
case endings stripped (natasha's lemmas for Russian when present, a light suffix stripper
otherwise), transliterated to ASCII with anyascii so that Cyrillic and Latin spellings meet.
Mentions join when their keys are equal (across scripts: nearly equal, since
transliterations differ by a letter), when one is the surname of a full name, when one
is the acronym of the other (EU ↔ European Union), or when one is the country whose
official name is the other (Russia ↔ the Russian Federation). Only one document is
grouped at a time, so "Biden" is left alone when both Joe and Hunter Biden are named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import regex
from anyascii import anyascii
from rapidfuzz import process
from rapidfuzz.fuzz import ratio

_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_POSSESSIVE = regex.compile(r"(?<=\p{L})['’]s?$|(?<=\p{L})['’]s(?=\s)", regex.IGNORECASE)
_QUOTES = "\"'«»“”„‘’`()[]"
_ARTICLES = frozenset({"the", "a", "an", "o", "os", "as"})  # a leading article never names
# Slavic case endings and Bulgarian articles, longest first. Stripped at most twice
# (Русията → Русия → Рус), only from words of 4+ letters, keeping a stem of 3+.
_SLAVIC_ENDINGS = tuple(
    sorted(
        """ого его ому ему ыми ими ами ями ата ята ът ят та то те ой ей ий ый ая яя ое ее ую юю
        ом ем ам ям ах ях ым им ов ев ою ею ию ия ии ие ья ье ьи ью ої ій ія а я у ю е ы и о ь
        і ї є""".split(),
        key=len,
        reverse=True,
    )
)
_CROSS_SCRIPT_MIN = 85  # rapidfuzz ratio for one word spelled in two scripts
_PERSONISH = frozenset({"PER", "ENT", ""})


class MentionLike(Protocol):
    """What grouping reads: a mention's text, and optionally its kind and lemma."""

    @property
    def text(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _Key:
    words: tuple[str, ...]  # ASCII keys of the words
    scripts: tuple[str, ...]  # each word's script ("lat", "cyr", "dev", "other")
    initials: frozenset[str]  # acronyms this name could be shortened to
    acronym: str  # the mention itself as an acronym (EU, САЩ→SASHch), or ""
    kind: str


def _script(word: str) -> str:
    for ch in word:
        if ch.isalpha():
            if "\u0400" <= ch <= "\u04ff":
                return "cyr"
            if "\u0900" <= ch <= "\u097f":
                return "dev"
            return "lat" if ch.isascii() or "\u00c0" <= ch <= "\u024f" else "other"
    return "other"


def strip_slavic(word: str) -> str:
    """Remove up to two case endings/articles: Путина → Путин, Западът → Запад."""
    if len(word) < 4 or word.isupper():
        return word
    for _ in range(2):
        low = word.lower()
        for ending in _SLAVIC_ENDINGS:
            if low.endswith(ending) and len(word) - len(ending) >= 3:
                word = word[: -len(ending)]
                break
        else:
            break
    return word


def clean_name(text: str) -> str:
    """The name as a reader wants it: no quotes, possessive or leading article."""
    name = " ".join(text.split()).strip(_QUOTES + " .,;:!?")
    name = _POSSESSIVE.sub("", name).strip(_QUOTES + " ")
    first, _, rest = name.partition(" ")
    if rest and first.lower() in _ARTICLES and first.lower() == first:
        name = rest
    return name


def is_name(text: str) -> bool:
    """Whether a detected span can name anything: detectors also return a bare article
    ("The" at a sentence start) or one stray letter, which no reader wants listed."""
    name = clean_name(text)
    marks = regex.findall(r"[\p{L}\p{M}\p{N}]", name)  # G7 and F-16 are names
    return len(marks) >= 2 and name.lower() not in _ARTICLES


def _key(mention: MentionLike) -> _Key:
    lemma = getattr(mention, "lemma", "") or ""
    name = clean_name(lemma or mention.text)
    words = _WORD.findall(name)
    keys: list[str] = []
    scripts: list[str] = []
    for word in words:
        script = _script(word)
        stem = strip_slavic(word) if script == "cyr" and not lemma else word
        keys.append(regex.sub(r"[^a-z0-9]", "", anyascii(stem).lower()) or word.lower())
        scripts.append(script)
    initials = {"".join(anyascii(w[0]).upper() for w in words)} if len(words) > 1 else set()
    capital = [w for w in words if w[0].isupper()]
    if len(capital) > 1:
        initials.add("".join(anyascii(w[0]).upper() for w in capital))
    bare = regex.sub(r"[.\s]", "", name)
    acronym = anyascii(bare).upper() if bare.isupper() and 2 <= len(bare) <= 6 else ""
    return _Key(tuple(keys), tuple(scripts), frozenset(initials), acronym, _kind(mention))


def _kind(mention: MentionLike) -> str:
    return getattr(mention, "kind", "") or ""


def _same_word(a: str, b: str, script_a: str, script_b: str) -> bool:
    if a == b:
        return True
    if script_a == script_b or min(len(a), len(b)) < 4:
        return False
    return ratio(a, b) >= _CROSS_SCRIPT_MIN


def _same_words(a: _Key, b: _Key) -> bool:
    return len(a.words) == len(b.words) and all(
        _same_word(x, y, sx, sy)
        for x, y, sx, sy in zip(a.words, b.words, a.scripts, b.scripts, strict=True)
    )


def _is_short_form(short: _Key, full: _Key) -> bool:
    """``short`` names a person by surname (or given + surname) of ``full``."""
    if not (0 < len(short.words) < len(full.words)):
        return False
    if short.kind not in _PERSONISH or full.kind not in _PERSONISH:
        return False
    # the short form ends with the full name's last word; its other words appear in order
    last = len(full.words) - 1
    if not _same_word(short.words[-1], full.words[last], short.scripts[-1], full.scripts[last]):
        return False
    pos = 0
    for word, script in zip(short.words[:-1], short.scripts[:-1], strict=True):
        while pos < last and not _same_word(word, full.words[pos], script, full.scripts[pos]):
            pos += 1
        if pos >= last:
            return False
        pos += 1
    return True


# Official two-word names of states: a state word ("federation", "republic") and an
# adjective. Word keys as ``_key`` makes them (ASCII; Slavic endings stripped, or the
# natasha lemma). Which country an adjective belongs to is world knowledge, written out
# for the countries of the war rather than guessed from spelling, because the people
# ("Russians", "россияне", "russos") are spelt like the adjective and are not the state.
_STATE_WORDS = frozenset(
    "federation federacao federacion federats federatsiya republic republica respublik".split()
)
_OFFICIAL_ADJECTIVES = {  # country key -> key prefixes of the adjective in its official name
    "russia": ("russian", "russa"),  # en, pt
    "rossiya": ("rossiysk",),  # ru lemma
    "ross": ("rossiysk",),  # ru, endings stripped
    "rus": ("rusk",),  # bg
    "ros": ("rosiysk",),  # uk
}


def _is_state_form(short: _Key, full: _Key) -> bool:
    """``short`` is the country whose official name is ``full``: Russia and the Russian
    Federation, Rússia and Federação Russa, Русия and Руската федерация."""
    if len(short.words) != 1 or len(full.words) != 2:
        return False
    adjectives = _OFFICIAL_ADJECTIVES.get(short.words[0])
    state = [i for i, w in enumerate(full.words) if w in _STATE_WORDS]
    if not adjectives or len(state) != 1:
        return False
    return full.words[1 - state[0]].startswith(adjectives)


def _is_acronym(short: _Key, full: _Key) -> bool:
    return bool(short.acronym) and short.acronym in full.initials and full.kind != "PER"


class _Groups:
    """Union-find over mention indices."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def group_mentions(mentions: Sequence[MentionLike], language: str | None = None) -> list[list[int]]:
    """Indices of ``mentions`` grouped by entity, groups in order of first mention.

    ``language`` is accepted for symmetry with detection; keys already depend on script.
    Each rule compares a name only with the names an index says could match (same first
    or last word, spelt alike across scripts; the acronym among the initials), never with
    every other name: a long text names thousands, and all pairs made it quadratic.
    """
    del language  # the rules depend on each word's script, not on the document language
    keys = [_key(m) for m in mentions]
    groups = _Groups(len(keys))
    distinct: dict[tuple[str, ...], int] = {}
    for i, key in enumerate(keys):
        if not key.words:
            continue
        first = distinct.setdefault(key.words, i)
        groups.join(first, i)
    reps = sorted(distinct.values())
    alike = _alike_words(keys[r] for r in reps)
    by_first: dict[str, list[int]] = {}
    by_last: dict[str, list[int]] = {}
    by_initials: dict[str, list[int]] = {}
    states: list[int] = []  # two-word names with a state word ("Russian Federation")
    for r in reps:
        key = keys[r]
        by_first.setdefault(key.words[0], []).append(r)
        by_last.setdefault(key.words[-1], []).append(r)
        for initials in key.initials:
            by_initials.setdefault(initials, []).append(r)
        if len(key.words) == 2 and _STATE_WORDS.intersection(key.words):
            states.append(r)
    # equal words (across scripts: nearly equal); joins do not depend on their order
    for a in reps:
        key = keys[a]
        for word in alike((key.words[0], key.scripts[0])):
            for b in by_first.get(word, ()):
                if b > a and _same_words(key, keys[b]):
                    groups.join(a, b)
    # surnames and acronyms join a longer name only when exactly one entity fits
    for short in reps:
        key = keys[short]
        fulls = [b for w in alike((key.words[-1], key.scripts[-1])) for b in by_last.get(w, ())]
        fulls += by_initials.get(key.acronym, []) if key.acronym else []
        fulls += states if len(key.words) == 1 and key.words[0] in _OFFICIAL_ADJECTIVES else []
        targets = {
            groups.find(full)
            for full in fulls
            if full != short
            and (
                _is_short_form(key, keys[full])
                or _is_acronym(key, keys[full])
                or _is_state_form(key, keys[full])
            )
        }
        targets.discard(groups.find(short))
        if len(targets) == 1:
            groups.join(short, targets.pop())
    out: dict[int, list[int]] = {}
    for i in range(len(keys)):
        out.setdefault(groups.find(i), []).append(i)
    return sorted(out.values(), key=lambda g: g[0])


def _alike_words(keys: Iterable[_Key]) -> Callable[[tuple[str, str]], list[str]]:
    """A lookup: (word key, script) -> every word key of ``keys`` that ``_same_word`` may
    find equal to it (itself, and the words of other scripts rapidfuzz finds close)."""
    by_script: dict[str, set[str]] = {}
    for key in keys:
        for word, script in zip(key.words, key.scripts, strict=True):
            by_script.setdefault(script, set()).add(word)
    close: dict[tuple[str, str], list[str]] = {}
    for script, words in by_script.items():
        others = sorted(
            {w for s, ws in by_script.items() if s != script for w in ws if len(w) >= 4}
        )
        if not others:
            continue
        for word in words:
            if len(word) >= 4:  # (the cut-off a point lower: _same_word decides)
                found = process.extract(
                    word, others, scorer=ratio, score_cutoff=_CROSS_SCRIPT_MIN - 1, limit=None
                )
                close[word, script] = [w for w, _, _ in found if w != word]

    def alike(word: tuple[str, str]) -> list[str]:
        return [word[0], *close.get(word, ())]

    return alike


def canonical_name(mentions: Sequence[MentionLike], group: Sequence[int]) -> str:
    """The most complete name of a group: most words (initials do not count), then
    longest, most frequent, first seen.

    Uses the lemma when a backend gave one, so a Russian entity reads "Владимир Путин"
    even when only "Владимира Путина" occurs.
    """
    names = [clean_name(getattr(mentions[i], "lemma", "") or mentions[i].text) for i in group]
    freq = Counter(names)
    order = {name: k for k, name in reversed(list(enumerate(names)))}

    def rank(name: str) -> tuple[int, int, int, int]:
        words = sum(len(w) > 1 for w in _WORD.findall(name))
        return words, len(name), freq[name], -order[name]

    return max(freq, key=rank)
