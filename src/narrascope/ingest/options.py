"""What the readers need to know about the inputs, checked once when it is built."""

from __future__ import annotations

from dataclasses import dataclass, fields

# "telegram": a Telegram Desktop export (result.json); "4cat": a 4CAT NDJSON export;
# "parquet": one document per row, read as a JSONL record (needs pyarrow: narrascope[scale]).
INPUT_FORMATS = (
    "txt",
    "md",
    "html",
    "jsonl",
    "csv",
    "tsv",
    "parquet",
    "telegram",
    "4cat",
    "subtitles",
    "pdf",
    "docx",
    "whatsapp",
    "feed",
    "eml",
)


# how much larger than ``max_bytes`` a PDF or Word file may be: its text is a fraction
CONTAINER_FACTOR = 20


@dataclass(frozen=True)
class ReadOptions:
    """Field names for record formats, a size limit, thread detection, a forced format.

    ``max_bytes`` bounds a whole file for txt/md/html (a PDF or Word file may be
    ``CONTAINER_FACTOR`` times larger: pictures and markup; its text is bounded by
    ``max_bytes``) and one document's text for the
    record formats (a JSONL/CSV record, a Telegram or 4CAT thread), so that one runaway
    input cannot exhaust memory. A ``None`` field name means "do not read that field".

    ``threads`` splits reader comments from their article in every input (a comment
    dump in a text, comment markup in HTML, Telegram and 4CAT replies). With
    ``parent_field``, JSONL/CSV records are grouped: a record whose parent field is
    empty is a post, and the records replying to it (however deep) become the comments
    of its document; ``author_field`` names each comment's author.
    """

    text_field: str = "text"
    id_field: str | None = "id"
    date_field: str | None = "date"
    source_field: str | None = "source"
    url_field: str | None = "url"
    max_bytes: int = 10_000_000
    input_format: str | None = None
    parent_field: str | None = None
    author_field: str | None = "author"
    threads: bool = True

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
        for name in ("parent_field", "author_field"):
            value = getattr(self, name)
            if value is None:
                continue
            if not value.strip():
                raise ValueError(f"{name} must be a non-empty column or key name, or None")
            if value == self.text_field:
                raise ValueError(f"{name} {value!r} is also the text field; name another one")
        if self.parent_field is not None:
            if self.parent_field == self.id_field:
                raise ValueError(
                    f"parent_field {self.parent_field!r} is also the id field: every record "
                    "would reply to itself; name the field that holds the parent's id"
                )
            if not self.threads:
                raise ValueError("parent_field groups records into threads: it needs threads=True")

    def chosen_fields(self) -> dict[str, str]:
        """The id, date, source and url fields named otherwise than by default
        (``{"date": "published"}``), that is, those the caller chose.

        Why: a record without the default ``date`` key is an undated post, but one
        without the ``publishd`` key the caller typed is a misspelling, which would
        otherwise put every document under "(no date)" without a word.
        """
        defaults = {f.name: f.default for f in fields(self)}
        chosen = {}
        for what in ("id", "date", "source", "url"):
            name = getattr(self, f"{what}_field")
            if name and name != defaults[f"{what}_field"]:  # "" reads nothing, as None
                chosen[what] = name
        return chosen
