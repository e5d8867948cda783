"""The estimator base: keyword parameters, learned state, and one artefact format.

Why one base: every model is a directory of ``config.json`` (format, class, parameters,
array shapes), ``state.json`` (labels, vocabularies, thresholds), ``weights.npz`` (named
arrays, never pickle) and ``meta.json`` (the training manifest). One writer and one
reader keep the checks (missing files, format version, class, array shapes, scikit-learn
drift) identical for every model, so a new model only says what its state is.

The habits are scikit-learn's (../shared/STYLE.md): parameters are keyword-only and stored
as given; learned state lives in attributes ending in ``_``; ``predict`` on an unfitted
model is a clear error. A changed recipe bumps :data:`FORMAT` instead of adding load shims.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import json
import logging
import os
import platform
import secrets
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import version as _package_version
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from narrascope.errors import E_MODEL_MISSING, E_MODEL_VERSION, ModelError

log = logging.getLogger(__name__)

FORMAT = 2  # format 1: hand-written save/load per model, settings dataclasses (to 2026-12-05)
FILES = ("config.json", "state.json", "weights.npz", "meta.json")
# what a broken file raises while it is read: bad JSON or UTF-8 (ValueError), a cut or
# damaged npz (BadZipFile, EOFError, zlib.error), an unreadable file (OSError)
_UNREADABLE = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


def bundled_path(name: str) -> Path:
    """Where the artefact ``name`` shipped with the package lives (``resources/models``)."""
    from importlib import resources

    return Path(str(resources.files("narrascope").joinpath("resources", "models", name)))


def user_cache_dir() -> Path:
    """Where numbers worth keeping between runs live (``$XDG_CACHE_HOME/narrascope``):
    training caches and the sentence encoder's tokenizer, never shipped artefacts."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "narrascope"


@dataclass(frozen=True, eq=False)
class Int8Matrix:
    """A weight matrix shipped as int8 with one float32 scale per row (~4x smaller).

    Rows (features) differ by orders of magnitude (idf, n-gram length), so a per-row
    scale keeps each feature's relative precision; CV is unchanged to 3 decimals. Models
    fit, measure and predict with :attr:`dense`, the values that ship.
    """

    q: np.ndarray
    scale: np.ndarray

    @classmethod
    def from_dense(cls, coef: np.ndarray) -> Int8Matrix:
        scale = np.abs(coef).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        q = np.rint(coef / scale[:, None]).astype(np.int8)
        return cls(q, scale.astype(np.float32))

    @cached_property
    def dense(self) -> np.ndarray:
        return self.q.astype(np.float32) * self.scale[:, None]

    @property
    def shape(self) -> tuple[int, ...]:
        return self.q.shape


