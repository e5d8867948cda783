"""Narrascope: offline, evidence-first analysis of propaganda narratives in war-related media.

>>> import narrascope
>>> nlp = narrascope.load()
>>> doc = nlp("NATO provoked this war ...")
>>> [(n.label, n.score) for n in doc.narratives]
"""

import logging
from typing import Any

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


def load(
    *, stages: list[str] | None = None, config: dict[str, dict[str, Any]] | None = None
) -> Pipeline:
    """The pipeline with the bundled models: ``stages`` (default all, in order) and
    ``config``, stage name -> that stage's parameters, e.g.
    ``load(config={"entities": {"detector": "packaged", "mode": "given"}})``."""
    from narrascope.pipeline.factory import build_pipeline

    return build_pipeline(stages=stages, config=config)
