"""The words a text is searched by: split, normalised and stemmed in its language.

Why here, in Python, for both backends: search must find "Украины" from "Украина" and
"sanções" from "sanção", in the same way on SQLite and PostgreSQL. Python's ``sqlite3``
cannot give FTS5 a tokenizer of its own, and PostgreSQL's text search configurations stem
otherwise (and know no Ukrainian, Bulgarian or Hindi). So the search index holds a
*stemmed copy* of each text made here (each word replaced by its stem, in order) and both
databases only compare these tokens, exactly: the same query finds the same documents.

A word is a run of letters, digits and combining marks (so a Devanagari word keeps its
vowel signs); everything else separates words, apostrophes too ("don't" is "don" and "t",
"обʼєкт" is "об" and "єкт"), and a run longer than 100 characters is cut into words of
100. Each word is put in NFC and case-folded, stress marks
(U+0300, U+0301) are dropped, it is stemmed in the document's language, then Latin
letters lose their diacritics ("Ucrânia", "Ucrania" and "UCRANIA" are one word).

Stemmers: the Snowball algorithms of PyStemmer (English, Russian, Portuguese, Hindi and
30 more, by ISO 639-1 code). Snowball has none for Ukrainian and Bulgarian: for them a
small, conservative stripper of noun and adjective endings (below; verbs are left as
they are). Portuguese plurals in -ões (-oes) are first read as -ão, so "sanções" and
"sanção" share a stem (Snowball alone gives "sançõ" and "sançã"). A document without a
language, or in one with no stemmer, is indexed with its words unstemmed.

Changing anything here changes what the index holds: add a migration step that rebuilds
it (``sql.REINDEX_SEARCH``), or old databases keep the old stems.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable

import regex
import Stemmer

# a longer run (a pasted blob) is cut into words of 100 characters, in texts and queries
# alike (PostgreSQL refuses a word over 2 kB)
WORD = regex.compile(r"[\p{L}\p{N}\p{M}]{1,100}")
# before stemming: stress marks go, the Ukrainian apostrophe letter separates like "'"
_BEFORE = {0x0300: None, 0x0301: None, 0x02BC: " "}


# Latin letters lose their diacritics: in NFD, the combining marks after a-z go. Only
# texts with such letters (or marks) pay for it: str.translate would look up every
# character of every text (0.6 ms for 4 kB).
_LATIN_MARKED = re.compile("[\u00c0-\u024f\u1e00-\u1eff\u0300-\u036f]")
_LATIN_MARKS = re.compile("(?<=[a-z])[\u0300-\u036f]+")


def _fold_latin(text: str) -> str:
    if _LATIN_MARKED.search(text) is None:
        return text
    bare = _LATIN_MARKS.sub("", unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFC", bare)


# ISO 639-1 code → Snowball algorithm
SNOWBALL = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "eo": "esperanto",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "ga": "irish",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "nb": "norwegian",
    "fa": "persian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "st": "sesotho",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}

# Light stemmers: one ending is removed, the longest that leaves a stem of at least
# MIN_STEM characters. Ukrainian: noun and adjective case endings (Україна, України,
# Україні, Україну, Україною → україн; санкція, санкції, санкцій, санкціями → санкц).
# Bulgarian: the definite article and the plural, alone or together (Украйна, Украйната
# → украйн; санкция, санкции, санкциите → санкц; град, градът, градове, градовете → град).
MIN_STEM = 3
UK_ENDINGS = frozenset(
    "іями ього ьому "
    "ами ями ові еві єві ого ому ими ією іям іях ьої "
    "ою ею єю ах ях ам ям ів їв ей ом ем єм ій ий их ім им ої ую юю ія ії ію "
    "а я у ю і ї и е є о".split()
)
BG_ENDINGS = frozenset(
    "овете евете ията ието иите ите ата ото ето ият ове еве ия ии ие ът ят а я о е и".split()
)


def _light_stemmer(endings: frozenset[str]) -> Callable[[list[str]], list[str]]:
    lengths = sorted({len(e) for e in endings}, reverse=True)
    known: dict[str, str] = {}  # a cache: news reuse their words

    def strip(word: str) -> str:
        for n in lengths:
            if len(word) - n >= MIN_STEM and word[-n:] in endings:
                return word[:-n]
        return word

    def stem(words: list[str]) -> list[str]:
        if len(known) > 200_000:
            known.clear()
        out = []
        for word in words:
            found = known.get(word)
            if found is None:
                found = known[word] = strip(word)
            out.append(found)
        return out

    return stem


def _snowball(algorithm: str) -> Callable[[list[str]], list[str]]:
    """A Snowball stemmer, one call at a time: its state must not be shared by threads.

    Without PyStemmer's word cache, which made it 2-4 times slower on news texts.
    """
    snowball = Stemmer.Stemmer(algorithm, 0)
    lock = threading.Lock()

    def stem(words: list[str]) -> list[str]:
        with lock:
            return snowball.stemWords(words)

    return stem


def _portuguese() -> Callable[[list[str]], list[str]]:
    snowball = _snowball("portuguese")

    def stem(words: list[str]) -> list[str]:
        return snowball(
            [
                w[:-3] + ("ão" if w[-3] == "õ" else "ao")
                if len(w) > 4 and w.endswith(("ões", "oes"))
                else w
                for w in words
            ]
        )

    return stem


def stemmer(language: str | None) -> Callable[[list[str]], list[str]] | None:
    """The stemmer of a language (``pt-BR`` is ``pt``), None where there is none.

    It takes and returns a list of normalised words (see :func:`words`), one stem each.
    """
    return _stemmer(language_code(language))


@functools.lru_cache(maxsize=256)
def _stemmer(code: str | None) -> Callable[[list[str]], list[str]] | None:
    if code == "uk":
        return _light_stemmer(UK_ENDINGS)
    if code == "bg":
        return _light_stemmer(BG_ENDINGS)
    if code == "pt":
        return _portuguese()
    if code in SNOWBALL:
        return _snowball(SNOWBALL[code])
    return None


def language_code(language: str | None) -> str | None:
    """``"pt-BR"``, ``"PT"``, ``"pt_br"`` → ``"pt"``; None or blank → None."""
    if not language or not language.strip():
        return None
    return language.strip().lower().replace("_", "-").split("-")[0]


def stemmed_languages(languages: Iterable[str | None]) -> list[str]:
    """The distinct language codes among ``languages`` that have a stemmer, sorted."""
    codes = {language_code(lang) for lang in languages}
    return sorted(c for c in codes if c is not None and stemmer(c) is not None)


def words(text: str) -> list[str]:
    """The words of ``text``, normalised but not stemmed, in order."""
    text = unicodedata.normalize("NFC", text).casefold()
    if "\u0300" in text or "\u0301" in text or "\u02bc" in text:
        text = text.translate(_BEFORE)
    return WORD.findall(text)


def stems(normalised: list[str], language: str | None) -> list[str]:
    """Each of the ``normalised`` words (from :func:`words`) as ``language`` stems it.

    Diacritics of Latin letters are dropped after stemming (the Portuguese stemmer reads
    them). None as language (or one without a stemmer): the words as they are.
    """
    stem = stemmer(language)
    stemmed = stem(normalised) if stem is not None else normalised
    joined = " ".join(stemmed)  # words hold no blank: the split gives them back
    folded = _fold_latin(joined)
    return list(stemmed) if folded is joined else folded.split(" ")


def index_tokens(text: str, language: str | None) -> list[str]:
    """The tokens the search index holds for a text in ``language``, in order."""
    return stems(words(text), language)
