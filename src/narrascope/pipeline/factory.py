"""Assemble a pipeline from stage factories and a config, the way spaCy's ``nlp.add_pipe``
takes a config per component.

Why a config seam: callers (the CLI's ``--entity-detector`` and ``--mentions``, the web
server, a user's script) change how a stage works by naming its parameters, never by
swapping a built stage's attributes. The pipeline builds one sentence encoder and hands
it to every stage that reads vectors, so they share its weights and the vectors it
leaves on each document (``doc.tensor``).
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from narrascope.doc import Document
from narrascope.errors import E_STAGE_CONFIG, E_UNKNOWN_STAGE, NarrascopeError
from narrascope.models.encoder import SentenceEncoder
from narrascope.pipeline.pipeline import Pipeline, Stage

# The default order, stage name -> "module:class" (imported only when built: start-up
# time). The explanation quotes the narratives' evidence, and the entity model reads the
# narrative probabilities the narrative stage leaves in ``doc.cats``.
STAGES: dict[str, str] = {
    "language": "narrascope.stages.language:LanguageStage",
    "segment": "narrascope.stages.segment:SegmentStage",
    "narratives": "narrascope.stages.narratives:NarrativeStage",
    "custom_narratives": "narrascope.stages.custom_narratives:CustomNarrativeStage",
    "explanation": "narrascope.stages.explain:ExplanationStage",
    "entities": "narrascope.stages.entities:EntityStage",
    "techniques": "narrascope.stages.techniques:TechniqueStage",
    "hate": "narrascope.stages.hate:HateStage",
    "claims": "narrascope.stages.claims:ClaimStage",
    "debunks": "narrascope.stages.debunks:DebunkStage",
}
# Built only when named in ``stages=`` or configured: the debunk stage needs the user's
# debunk database (``analyze --debunks`` / ``--db``), the custom-narrative stage a corpus
# database holding the user's own narratives (``narrascope taxonomy add``; it follows the
# narrative stage, whose paragraph vectors it reads, and comes before the explanation).
OPTIONAL = frozenset({"debunks", "custom_narratives"})


def stage_class(name: str) -> type[Stage]:
    """The class of stage ``name`` (a key of :data:`STAGES`)."""
    module, _, attr = STAGES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def stage_plan(
    *,
    stages: Sequence[str] | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[str]:
    """The names of the stages :func:`build_pipeline` builds for ``stages`` and
    ``config``, in order, without building any (the Ray driver names the stages its
    workers run); a :class:`NarrascopeError` for what it would refuse.

    Refused, rather than built otherwise than asked: a stage named twice or not at all
    known, and ``stages`` given as one string (E003); a config that is no mapping, or
    whose value for a stage is none, or that configures a stage ``stages`` leaves out
    (E004: its parameters would be dropped in silence).
    """
    if isinstance(stages, str) or not (stages is None or isinstance(stages, Sequence)):
        raise NarrascopeError(
            E_UNKNOWN_STAGE,
            f"stages must be a list of stage names, got {stages!r}; e.g. stages=['language', "
            "'segment', 'narratives']",
        )
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise NarrascopeError(
            E_STAGE_CONFIG,
            f"config must map stage names to their parameters, got {type(config).__name__}; "
            "e.g. config={'entities': {'detector': 'crf'}}",
        )
    names = [n for n in STAGES if n not in OPTIONAL or n in config] if stages is None else stages
    unknown = [n for n in [*names, *config] if not isinstance(n, str) or n not in STAGES]
    if unknown:
        raise NarrascopeError(
            E_UNKNOWN_STAGE, f"unknown stage(s) {unknown}; choose from {list(STAGES)}"
        )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise NarrascopeError(E_UNKNOWN_STAGE, f"stage(s) {twice} named more than once")
    for name, params in config.items():
        if not isinstance(params, Mapping):
            raise NarrascopeError(
                E_STAGE_CONFIG,
                f"stage {name!r}: its config must map parameter names to values, got "
                f"{type(params).__name__} {params!r}",
            )
    left_out = [n for n in config if n not in names]
    if left_out:
        raise NarrascopeError(
            E_STAGE_CONFIG,
            f"config for stage(s) {left_out}, which stages={list(names)} does not build; "
            "add them to stages or drop their config",
        )
    return [n for n in STAGES if n in names]


def build_pipeline(
    *,
    stages: Sequence[str] | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
) -> Pipeline:
    """The pipeline of ``stages`` (default: all but the :data:`OPTIONAL` ones not in
    ``config``, in :data:`STAGES` order), each built with its parameters in ``config``
    (stage name -> keyword parameters); what it refuses: :func:`stage_plan`."""
    names = stage_plan(stages=stages, config=config)
    config = config or {}
    encoder = SentenceEncoder.shared()
    built = []
    for name in names:
        cls = stage_class(name)
        params = dict(config.get(name, {}))
        if "encoder" in inspect.signature(cls).parameters:
            params.setdefault("encoder", encoder)
        built.append(_build_and_warm_up(name, cls, params))
    return Pipeline(built, encoder=encoder)


def _build_and_warm_up(name: str, cls: type[Stage], params: dict[str, Any]) -> Stage:
    """Build a stage and load its models now, so the first document does not wait.

    (Loading in threads was measured: no faster, the slow loads hold the GIL.)
    """
    try:
        inspect.signature(cls).bind(**params)
    except TypeError as exc:  # an unknown parameter name
        raise NarrascopeError(E_STAGE_CONFIG, f"stage {name!r}: {exc}") from exc
    stage = cls(**params)
    warm_up = getattr(stage, "warm_up", None)
    if warm_up is not None:
        warm_up()
    return stage


def corpus_debunks(db: str | Path | None) -> dict[str, Any] | None:
    """The debunk stage's parameters for a corpus database ``db`` (a path or a
    ``sqlite:///`` URL): ``{"db": db}`` when it is a SQLite file that holds debunks, else
    None (no matching). ``analyze --db`` and the web server both ask here, so a document
    is matched alike by either; the look is read-only, so a database without debunks is
    left untouched."""
    from narrascope.store.own_tables import holds_rows

    if db is not None and holds_rows(db, "debunks"):
        return {"db": db}
    return None


class FollowedDebunkStage:
    """The debunk stage of a corpus database that may gain its debunks while it is read
    (the web server's: `narrascope debunks add --db` may run beside it).

    Why a wrapper: ``analyze --db`` looks once whether the database holds debunks and
    builds the stage then or never; a server runs for weeks. Before each batch this one
    looks again: while the database holds none, documents get no matches, as without the
    stage; from the first batch after it holds some, the stage ``analyze --db`` builds
    (:func:`corpus_debunks`) matches them, and its matcher reloads its index whenever the
    debunks change.
    """

    name = "debunks"

    def __init__(self, db: str | Path, *, encoder: Any = None) -> None:
        self.db = db
        self.encoder = encoder
        self._stage: Stage | None = None
        self._lock = threading.Lock()  # one build, whichever worker asks first

    def _current(self) -> Stage | None:
        config = corpus_debunks(self.db)
        if config is None:
            return None
        with self._lock:
            if self._stage is None:
                params = {**config, "encoder": self.encoder}
                self._stage = _build_and_warm_up(self.name, stage_class(self.name), params)
            return self._stage

    def warm_up(self) -> None:
        self._current()

    def __call__(self, docs: list[Document]) -> list[Document]:
        stage = self._current()
        return docs if stage is None else stage(docs)
