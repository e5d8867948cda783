"""Group a document's mentions of one entity: Putin, Vladimir Putin's, Путина → one entity.

Each mention gets a key: words without quotes, possessives or a leading article, Slavic
case endings stripped (natasha's lemmas for Russian when present, a light suffix stripper
otherwise), transliterated to ASCII with anyascii so that Cyrillic and Latin spellings meet.
A Slavic surname's key also keeps its gender where the ending tells it (Зеленский, Зеленская),
because stripping the ending, or natasha's lemma, makes husband and wife one word.
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
# ... except in these names (article and first word), which lose their sense without it
_WITH_ARTICLE = frozenset(
    name.replace("_", " ")
    for name in """the_hague the_guardian the_times the_economist the_telegraph the_independent
    the_sun the_atlantic the_hill the_observer the_new_yorker o_globo o_dia""".split()
)
# Slavic case endings and Bulgarian articles, longest first. Stripped at most twice
# (Русията → Русия → Рус), only from words of 4+ letters, keeping a stem of 3+.
_SLAVIC_ENDINGS = tuple(
    sorted(
        """ого его ому ему ыми ими ами ями ата ята ът ят та то те ой ей ий ый ая яя ое ее ую юю
        ом ем ам ям ах ях ым им ов ев ою ею ию ия ии ие ые их ых іх ья ье ьи ью ої ій ія а я у ю
        е ы и о ь і ї є""".split(),
        key=len,
        reverse=True,
    )
)
# Ukrainian: the і of a nominative's last syllable is о/е in the other cases (Харків,
# Харкова; Київ, Києва); the nominative takes the other cases' vowel before stripping.
_UK_ALTERNATION = {"ів": "ов", "їв": "єв"}
# Endings that tell a Slavic surname's gender in every case they stand for (ru, uk, bg).
# Others tell nothing: -ова is her nominative or his genitive (Захарова, Путина), -ой is
# Толстой or Толстая's genitive; -ска, -ски are Bulgarian, which has no cases.
_GENDER_ENDINGS = {
    **dict.fromkeys(
        """ская цкая ской цкой скую цкую ська цька ської цької ській цькій ською цькою ську
        цьку ска цка овой евой ёвой иной ыной ової евої євої іної овій евій євій іній ая яя ую
        юю ою ею ої""".split(),
        "f",
    ),
    **dict.fromkeys(
        """ский цкий ський цький ски цки ого его ому ему ым им ом ові еві єві ов ев ёв єв ин
        ін ын ий ый""".split(),
        "m",
    ),
}
_GENDER_ORDER = sorted(_GENDER_ENDINGS, key=len, reverse=True)
# Men's given names in -а/-я (a natasha lemma's first word otherwise in -а/-я is a woman's)
_MEN_IN_A = frozenset("никита илья фома лука кузьма савва данила гаврила".split())
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
    gender: str = ""  # "m" or "f" where a Slavic surname's ending tells it, else ""


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
    alternation = _UK_ALTERNATION.get(word[-2:].lower())
    if alternation:  # Харків → Харков, so that it strips like Харкова
        word = word[:-2] + alternation
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
    # "The United States" at a sentence start is "the United States"; The Hague is not Hague
    kept = " ".join(name.lower().split()[:2]) in _WITH_ARTICLE
    if rest and first.lower() in _ARTICLES and not kept:
        name = rest
    return name


def is_name(text: str) -> bool:
    """Whether a detected span can name anything: detectors also return a bare article
    ("The" at a sentence start) or one stray letter, which no reader wants listed."""
    name = clean_name(text)
    marks = regex.findall(r"[\p{L}\p{M}\p{N}]", name)  # G7 and F-16 are names
    return len(marks) >= 2 and name.lower() not in _ARTICLES


def _key(mention: MentionLike, language: str | None = None) -> _Key:
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
    kind = _kind(mention)
    gender = _gender(mention.text, lemma, language) if kind in _PERSONISH else ""
    return _Key(tuple(keys), tuple(scripts), frozenset(initials), acronym, kind, gender)


def _gender(text: str, lemma: str, language: str | None) -> str:
    """A Cyrillic name's gender where its surname's ending tells it ("m", "f"), else "".

    Reads the text, not the lemma: natasha lemmatises Зеленская to Зеленский. A lemma's
    given name tells it where the surname does not (Мария Захарова → "Мария Захаров").
    """
    words = _WORD.findall(clean_name(text))
    if not words or _script(words[-1]) != "cyr":
        return ""
    last = words[-1].lower()
    for ending in _GENDER_ORDER:
        if last.endswith(ending) and len(last) - len(ending) >= 3:
            return _GENDER_ENDINGS[ending]
    if language == "bg" and last.endswith(("ова", "ева", "ина")):
        return "f"  # no cases in Bulgarian: Петрова is a woman
    given = _WORD.findall(clean_name(lemma))
    if len(given) > 1 and _script(given[0]) == "cyr":
        first = given[0].lower()
        if first.endswith(("а", "я")):
            return "" if first in _MEN_IN_A else "f"
        return "m" if first[-1] not in "еёиоуыэюьъ" else ""
    return ""


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


def _agrees(gender: str, told: set[str]) -> bool:
    """Whether a name of ``gender`` may be a group whose mentions told ``told``."""
    return not gender or not told or gender in told


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

    def join_fits(self, fits: Sequence[tuple[int, Sequence[int]]]) -> None:
        """Join each short name to the one group its full names fall in, repeated until
        nothing joins, so that the order of mentions does not matter: "US" fits "U.S."
        and "United States" until the two are joined."""
        joined = True
        while joined:
            joined = False
            for short, found in fits:
                targets = {self.find(full) for full in found}
                targets.discard(self.find(short))
                if len(targets) == 1:
                    self.join(short, targets.pop())
                    joined = True

    def groups(self) -> list[list[int]]:
        """Every index in its group, groups in order of their first index."""
        out: dict[int, list[int]] = {}
        for i in range(len(self.parent)):
            out.setdefault(self.find(i), []).append(i)
        return sorted(out.values(), key=lambda g: g[0])


def group_mentions(mentions: Sequence[MentionLike], language: str | None = None) -> list[list[int]]:
    """Indices of ``mentions`` grouped by entity, groups in order of first mention.

    ``language`` matters only for Bulgarian, whose -ова names are women's (no cases).
    Each rule compares a name only with the names an index says could match (same first
    or last word, spelt alike across scripts; the acronym among the initials), never with
    every other name: a long text names thousands, and all pairs made it quadratic.
    """
    keys = [_key(m, language) for m in mentions]  # language: Bulgarian has no cases
    groups = _Groups(len(keys))
    distinct: dict[tuple[tuple[str, ...], str], int] = {}
    for i, key in enumerate(keys):
        if not key.words:
            continue
        first = distinct.setdefault((key.words, key.gender), i)
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
    # equal words (across scripts: nearly equal) of one gender; order does not matter
    untold: dict[int, list[int]] = {}  # rep whose gender is unknown -> equal reps told one
    for a in reps:
        key = keys[a]
        for word in alike((key.words[0], key.scripts[0])):
            for b in by_first.get(word, ()):
                if b == a or not _same_words(key, keys[b]):
                    continue
                if key.gender == keys[b].gender:
                    groups.join(a, b)
                elif not key.gender:
                    untold.setdefault(a, []).append(b)
    # Путина (his genitive, or a woman's name) joins Путин when no equal form is a woman's
    for a, told in untold.items():
        if len({keys[b].gender for b in told}) == 1:
            for b in told:
                groups.join(a, b)
    genders: dict[int, set[str]] = {}  # group -> genders its mentions tell
    for r in reps:
        if keys[r].gender:
            genders.setdefault(groups.find(r), set()).add(keys[r].gender)
    # surnames and acronyms join a longer name only when exactly one entity fits: a name
    # of the same gender first (Медведев: Дмитрий Медведев, not Светлана Медведева)
    fits: list[tuple[int, list[int]]] = []
    for short in reps:
        key = keys[short]
        fulls = [b for w in alike((key.words[-1], key.scripts[-1])) for b in by_last.get(w, ())]
        fulls += by_initials.get(key.acronym, []) if key.acronym else []
        fulls += states if len(key.words) == 1 and key.words[0] in _OFFICIAL_ADJECTIVES else []
        found = [
            full
            for full in dict.fromkeys(fulls)
            if full != short
            and _agrees(key.gender, genders.get(groups.find(full), set()))
            and (
                _is_short_form(key, keys[full])
                or _is_acronym(key, keys[full])
                or _is_state_form(key, keys[full])
            )
        ]
        same = [f for f in found if genders.get(groups.find(f)) == {key.gender}]
        if found:
            fits.append((short, same or found))
    groups.join_fits(fits)
    return groups.groups()


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
