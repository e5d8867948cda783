"""``narrascope.load(stages=..., config=...)`` builds what was asked or says why not: a
stage named twice, ``stages`` given as one string, a config for a stage that is not
built, or a config value that is no mapping is a clear error (E003/E004) before any
model loads, never a silent drop nor a raw TypeError."""

from __future__ import annotations

from typing import Any

import pytest

import narrascope
from narrascope.errors import E_STAGE_CONFIG, E_UNKNOWN_STAGE, NarrascopeError
from narrascope.models.encoder import SentenceEncoder
from narrascope.pipeline.factory import OPTIONAL, STAGES, stage_plan


@pytest.fixture(autouse=True)
def no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    def shared(*_: object, **__: object) -> SentenceEncoder:
        raise AssertionError("a model loaded before the request was checked")

    monkeypatch.setattr(SentenceEncoder, "shared", shared)


@pytest.mark.parametrize(
    ("kwargs", "code", "said"),
    [
        ({"stages": ["language", "segment", "language"]}, E_UNKNOWN_STAGE, "more than once"),
        ({"stages": "entities"}, E_UNKNOWN_STAGE, "a list of stage names"),
        ({"stages": 3}, E_UNKNOWN_STAGE, "a list of stage names"),
        (
            {"stages": ["language", "segment"], "config": {"entities": {"detector": "crf"}}},
            E_STAGE_CONFIG,
            "config for stage(s) ['entities']",
        ),
        ({"config": {"entities": "crf"}}, E_STAGE_CONFIG, "stage 'entities': its config"),
        ({"config": {"entities": None}}, E_STAGE_CONFIG, "stage 'entities': its config"),
        ({"config": [("entities", {})]}, E_STAGE_CONFIG, "config must map stage names"),
        ({"stages": ["languages"]}, E_UNKNOWN_STAGE, "unknown stage(s) ['languages']"),
        ({"stages": [["language"]]}, E_UNKNOWN_STAGE, "unknown stage(s) [['language']]"),
    ],
)
def test_what_cannot_be_built_as_asked_is_a_clear_error(
    kwargs: dict[str, Any], code: str, said: str
) -> None:
    with pytest.raises(NarrascopeError) as caught:
        narrascope.load(**kwargs)
    assert caught.value.code == code and said in str(caught.value)


def test_the_plan_is_what_build_pipeline_builds() -> None:
    default = stage_plan()
    assert default == [n for n in STAGES if n not in OPTIONAL]
    assert stage_plan(config={"debunks": {"db": "x.db"}}) == [*default, "debunks"]
    given = stage_plan(stages=("narratives", "segment", "language"), config={"segment": {}})
    assert given == ["language", "segment", "narratives"]  # the pipeline's order
    assert stage_plan(stages=["entities"], config={"entities": {"mode": "given"}}) == ["entities"]
