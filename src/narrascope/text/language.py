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
_SAMPLE = 2000  # characters read from a long text: enough for a stable verdict


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
    """Return the ISO 639-1 code and lingua's confidence, or ``(None, 0.0)`` if unsure.

    Only a cleaned copy is read (see :func:`clean_for_detection`): a link or hashtag
    must not decide the language of a short post.
    """
    sample = clean_for_detection(text[:_SAMPLE])
    if not any(c.isalpha() for c in sample):
        return None, 0.0
    if _is_devanagari(sample):
        return "hi", 1.0
    detector = _detector(len(sample.strip()) >= _SHORT)
    values = detector.compute_language_confidence_values(sample)
    if not values or values[0].value <= 0.0:
        return None, 0.0
    best = values[0]
    return best.language.iso_code_639_1.name.lower(), float(best.value)
