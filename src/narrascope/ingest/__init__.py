"""The input layer: files, folders and stdin in, :class:`~narrascope.Document` objects out.

    >>> from narrascope.ingest import ReadOptions, read_inputs
    >>> for item in read_inputs(["corpus/", "comments.jsonl"], ReadOptions(text_field="body")):
    ...     print(item.id if isinstance(item, Document) else f"skipped {item}")

Inputs are streamed, and a bad input becomes an :class:`~narrascope.errors.InputError`
in the stream instead of an exception, so one broken file never stops a batch.
"""

from narrascope.ingest.core import discover, estimate_count, read_inputs
from narrascope.ingest.encoding import decode_bytes
from narrascope.ingest.options import INPUT_FORMATS, ReadOptions

__all__ = [
    "INPUT_FORMATS",
    "ReadOptions",
    "decode_bytes",
    "discover",
    "estimate_count",
    "read_inputs",
]
