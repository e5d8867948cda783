"""Language identification with lingua, restricted to the languages we analyse.

Restricting the candidate set is what makes lingua fast (thousands of texts per second)
and accurate on the short comments our users bring. Long texts use lingua's trigram-only
"low accuracy" mode, which is as good on a paragraph and loads in milliseconds.
"""

from __future__ import annotations

import threading  # a lock: concurrent first calls must not build twice

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


def _is_devanagari(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    return sum("\u0900" <= c <= "\u097f" for c in letters) / len(letters) > 0.5


def detect_language(text: str) -> tuple[str | None, float]:
    """Return the ISO 639-1 code and lingua's confidence, or ``(None, 0.0)`` if unsure."""
    sample = text[:_SAMPLE]
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