class Estimator:
    """Base of every trained model (see the module docstring).

    Subclasses define keyword-only ``__init__`` parameters stored under the same names,
    ``_get_state()`` (learned state: JSON values and arrays) and ``_set_state(state)``.
    """

    artefact_what: ClassVar[str] = "model"
    train_hint: ClassVar[str] = "train one with `narrascope train`"
    # what a save may find in the directory besides FILES: the parts it writes itself
    # (``students/``), replaced with the rest, never kept from an earlier model
    artefact_parts: ClassVar[tuple[str, ...]] = ()

    meta: dict[str, Any]

    # ------------------------------------------------------------ parameters
    @classmethod
    def _defaults(cls) -> dict[str, Any]:
        """The keyword-only constructor parameters and their defaults, in order."""
        params = inspect.signature(cls.__init__).parameters.values()
        return {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}

    def _set_params(self, given: dict[str, Any]) -> None:
        """Store the keyword parameters as given (a constructor passes ``locals()``) and
        start with an empty training manifest."""
        for name in self._defaults():
            setattr(self, name, given[name])
        self.meta = {}

    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters, as given (what ``config.json`` stores)."""
        return {name: getattr(self, name) for name in self._defaults()}

    def __repr__(self) -> str:
        defaults = self._defaults()
        changed = {k: v for k, v in self.get_params().items() if defaults[k] != v}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # ----------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _set_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    @property
    def is_fitted(self) -> bool:
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise ModelError(
                E_MODEL_MISSING, f"{type(self).__name__} is not fitted; call fit() or load()"
            )

    # ------------------------------------------------------------ save / load
    def save(self, path: str | Path, *, meta: dict[str, Any] | None = None) -> Path:
        """Write the artefact directory; ``meta`` gains the save time and library versions.

        The model is written to a new sibling directory that then takes the place of
        ``path`` (two renames): an earlier model's files (a language student this one
        lacks) cannot outlive it, and a save that fails or is stopped while writing
        leaves the earlier model as it was. A directory holding anything but an
        artefact's files is refused rather than replaced.
        """
        import scipy
        import sklearn

        self._check_fitted()
        state = self._get_state()
        arrays: dict[str, np.ndarray] = {}
        quantised: list[str] = []
        plain: dict[str, Any] = {}
        for name, value in state.items():
            if isinstance(value, Int8Matrix):
                arrays[f"{name}__q"], arrays[f"{name}__scale"] = value.q, value.scale
                quantised.append(name)
            elif isinstance(value, np.ndarray):
                arrays[name] = value
            else:
                plain[name] = value
        shapes = {name: list(a.shape) for name, a in arrays.items()}
        config = {
            "format": FORMAT,
            "class": type(self).__name__,
            "params": self.get_params(),
            "arrays": shapes,
            "quantised": quantised,
        }
        full_meta = {
            **getattr(self, "meta", {}),
            **(meta or {}),
            "saved": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "versions": {
                "narrascope": __import__("narrascope").__version__,
                "numpy": np.__version__,
                "scipy": scipy.__version__,
                "scikit-learn": sklearn.__version__,
                "python": platform.python_version(),
            },
        }
        out = Path(path)
        if out.is_symlink() or out.name in ("", ".", ".."):  # the directory it names
            out = out.resolve()
        self._check_replaceable(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        new = _sibling(out, "saving")
        new.mkdir()
        try:
            (new / "config.json").write_text(_dumps(config, indent=1) + "\n")
            (new / "state.json").write_text(_dumps(plain))
            np.savez_compressed(new / "weights.npz", **arrays)
            (new / "meta.json").write_text(_dumps(full_meta, indent=1) + "\n")
            self._save_parts(new)
            _swap_in(new, out)
        except BaseException:
            shutil.rmtree(new, ignore_errors=True)
            raise
        return out

    def _save_parts(self, out: Path) -> None:
        """Write what this model keeps besides the four files (:attr:`artefact_parts`)."""

    @classmethod
    def _check_replaceable(cls, out: Path) -> None:
        """Refuse to put a model in place of a directory that holds anything else: the
        whole directory is replaced, and a user's own files must not go with it."""
        if not out.exists():
            return
        if not out.is_dir():
            raise FileExistsError(f"cannot save a {cls.artefact_what} to {out}: it is a file")
        if Path.cwd().resolve().is_relative_to(out.resolve()):
            raise FileExistsError(
                f"cannot save a {cls.artefact_what} to {out}: it holds the working "
                "directory, which a save would replace; save to a new directory"
            )
        own = {*FILES, *cls.artefact_parts}
        foreign = sorted(p.name for p in out.iterdir() if p.name not in own)
        if foreign:
            raise FileExistsError(
                f"cannot save a {cls.artefact_what} to {out}: it holds files that are no "
                f"part of one ({', '.join(foreign[:5])}); save to a new or empty directory"
            )

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Rebuild a model from a directory written by :meth:`save`, or a ModelError
        saying what is wrong with it and what to do."""
        root = Path(path)
        what = cls.artefact_what
        missing = [n for n in FILES if not (root / n).is_file()]
        if missing:
            raise ModelError(
                E_MODEL_MISSING,
                f"{what} artefact at {root} is missing {', '.join(missing)}; "
                f"{cls.train_hint} or reinstall narrascope",
            )
        try:
            config = _json_object(root / "config.json")
            if config.get("format") != FORMAT or config.get("class") != cls.__name__:
                raise ModelError(
                    E_MODEL_VERSION,
                    f"artefact at {root} has format {config.get('format')!r} "
                    f"(class {config.get('class')!r}); this narrascope reads "
                    f"{cls.__name__} format {FORMAT}: {cls.train_hint}",
                )
            state = _json_object(root / "state.json")
            meta = _json_object(root / "meta.json")
            arrays = _read_npz(root / "weights.npz")
            params, shapes, quantised = _config_parts(config)
        except _UNREADABLE as exc:
            raise ModelError(
                E_MODEL_MISSING,
                f"{what} artefact at {root} is unreadable (damaged or cut short: {exc}); "
                f"reinstall narrascope or {cls.train_hint}",
            ) from exc
        defaults = cls._defaults()
        unknown = sorted(set(params) - set(defaults))
        if unknown:
            saved_by = _versions(meta).get("narrascope", "an unknown version")
            raise ModelError(
                E_MODEL_VERSION,
                f"{what} artefact at {root} was saved by narrascope {saved_by} with "
                f"parameters this narrascope ({__import__('narrascope').__version__}) does "
                f"not know: {', '.join(unknown)}; upgrade narrascope or {cls.train_hint}",
            )
        found = {k: a.shape for k, a in arrays.items()}
        if shapes != found:
            raise ModelError(
                E_MODEL_VERSION,
                f"artefact at {root}: weights.npz does not match config.json "
                f"(arrays {sorted(found)} vs {sorted(shapes)}, or their shapes differ)",
            )
        for name in quantised:
            state[name] = Int8Matrix(arrays.pop(f"{name}__q"), arrays.pop(f"{name}__scale"))
        state.update(arrays)
        _warn_on_sklearn_drift(what, meta)
        # JSON has no tuples: a parameter declared with a tuple default gets one back
        params = {
            k: tuple(v) if isinstance(defaults.get(k), tuple) and isinstance(v, list) else v
            for k, v in params.items()
        }
        model = cls(**params)
        try:
            model._set_state(state)
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__} {exc}"
            raise ModelError(E_MODEL_VERSION, f"{what} artefact at {root}: {reason}") from exc
        model.meta = meta
        return model


def _json_object(path: Path) -> dict[str, Any]:
    """A JSON file that must hold an object (ValueError otherwise, as for bad JSON)."""
    value = json.loads(path.read_text())
    if not isinstance(value, dict):
        raise ValueError(f"{path.name} holds a JSON {type(value).__name__}, not an object")
    return value


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """The named arrays of an npz; what is no zip archive is refused here, before numpy
    would take it for a pickle and advise loading it unsafely."""
    with path.open("rb") as fh:
        if fh.read(2) != b"PK":
            raise ValueError(f"{path.name} is not an .npz archive")
    with np.load(path, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _config_parts(
    config: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, tuple[int, ...]], list[str]]:
    """``config.json``'s parameters, array shapes and quantised names, checked for type."""
    params = config.get("params")
    shapes = config.get("arrays", {})
    quantised = config.get("quantised", [])
    if not isinstance(params, dict) or not isinstance(shapes, dict):
        raise ValueError("config.json lacks its params or arrays object")
    if not isinstance(quantised, list) or not all(isinstance(q, str) for q in quantised):
        raise ValueError("config.json's quantised is not a list of names")
    try:
        return params, {k: tuple(v) for k, v in shapes.items()}, quantised
    except TypeError as exc:
        raise ValueError(f"config.json's arrays are not shapes ({exc})") from exc


