"""Every error the library raises, with a code and what to do about it."""

from __future__ import annotations


class NarrascopeError(Exception):
    """Base error: ``code`` is stable so users can search for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code


class InputError(NarrascopeError):
    """An input could not be read; the batch goes on without it."""

    def __init__(self, source: str, reason: str, code: str = "E100") -> None:
        super().__init__(code, f"{source}: {reason}")
        self.source = source
        self.reason = reason


class ModelError(NarrascopeError):
    """A model artefact is missing, broken or from an incompatible version."""
