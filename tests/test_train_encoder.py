"""``narrascope train encoder``'s recipe around the fine-tuning itself: the held-out run picks
the epoch and the blend, then the shipped weights are refit on every document (issue 22).
The fine-tuning is replaced by a recorder here (a real run takes most of an hour)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("torch", reason="train encoder needs narrascope[train]")

import narrascope.training.encoder_roles as recipe
from narrascope.models.encoder_roles import EncoderRoleModel

LANGS = ["en", "ru", "bg", "pt", "hi"] * 2


def _corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten one-mention documents in place of the SemEval release."""
    import narrascope.training.corpus as corpus
    import narrascope.training.entities as entities

    docs = [SimpleNamespace(language=lang, i=i) for i, lang in enumerate(LANGS)]
    monkeypatch.setattr(corpus, "load_entity_corpus", lambda _d: docs)
    monkeypatch.setattr(
        entities,
        "_fit_args",
        lambda ds: (
            [f"NATO sent tanks to the front in story {d.i}." for d in ds],
            [d.language for d in ds],
            [[(0, 4)] for _ in ds],
            [["Antagonist"] for _ in ds],
            [[["Instigator"]] for _ in ds],
        ),
    )
    monkeypatch.setattr(
        entities,
        "narrative_features",
        lambda *a, **k: (["URW: Blaming the war on others"], np.full((len(docs), 1), 0.7)),
    )
    monkeypatch.setattr(entities, "describe_entity_corpus", lambda ds, _d: {"documents": len(ds)})
    monkeypatch.setattr(
        recipe,
        "tfidf_validation_scores",
        lambda _docs, _d, _tr, val, _n: (np.full((len(val), 3), 1 / 3), np.zeros((len(val), 22))),
    )


def _recording_fit(calls: list[dict]):
    def fit(self, texts, languages, mentions, mains, fines, narratives=None, **kw):
        calls.append(
            {
                "documents": len(texts),
                "validation": list(kw.get("validation", ())),
                "epochs": self.epochs,
            }
        )
        scores = [1.0, 1.2, 1.1][: self.epochs]  # epoch 2 is the best on the held-out fold
        history = [{"epoch": e + 1, "loss": 0.5, "score": s} for e, s in enumerate(scores)]
        if not kw.get("validation"):
            history = [{"epoch": e + 1, "loss": 0.5} for e in range(self.epochs)]
        self.meta = {"history": {"history": history, "seconds": 1.0, "settings": {"threads": 1}}}
        self.trained_ = {"marker": np.array([len(calls)], np.float32)}
        return self

    return fit


def _fake_predict(self, texts, mentions, narratives=None):
    n = sum(len(m) for m in mentions)
    main = np.tile([0.2, 0.7, 0.1], (n, 1))
    return main, np.zeros((n, 22))


@pytest.mark.parametrize("refit", [True, False])
def test_the_shipped_weights_are_refit_on_every_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refit: bool
) -> None:
    _corpus(monkeypatch)
    calls: list[dict] = []
    monkeypatch.setattr(EncoderRoleModel, "fit", _recording_fit(calls))
    monkeypatch.setattr(EncoderRoleModel, "predict_proba", _fake_predict)
    saved: dict = {}

    def save(self, out, meta=None):
        saved.update(model=self, meta=meta)
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "meta.json").write_text(json.dumps(meta))
        return Path(out)

    monkeypatch.setattr(EncoderRoleModel, "save", save)
    monkeypatch.setattr("narrascope.training.cv.record_artefact_size", lambda _out: None)

    recipe.train_encoder("data", tmp_path / "model", epochs=3, refit=refit, progress=False)

    held_out = calls[0]
    assert held_out["epochs"] == 3 and 0 < len(held_out["validation"]) < len(LANGS)
    meta = saved["meta"]
    assert meta["cv"]["held_out"].startswith("fold 1 of 5")
    assert [h["score"] for h in meta["history"]["history"]] == [1.0, 1.2, 1.1]
    if refit:
        # the held-out run chose epoch 2: every document trains for two epochs
        assert calls[1] == {"documents": len(LANGS), "validation": [], "epochs": 2}
        assert saved["model"].trained_["marker"][0] == 2
        assert meta["refit"]["documents"] == len(LANGS) and meta["refit"]["epochs"] == 2
        assert meta["training_seconds"] == 2.0
    else:
        assert len(calls) == 1 and meta["refit"] is None
        assert saved["model"].trained_["marker"][0] == 1
    assert saved["model"].blend == meta["cv"]["blend"]


def _earlier(refit: dict | None = None, **params) -> EncoderRoleModel:
    """A held-out run's artefact as ``load`` returns it (epoch 2 was its best)."""
    model = EncoderRoleModel(**params)
    model.blend = 0.3
    model.meta = {
        "cv": {"held_out": "fold 1 of 5 (documents stratified by language, seed 0)", "blend": 0.3},
        "history": {
            "history": [{"epoch": e, "loss": 0.5, "score": s} for e, s in [(1, 1.0), (2, 1.3)]],
            "seconds": 7.0,
        },
        "refit": refit,
    }
    return model


def test_an_earlier_held_out_run_is_reused_and_only_the_refit_trains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _corpus(monkeypatch)
    calls: list[dict] = []
    monkeypatch.setattr(EncoderRoleModel, "fit", _recording_fit(calls))
    monkeypatch.setattr(EncoderRoleModel, "load", classmethod(lambda cls, _p: _earlier()))
    saved: dict = {}
    monkeypatch.setattr(
        EncoderRoleModel, "save", lambda self, out, meta=None: saved.update(m=self, meta=meta)
    )
    monkeypatch.setattr("narrascope.training.cv.record_artefact_size", lambda _out: None)

    recipe.train_encoder("data", tmp_path, held_out_from="earlier", progress=False)

    assert calls == [{"documents": len(LANGS), "validation": [], "epochs": 2}]
    assert saved["m"].blend == 0.3 and saved["meta"]["cv"]["blend"] == 0.3
    assert saved["meta"]["refit"]["epochs"] == 2
    assert saved["meta"]["training_seconds"] == 8.0  # the held-out run's 7 s + the refit's 1 s


@pytest.mark.parametrize(
    ("earlier", "complaint"),
    [
        (_earlier(refit={"documents": 10}), "already refit"),
        (_earlier(size=128), "differs in size"),
    ],
)
def test_a_held_out_run_of_another_recipe_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, earlier: EncoderRoleModel, complaint: str
) -> None:
    _corpus(monkeypatch)
    calls: list[dict] = []
    monkeypatch.setattr(EncoderRoleModel, "fit", _recording_fit(calls))
    monkeypatch.setattr(EncoderRoleModel, "load", classmethod(lambda cls, _p: earlier))
    with pytest.raises(ValueError, match=complaint):
        recipe.train_encoder("data", tmp_path, held_out_from="earlier", progress=False)
    assert calls == []