def _versions(meta: dict[str, Any]) -> dict[str, Any]:
    versions = meta.get("versions")
    return versions if isinstance(versions, dict) else {}


def _sibling(out: Path, purpose: str) -> Path:
    """A fresh name next to ``out`` (same file system, so a rename moves it)."""
    return out.with_name(f".{out.name}.{purpose}-{os.getpid()}-{secrets.token_hex(4)}")


def _swap_in(new: Path, out: Path) -> None:
    """Put the directory ``new`` in the place of ``out`` with two renames; the earlier
    directory, if any, is deleted only once ``new`` is in place (or put back)."""
    if not out.exists():
        os.rename(new, out)
        return
    old = _sibling(out, "replaced")
    os.rename(out, old)
    try:
        os.rename(new, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def check_rows(name: str, array: np.ndarray | Int8Matrix, rows: int) -> None:
    """Raise ValueError when a weight matrix does not have one row per feature."""
    if array.shape[0] != rows:
        raise ValueError(f"{name} has {array.shape[0]} rows for {rows} features")


def _dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer | np.floating):
        return value.item()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON state")


def _warn_on_sklearn_drift(what: str, meta: dict[str, Any]) -> None:
    """The TF-IDF tokenisation a vocabulary assumes could differ across minor versions."""
    trained = _versions(meta).get("scikit-learn")
    running = _package_version("scikit-learn")
    if isinstance(trained, str) and trained.split(".")[:2] != running.split(".")[:2]:
        log.warning(
            "%s trained with scikit-learn %s, running %s; TF-IDF tokenisation may differ",
            what,
            trained,
            running,
        )
