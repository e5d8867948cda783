"""Every error the library raises, with a code and what to do about it."""

from __future__ import annotations

# Codes, stable so users can search for them. E0xx: library use; E1xx: one input failed
# (the batch goes on); E2xx: models.
E_NOT_A_TEXT = "E001"  # pipeline called with something that is not a str or Document
E_STAGE_CONTRACT = "E002"  # a stage did not return the batch it was given
E_UNKNOWN_STAGE = "E003"
E_INPUT = "E100"  # generic input failure
E_NOT_FOUND = "E101"
E_TOO_LARGE = "E102"
E_BINARY = "E103"
E_DECODE = "E104"
E_EMPTY = "E105"
E_BAD_RECORD = "E106"
E_MISSING_FIELD = "E107"
E_RAGGED_ROW = "E108"
E_NO_MAIN_TEXT = "E109"
E_STAGE_FAILED = "E150"  # a stage raised on this one document
E_MODEL_MISSING = "E201"
E_MODEL_VERSION = "E202"


class NarrascopeError(Exception):
    """Base error: ``code`` is stable so users can search for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code


class InputError(NarrascopeError):
    """An input could not be read; the batch goes on without it."""

    def __init__(self, source: str, reason: str, code: str = E_INPUT) -> None:
        super().__init__(code, f"{source}: {reason}")
        self.source = source
        self.reason = reason


class ModelError(NarrascopeError):
    """A model artefact is missing, broken or from an incompatible version."""
