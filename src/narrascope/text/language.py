"""Language identification with lingua, restricted to the languages we analyse.

Restricting the candidate set is what makes lingua fast (thousands of texts per second)
and accurate on the short comments our users bring. Long texts use lingua's trigram-only
"low accuracy" mode, which is as good on a paragraph and loads in milliseconds.
"""

from __future__ import annotations

import re
import threading  # a lock: concurrent first calls must not build twice
import unicodedata
from collections import Counter

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# The languages with narrative models, then those with technique data (issue 4) plus Spanish.
LANGUAGES: dict[str, Language] = {
    "en": Language.ENGLISH,
    "ru": Language.RUSSIAN,
    "uk": Language.UKRAINIAN,
    "bg": Language.BULGARIAN,
    "pt": Language.PORTUGUESE,
    "hi": Language.HINDI,
    "de": Language.GERMAN,
    "fr": Language.FRENCH,
    "it": Language.ITALIAN,
    "pl": Language.POLISH,
    "es": Language.SPANISH,
}
# The script each language is written in, as Unicode names it (the first word of a
# letter's name): a comment in another script cannot be in its post's language.
SCRIPTS: dict[str, str] = {
    code: "CYRILLIC" if code in ("ru", "uk", "bg") else "DEVANAGARI" if code == "hi" else "LATIN"
    for code in LANGUAGES
}
_SHORT = 120  # below this many characters the full n-gram models pay off
MIXED_BELOW = 0.5  # lingua less sure than this of a text of sentences: read them one by one
# where a sentence ends, roughly (enough to vote by sentence; text.segment would import
# the document model, which imports this module)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…।])\s+|\n+")
_SAMPLE = 2000  # characters read from a long text: enough for a stable verdict


# ISO 639-2/B codes (those of library catalogues) where they differ from the ISO 639-3
# codes lingua knows; and Norwegian's macro-language code, which lingua reads as Bokmål.
_OTHER_CODES = {
    "alb": "sq",
    "arm": "hy",
    "baq": "eu",
    "chi": "zh",
    "cze": "cs",
    "dut": "nl",
    "fre": "fr",
    "geo": "ka",
    "ger": "de",
    "gre": "el",
    "ice": "is",
    "mac": "mk",
    "mao": "mi",
    "may": "ms",
    "per": "fa",
    "rum": "ro",
    "slo": "sk",
    "wel": "cy",
    "no": "nb",
    "nor": "nb",
}
# every code we read -> its ISO 639-1 code: lingua's 75 languages by their two- and
# three-letter codes, and the codes above
_CODES: dict[str, str] = {
    **{
        code.name.lower(): language.iso_code_639_1.name.lower()
        for language in Language.all()
        for code in (language.iso_code_639_1, language.iso_code_639_3)
    },
    **_OTHER_CODES,
}


def normalize_language(code: str | None) -> str | None:
    """The ISO 639-1 code a language given by a user means, as detection would write it.

    Case and a region or script suffix do not matter ("RU", "ru-RU", "pt_BR", "sr-Latn"),
    and ISO 639-2/3 codes are read too ("rus", "ukr", "bul", "por", "hin", "eng", "ger"):
    every stage looks its language up by the two-letter code, so "RU" kept as given was
    read as an unknown language everywhere. None or blank: None (the language stage
    detects it). A code that names none of the languages we can detect raises ValueError
    saying what to give instead (the HTTP API's 422, the library's error at the input).
    """
    if code is None or not code.strip():
        return None
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    found = _CODES.get(base)
    if found is None:
        raise ValueError(
            f"unknown language code {code!r}: give an ISO 639-1 code such as "
            f"{', '.join(repr(c) for c in LANGUAGES)} (ISO 639-2/3 codes such as 'rus' and "
            "regional forms such as 'pt-BR' are read too), or leave the language out to "
            "have it detected"
        )
    return found


_detectors: dict[bool, LanguageDetector] = {}
_lock = threading.Lock()


def _detector(low_accuracy: bool) -> LanguageDetector:
    with _lock:  # concurrent first calls wait for one build instead of building twice
        if low_accuracy not in _detectors:
            builder = LanguageDetectorBuilder.from_languages(*LANGUAGES.values())
            builder = builder.with_preloaded_language_models()
            if low_accuracy:
                builder = builder.with_low_accuracy_mode()
            _detectors[low_accuracy] = builder.build()
        return _detectors[low_accuracy]


