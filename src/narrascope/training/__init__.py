"""Corpus reading, the official metric, cross-validation and training entry points."""

from narrascope.training.corpus import LabelledDocument, load_narrative_corpus, read_document_text
from narrascope.training.cv import cross_validate, format_cv_table, make_folds
from narrascope.training.metrics import per_language_scores, samples_f1, set_f1
from narrascope.training.narratives import (
    default_artefact_dir,
    evaluate_narratives,
    train_narratives,
)

__all__ = [
    "LabelledDocument",
    "cross_validate",
    "default_artefact_dir",
    "evaluate_narratives",
    "format_cv_table",
    "load_narrative_corpus",
    "make_folds",
    "per_language_scores",
    "read_document_text",
    "samples_f1",
    "set_f1",
    "train_narratives",
]
