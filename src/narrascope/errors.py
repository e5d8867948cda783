"""Every error the library raises, with a code and what to do about it."""

from __future__ import annotations

# Codes, stable so users can search for them. E0xx: library use; E1xx: one input failed
# (the batch goes on); E2xx: models; E3xx: the corpus database (store/).
E_NOT_A_TEXT = "E001"  # pipeline called with something that is not a str or Document
E_STAGE_CONTRACT = "E002"  # a stage did not return the batch it was given
E_UNKNOWN_STAGE = "E003"
E_STAGE_CONFIG = "E004"  # a stage was given a parameter it does not take
E_PACKAGE_MISSING = "E005"  # a package narrascope needs is missing (a broken install)
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
E_STORE_VERSION = "E301"  # the database was written by a newer narrascope
E_STORE_UNSUPPORTED = "E302"  # a database kind (URL scheme) we cannot open yet
E_STORE_OPEN = "E303"  # the database file cannot be opened or is not a narrascope database
E_STORE_DOCUMENT = "E304"  # the database refused one document of a batch (the rest is saved)
E_STORE_FILTER = "E305"  # a search filter the store cannot use (a date that is no day...)
E_STORE_WRITE = "E306"  # the database did not keep what was written (read-only, busy)


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


class StoreError(NarrascopeError):
    """The corpus database cannot be opened or used as asked."""
