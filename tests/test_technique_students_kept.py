"""Retraining the main technique model keeps the students already saved beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

from narrascope.models.artefact import bundled_path
from narrascope.models.techniques import TechniqueClassifier
from narrascope.training.techniques import _keep_students


def test_a_retrained_model_saved_over_the_bundled_folder_keeps_its_hindi_student(
    tmp_path: Path,
) -> None:
    out = tmp_path / "techniques"
    shutil.copytree(bundled_path("techniques"), out)
    model = TechniqueClassifier.load(out)
    assert "hi" in model.students_
    model.students_ = {}  # what a fresh fit of the main model holds
    _keep_students(model, out)
    model.save(out)
    again = TechniqueClassifier.load(out)
    assert set(again.students_) == {"hi"}
    text = "यह सरकार झूठ बोलती है और देश को धोखा देती है।"
    assert (
        again.predict_proba([text], ["hi"])
        == TechniqueClassifier.load(bundled_path("techniques")).predict_proba([text], ["hi"])
    ).all()
