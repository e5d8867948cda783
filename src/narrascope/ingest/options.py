"""What the readers need to know about the inputs, checked once when it is built."""

from __future__ import annotations

from dataclasses import dataclass

INPUT_FORMATS = ("txt", "md", "html", "jsonl", "csv", "tsv")


@dataclass(frozen=True)
class ReadOptions:
    """Field names for record formats, a size limit, and an optional forced format.

    ``max_bytes`` bounds a whole file for txt/md/html and one record's text for jsonl/csv,
    so that one runaway input cannot exhaust memory. A ``None`` field name means "do not
    read that field".
    """

    text_field: str = "text"
    id_field: str | None = "id"
    date_field: str | None = "date"
    source_field: str | None = "source"
    url_field: str | None = "url"
    max_bytes: int = 10_000_000
    input_format: str | None = None

    def __post_init__(self) -> None:
        if not self.text_field:
            raise ValueError("text_field must be a non-empty column or key name")
        if self.max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {self.max_bytes}")
        if self.input_format is not None and self.input_format not in INPUT_FORMATS:
            raise ValueError(
                f"unknown input_format {self.input_format!r}; choose one of "
                f"{', '.join(INPUT_FORMATS)}"
            )
