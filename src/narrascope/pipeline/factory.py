"""Assemble the default pipeline from the bundled models."""

from __future__ import annotations

from collections.abc import Callable

from narrascope.errors import E_UNKNOWN_STAGE, NarrascopeError
from narrascope.pipeline.pipeline import Pipeline, Stage


def _language() -> Stage:
    from narrascope.stages.language import LanguageStage

    return LanguageStage()


def _sentences() -> Stage:
    from narrascope.stages.segment import SentenceStage

    return SentenceStage()


def _narratives() -> Stage:
    from narrascope.stages.narratives import NarrativeStage

    return NarrativeStage()


def _explanation() -> Stage:
    from narrascope.stages.explain import ExplanationStage

    return ExplanationStage()


def _entities() -> Stage:
    from narrascope.stages.entities import EntityStage

    return EntityStage()


def _techniques() -> Stage:
    from narrascope.stages.techniques import TechniqueStage

    return TechniqueStage()


# Order matters: each stage may rely on the ones before it.
STAGE_FACTORIES: dict[str, Callable[[], Stage]] = {
    "language": _language,
    "sentences": _sentences,
    "narratives": _narratives,
    "explanation": _explanation,
    "entities": _entities,
    # after narratives: it reuses the sentence vectors the narrative model just encoded
    "techniques": _techniques,
}


def build_default_pipeline(*, stages: list[str] | None = None) -> Pipeline:
    names = list(STAGE_FACTORIES) if stages is None else stages
    unknown = [n for n in names if n not in STAGE_FACTORIES]
    if unknown:
        raise NarrascopeError(
            E_UNKNOWN_STAGE, f"unknown stage(s) {unknown}; choose from {list(STAGE_FACTORIES)}"
        )
    ordered = [n for n in STAGE_FACTORIES if n in names]
    return Pipeline([_build_and_warm_up(name) for name in ordered])


def _build_and_warm_up(name: str) -> Stage:
    """Build a stage and load its models now, so the first document does not wait.

    (Loading in threads was measured: no faster, the slow loads hold the GIL.)
    """
    stage = STAGE_FACTORIES[name]()
    warm_up = getattr(stage, "warm_up", None)
    if warm_up is not None:
        warm_up()
    return stage