def warm_up() -> None:
    """Load the trigram detector used for documents (under 0.1 s).

    The full n-gram models serve only texts under 120 characters and take about 1.5 s to
    load while holding the GIL, so they load on the first short text instead.
    """
    _detector(True)


# Links, e-mail addresses and @handles are Latin letters in any language: they tip a short
# Cyrillic or Devanagari post to Italian or Polish. Hashtags are often English slogans.
_LINKS = re.compile(
    r"(?:https?://|www\.)\S+"  # links with a scheme or www.
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/\S*"  # t.me/channel/123
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|(?<!\w)@\w+",  # @handles
    re.IGNORECASE | re.ASCII,
)
_HASHTAG = re.compile(r"(?<!\w)#\w+")


def clean_for_detection(text: str) -> str:
    """A copy of ``text`` without links, e-mail addresses, @handles and #hashtags, which
    carry no language (callers keep their offsets into the original). When the hashtags
    are the only words, their words are kept without ``#``."""
    text = _LINKS.sub(" ", text)
    cleaned = _HASHTAG.sub(" ", text)
    if any(c.isalpha() for c in cleaned):
        return cleaned
    return text.replace("#", " ")


def _is_letter(c: str) -> bool:
    """Letters and combining marks: Devanagari vowel signs (category M) are not isalpha."""
    return c.isalpha() or unicodedata.category(c).startswith("M")


def script_of(text: str) -> str | None:
    """The script most letters of ``text`` (links and tags left out) are written in, as the
    first word of their Unicode names (``"LATIN"``, ``"CYRILLIC"``...); None without letters."""
    counts: Counter[str] = Counter()
    for c in clean_for_detection(text[:_SAMPLE]):
        if _is_letter(c):
            name = unicodedata.name(c, "")
            if name and not name.startswith("COMBINING"):  # an accent has no script of its own
                counts[name.split(" ", 1)[0]] += 1
    return counts.most_common(1)[0][0] if counts else None


def _is_devanagari(text: str) -> bool:
    letters = [c for c in text if _is_letter(c)]
    if not letters:
        return False
    return sum("\u0900" <= c <= "\u097f" for c in letters) / len(letters) > 0.5


def detect_language(text: str) -> tuple[str | None, float]:
    """Return the ISO 639-1 code and lingua's confidence (for a text read sentence by
    sentence, the share of its letters in that language), or ``(None, 0.0)`` if unsure.

    Only a cleaned copy is read (see :func:`clean_for_detection`): a link or hashtag
    must not decide the language of a short post. A longer text that lingua is unsure of
    (under ``MIXED_BELOW``) is read sentence by sentence (see :func:`_by_sentences`); a
    short one keeps lingua's low confidence, which lets a comment take its post's language.
    """
    sample = clean_for_detection(text[:_SAMPLE])
    code, confidence = _detect(sample)
    if code is not None and confidence < MIXED_BELOW and len(sample.strip()) >= _SHORT:
        return _by_sentences(sample) or (code, confidence)
    return code, confidence


def _detect(sample: str, *, trigrams_only: bool = False) -> tuple[str | None, float]:
    """lingua's answer; ``trigrams_only``: the low-accuracy models even for a short text."""
    if not any(c.isalpha() for c in sample):
        return None, 0.0
    if _is_devanagari(sample):
        return "hi", 1.0
    detector = _detector(trigrams_only or len(sample.strip()) >= _SHORT)
    values = detector.compute_language_confidence_values(sample)
    if not values or values[0].value <= 0.0:
        return None, 0.0
    best = values[0]
    return best.language.iso_code_639_1.name.lower(), float(best.value)


def _by_sentences(sample: str) -> tuple[str, float] | None:
    """The language most of the sample's letters are in, each sentence detected alone,
    and the share of the letters it holds; None for a text of one sentence.

    lingua reads a text as a whole in one script's languages, so a text of one sentence
    each in English, Portuguese, Russian, Ukrainian, Bulgarian and Hindi came out Spanish
    (0.48), a language none of it is in; sentence by sentence the answer is one of them.
    Only unsure texts pay for it, and the sentences are read by the trigram models the
    document's detection already loaded (they told those six sentences apart).
    """
    letters: Counter[str] = Counter()
    sentences = [s for s in _SENTENCE_BREAK.split(sample) if s.strip()]
    if len(sentences) < 2:
        return None
    for sentence in sentences:
        code, _ = _detect(sentence, trigrams_only=True)
        if code is not None:
            letters[code] += sum(_is_letter(c) for c in sentence)
    if not letters:
        return None
    code, count = letters.most_common(1)[0]
    return code, count / sum(letters.values())
