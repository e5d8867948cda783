"""Model artefacts on disk: a damaged or newer one is a ModelError saying what to do, and a
save replaces the earlier model whole or not at all."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import narrative_fixtures as nf
from narrascope.errors import ModelError
from narrascope.models.artefact import bundled_path
from narrascope.models.narratives import NarrativeClassifier
from narrascope.models.techniques import TechniqueClassifier
from narrascope.text.mentions import (
    CRF_FILE,
    Gazetteer,
    MentionTagger,
    sequence_features,
    tokenize,
)

ARMY = "Tanks and missiles of the mighty army crushed every defence line."

# hand-written paragraphs (ours) with their techniques
PARAGRAPHS = [
    ("The corrupt traitors and their disgusting lies destroy our nation!", ["Loaded_Language"]),
    (
        "These shameless clowns spread outrageous lies about our soldiers.",
        ["Name_Calling-Labeling"],
    ),
    ("Can we really trust what the minister says? His record raises doubts.", ["Doubt"]),
    ("Is this report honest? Nobody has checked the figures they cite.", ["Doubt"]),
    ("The council met on Tuesday to discuss the budget for next year.", []),
    ("Rain is expected in the north, with temperatures around ten degrees.", []),
]


def _narratives(tmp_path: Path) -> Path:
    root = tmp_path / "narratives"
    shutil.copytree(bundled_path("narratives"), root)
    return root


def _edit_json(name: str, change: Callable[[object], object]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / name
        path.write_text(json.dumps(change(json.loads(path.read_text()))))

    return edit


def _cut(name: str, keep: float) -> Callable[[Path], None]:
    def cut(root: Path) -> None:
        data = (root / name).read_bytes()
        (root / name).write_bytes(data[: int(len(data) * keep)])

    return cut


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (_cut("weights.npz", 0.5), "unreadable"),  # zipfile.BadZipFile before
        (_cut("weights.npz", 0.0), "unreadable"),  # EOFError before
        (lambda root: (root / "weights.npz").write_bytes(b"not an archive" * 9), "not an .npz"),
        (
            _edit_json("config.json", lambda c: {k: v for k, v in c.items() if k != "params"}),
            "params",
        ),
        (_edit_json("config.json", lambda c: [c]), "holds a JSON list"),  # AttributeError before
        (_edit_json("meta.json", lambda m: [m]), "holds a JSON list"),
        (_edit_json("state.json", lambda s: [s]), "holds a JSON list"),
    ],
)
def test_a_damaged_artefact_is_e201_with_what_to_do(
    tmp_path: Path, damage: Callable[[Path], None], says: str
) -> None:
    root = _narratives(tmp_path)
    damage(root)
    with pytest.raises(ModelError, match=says) as err:
        NarrativeClassifier.load(root)
    assert err.value.code == "E201"
    assert "reinstall narrascope" in str(err.value) and "allow_pickle" not in str(err.value)


def test_an_artefact_with_parameters_of_a_newer_narrascope_is_e202(tmp_path: Path) -> None:
    root = _narratives(tmp_path)
    newer = {"newparam": 1, "another": True}
    _edit_json("config.json", lambda c: {**c, "params": {**c["params"], **newer}})(root)
    _edit_json("meta.json", lambda m: {**m, "versions": {**m["versions"], "narrascope": "9.0"}})(
        root
    )
    with pytest.raises(ModelError, match=r"narrascope 9\.0 .*does not know: another, newparam"):
        NarrativeClassifier.load(root)


def _techniques(**params: float) -> TechniqueClassifier:
    texts = [t for t, _ in PARAGRAPHS]
    return TechniqueClassifier(c_tfidf=10.0, c_encoder=10.0, **params).fit(
        texts,
        ["en"] * len(texts),
        [labels for _, labels in PARAGRAPHS],
        embeddings=nf.fake_vectors(texts),
        thresholds={"*": 0.3},
    )


def test_saving_over_an_artefact_drops_the_earlier_models_students(tmp_path: Path) -> None:
    root = tmp_path / "techniques"
    shutil.copytree(bundled_path("techniques"), root)  # a model with a Hindi student
    assert (root / "students" / "hi" / "config.json").is_file()
    model = _techniques()
    assert model.students_ == {}
    model.save(root)
    loaded = TechniqueClassifier.load(root)
    assert loaded.students_ == {}
    hindi = ["विपक्ष के नेता झूठे और गद्दार हैं, वे देश को बेच रहे हैं!"]
    vectors = nf.fake_vectors(hindi)
    np.testing.assert_array_equal(
        loaded.predict_proba(hindi, ["hi"], embeddings=vectors),
        model.predict_proba(hindi, ["hi"], embeddings=vectors),
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["techniques"]  # nothing left over


def test_a_save_that_fails_leaves_the_earlier_model_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "techniques"
    first = _techniques()
    first.save(root, meta={"note": "first"})

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full_disk)
    with pytest.raises(OSError, match="No space left"):
        _techniques(language_weight=0.5).save(root, meta={"note": "second"})
    kept = TechniqueClassifier.load(root)  # before: the new config.json over the old weights
    assert kept.meta["note"] == "first" and kept.language_weight == first.language_weight
    assert sorted(p.name for p in tmp_path.iterdir()) == ["techniques"]


def test_save_refuses_a_directory_holding_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("my notes", encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"notes\.txt.*new or empty directory"):
        _techniques().save(tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "my notes"


def test_save_never_replaces_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "model"
    model = _techniques()
    model.save(root)
    monkeypatch.chdir(root)
    with pytest.raises(FileExistsError, match="working directory"):
        model.save(".")
    assert Path.cwd() == root and TechniqueClassifier.load(".").students_ == {}


def _train_crf(path: Path) -> None:
    """A tiny CRF on the tagger's own features: two names, each a one-token entity."""
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    for text in ["Anna met Boris today.", "Yesterday Boris called Anna again."]:
        tokens = tokenize(text)
        names = {text.index("Anna"), text.index("Boris")}
        labels = ["B" if start in names else "O" for start, _ in tokens]
        trainer.append(sequence_features(text, tokens, Gazetteer()), labels)
    trainer.train(str(path))


def test_a_freshly_trained_crf_file_passes_the_check(tmp_path: Path) -> None:
    _train_crf(tmp_path / CRF_FILE)
    MentionTagger.save_meta(tmp_path, Gazetteer(), {})
    text = "Boris met Anna."
    spans = MentionTagger.load(tmp_path).spans(text)
    assert [text[s:e] for s, e in spans] == ["Boris", "Anna"]


_LOAD_TAGGER = """
import sys
from narrascope.errors import ModelError
from narrascope.text.mentions import MentionTagger
try:
    MentionTagger.load(sys.argv[1])
except ModelError as exc:
    print(exc)
"""


@pytest.mark.parametrize(("keep", "says"), [(0.5, "cut short"), (0.0, "not a CRFsuite model")])
def test_a_cut_crf_file_is_a_model_error_not_a_crash(
    tmp_path: Path, keep: float, says: str
) -> None:
    root = tmp_path / "mentions"
    shutil.copytree(bundled_path("mentions"), root)
    _cut(CRF_FILE, keep)(root)
    # in a child process: crfsuite opening a cut file used to kill the process (SIGSEGV)
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_TAGGER, str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[E201]" in done.stdout and says in done.stdout and "reinstall" in done.stdout
