"""Language-aware text utilities: sentence segmentation with offsets and language detection."""

from narrascope.text.language import LANGUAGES, detect_language
from narrascope.text.segment import split_sentences

__all__ = ["LANGUAGES", "detect_language", "split_sentences"]
