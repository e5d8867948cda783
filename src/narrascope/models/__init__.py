"""Trained estimators and their artefact (de)serialisation."""

from narrascope.models.narratives import NarrativeClassifier

__all__ = ["NarrativeClassifier"]
