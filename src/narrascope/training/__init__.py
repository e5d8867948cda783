"""Corpus reading, the official metric, cross-validation and training entry points."""

from narrascope.training.corpus import LabelledDocument, load_narrative_corpus, read_document_text
from narrascope.training.cv import cross_validate, format_cv_table
from narrascope.training.entities import (
    evaluate_entities,
    format_entity_table,
    train_entities,
)
from narrascope.training.metrics import (
    entity_scores,
    exact_match_ratio,
    main_role_accuracy,
    per_language_scores,
    samples_f1,
    set_f1,
)
from narrascope.training.narratives import (
    default_artefact_dir,
    evaluate_narratives,
    train_narratives,
)

__all__ = [
    "LabelledDocument",
    "cross_validate",
    "default_artefact_dir",
    "entity_scores",
    "evaluate_entities",
    "evaluate_narratives",
    "exact_match_ratio",
    "format_cv_table",
    "format_entity_table",
    "load_narrative_corpus",
    "main_role_accuracy",
    "per_language_scores",
    "read_document_text",
    "samples_f1",
    "set_f1",
    "train_entities",
    "train_narratives",
]
