"""Reading and writing model artefact folders (JSON + ``.npz``, never pickle).

Every shipped model is a directory of ``config.json`` (format, class, settings, labels),
``meta.json`` (the training manifest), ``vocab.json`` and ``weights.npz``; one reader and
one writer keep the checks (missing files, format version, scikit-learn drift) identical.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import platform
from importlib.metadata import version as _package_version
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.errors import E_MODEL_MISSING, E_MODEL_VERSION, ModelError
from narrascope.models.linear import narrascope_version

log = logging.getLogger(__name__)

FILES = ("config.json", "meta.json", "vocab.json", "weights.npz")


def user_cache_dir() -> Path:
    """Where numbers worth keeping between runs live (``$XDG_CACHE_HOME/narrascope``):
    training caches and the sentence encoder's tokenizer, never shipped artefacts."""
    import os

    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "narrascope"


def write_artefact(
    path: str | Path,
    config: dict[str, Any],
    meta: dict[str, Any],
    vocab: dict[str, Any],
    arrays: dict[str, np.ndarray],
) -> Path:
    """Write the four files; ``meta`` gains the save time and the library versions."""
    import sklearn

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    full_meta = {
        **meta,
        "saved": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": {
            "narrascope": narrascope_version(),
            "numpy": np.__version__,
            "scipy": __import__("scipy").__version__,
            "scikit-learn": sklearn.__version__,
            "python": platform.python_version(),
        },
    }
    (out / "config.json").write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n")
    (out / "meta.json").write_text(json.dumps(full_meta, indent=1, ensure_ascii=False) + "\n")
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    np.savez_compressed(out / "weights.npz", **arrays)
    return out


def read_artefact(
    path: str | Path, *, class_name: str, format_version: int, what: str, train_hint: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], Any]:
    """(config, meta, vocab, arrays) of an artefact folder, or a ModelError saying why not.

    ``what`` names the model in messages ("narrative model"); ``train_hint`` says how to
    make one. Warns when the artefact was trained with another scikit-learn minor version
    (the TF-IDF tokenisation the vocabulary assumes could differ).
    """
    root = Path(path)
    missing = [n for n in FILES if not (root / n).is_file()]
    if missing:
        raise ModelError(
            E_MODEL_MISSING,
            f"{what} artefact at {root} is missing {', '.join(missing)}; "
            f"{train_hint} or reinstall narrascope",
        )
    try:
        config = json.loads((root / "config.json").read_text())
        meta = json.loads((root / "meta.json").read_text())
        vocab = json.loads((root / "vocab.json").read_text())
        arrays = np.load(root / "weights.npz", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ModelError(
            E_MODEL_MISSING, f"{what} artefact at {root} is unreadable: {exc}"
        ) from exc
    if config.get("format") != format_version or config.get("class") != class_name:
        raise ModelError(
            E_MODEL_VERSION,
            f"artefact at {root} has format {config.get('format')!r} "
            f"(class {config.get('class')!r}); this narrascope reads format {format_version}",
        )
    trained = meta.get("versions", {}).get("scikit-learn")
    running = _package_version("scikit-learn")
    if trained and trained.split(".")[:2] != running.split(".")[:2]:
        log.warning(
            "%s trained with scikit-learn %s, running %s; TF-IDF tokenisation may differ",
            what,
            trained,
            running,
        )
    return config, meta, vocab, arrays
