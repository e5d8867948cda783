"""Narrascope: offline, evidence-first analysis of propaganda narratives in war-related media.

>>> import narrascope
>>> nlp = narrascope.load()
>>> doc = nlp("NATO provoked this war ...")
>>> [(n.label, n.score) for n in doc.narratives]
"""

import logging

from narrascope.doc import Annotation, Document, Entity, Span, Technique
from narrascope.pipeline import Pipeline, Stage

__version__ = "0.1.0"
__all__ = [
    "Annotation",
    "Document",
    "Entity",
    "Pipeline",
    "Span",
    "Stage",
    "Technique",
    "__version__",
    "load",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())


def load(*, stages: list[str] | None = None) -> Pipeline:
    """Build the default pipeline with the bundled models (see narrascope.pipeline.factory)."""
    from narrascope.pipeline.factory import build_default_pipeline

    return build_default_pipeline(stages=stages)
