"""Pipeline and the Stage protocol (batch in, batch out), in the spirit of spaCy's Language."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from narrascope.doc import Document
from narrascope.errors import E_NOT_A_TEXT, E_STAGE_CONTRACT, NarrascopeError

if TYPE_CHECKING:
    from narrascope.models.encoder import SentenceEncoder


# ``progress(stage_name, stages_done, stages_total)``, called before each stage of a batch
Progress = Callable[[str, int, int], None]

# half of a UTF-16 pair with no other half (a JSON "\ud83d" cut from its emoji): no UTF-8
# holds it, so the language detector and the sentence encoders cannot read it
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Cancelled(BaseException):
    """The caller's ``should_stop`` said stop; raised between stages and between batches.

    A ``BaseException``, like ``asyncio.CancelledError``: code that catches ``Exception``
    to isolate a failing document (the runner) must not take a stop for a broken text.
    """


@runtime_checkable
class Stage(Protocol):
    """What every analysis step looks like.

    A stage annotates documents in place and returns the same list, so stages compose
    and batching is the pipeline's business, not theirs.
    """

    name: str

    def __call__(self, docs: list[Document]) -> list[Document]: ...


class Pipeline:
    """Runs stages over documents, one batch at a time."""

    def __init__(
        self,
        stages: Sequence[Stage],
        *,
        encoder: SentenceEncoder | None = None,
        meta: dict | None = None,
    ) -> None:
        self.stages = list(stages)
        for stage in self.stages:
            _check_stage(stage)
        # the sentence encoder the stages share (built by the factory; None without one)
        self.encoder = encoder
        self.meta = dict(meta or {})

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def get_stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage named {name!r}; stages are {self.stage_names}")

    def make_doc(
        self,
        text: str | Document,
        *,
        id: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Document:
        """The Document the stages will read, made the same way however the text comes.

        A document without an id gets ``doc-<content_hash>``, as over HTTP: the same
        text gets the same id, and a store keeps one record per text instead of every
        document replacing the last under ``""``. A text or a Document built by hand is
        searched for a pasted reader thread, as a page given to the server is; a
        Document that a file reader made (its ``meta`` has ``path``) or whose article
        is already set was searched, or deliberately not (``--no-threads``).
        """
        if isinstance(text, Document):
            if id is not None or meta is not None:
                raise NarrascopeError(
                    E_NOT_A_TEXT, "id= and meta= go with a str; set them on the Document"
                )
            doc = text
            split = doc.article is None and "path" not in doc.meta
        elif isinstance(text, str):
            doc = Document(text=text, id=id or "", meta=dict(meta or {}))
            split = True
        else:
            raise NarrascopeError(
                E_NOT_A_TEXT, f"expected str or Document, got {type(text).__name__}"
            )
        if not doc.id:
            doc.id = f"doc-{doc.content_hash}"  # of the whole text, before any split
        if split:
            from narrascope.ingest.formats import attach_split  # only when it is needed

            attach_split(doc)  # a pasted page with its reader thread
        return doc

    def __call__(
        self,
        text: str | Document,
        *,
        id: str | None = None,
        meta: Mapping[str, Any] | None = None,
        should_stop: Callable[[], bool] | None = None,
        progress: Progress | None = None,
    ) -> Document:
        """Analyse one text; ``id`` and ``meta`` (source, url, date...) are the record's,
        as in :meth:`make_doc`. ``should_stop`` is asked before each stage (a true answer
        raises :class:`Cancelled`); ``progress`` hears which stage starts."""
        return self._run([self.make_doc(text, id=id, meta=meta)], should_stop, progress)[0]

    def pipe(
        self,
        texts: Iterable[str | Document],
        *,
        batch_size: int = 16,
        should_stop: Callable[[], bool] | None = None,
        progress: Progress | None = None,
    ) -> Iterator[Document]:
        """Analyse a stream lazily; memory stays bounded by one batch.

        Give Documents to give ids (see :meth:`make_doc`). ``should_stop`` and
        ``progress`` work as in :meth:`__call__`, for every batch; a server uses them to
        drop work whose client left and to show how far it got.
        """
        # checked now, not at the first next(): a batch size of 0 would return nothing
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer of at least 1, got {batch_size!r}")
        return self._pipe(iter(texts), batch_size, should_stop, progress)

    def _pipe(
        self,
        texts: Iterator[str | Document],
        batch_size: int,
        should_stop: Callable[[], bool] | None,
        progress: Progress | None,
    ) -> Iterator[Document]:
        while batch := [self.make_doc(t) for t in islice(texts, batch_size)]:
            yield from self._run(batch, should_stop, progress)

    def _run(
        self,
        docs: list[Document],
        should_stop: Callable[[], bool] | None = None,
        progress: Progress | None = None,
    ) -> list[Document]:
        exact = [_show_encodable(doc) for doc in docs]
        # a page with a reader thread: the stages read the article alone (comments are
        # analysed on their own), with the offsets of the whole text kept
        whole = [_show_article_only(doc) for doc in docs]
        try:
            return self._stages(docs, should_stop, progress)
        finally:
            for doc, text in zip(docs, whole, strict=True):
                if text is not None:
                    doc.text, doc.whole_text = text, None
            for doc, text in zip(docs, exact, strict=True):
                if text is not None:
                    doc.text = text

    def _stages(
        self,
        docs: list[Document],
        should_stop: Callable[[], bool] | None,
        progress: Progress | None,
    ) -> list[Document]:
        for n, stage in enumerate(self.stages):
            if should_stop is not None and should_stop():
                raise Cancelled(f"stopped before stage {stage.name!r}")
            if progress is not None:
                progress(stage.name, n, len(self.stages))
            returned = stage(docs)
            # the very objects: the pipeline puts a page's whole text back on the documents
            # it was given, and a copy would keep the article alone as its text
            if (
                returned is None
                or len(returned) != len(docs)
                or any(out is not doc for out, doc in zip(returned, docs, strict=True))
            ):
                raise NarrascopeError(
                    E_STAGE_CONTRACT,
                    f"stage {stage.name!r} must return the batch it was given: the same "
                    "Documents, annotated in place, in the same order",
                )
        return docs


def _check_stage(stage: object) -> None:
    """A stage is called with a batch and named in progress, errors and ``stage_names``."""
    name = getattr(stage, "name", None)
    if not callable(stage) or not isinstance(name, str) or not name:
        raise NarrascopeError(
            E_STAGE_CONTRACT,
            f"{stage!r} is not a stage: a stage is callable on a list of Documents and "
            "has a name (a str attribute `name`, as the Stage protocol says)",
        )


def _show_encodable(doc: Document) -> str | None:
    """Show the stages each unpaired surrogate as U+FFFD and return the exact text to put
    back afterwards; None when the text has none (nearly always).

    Why replace rather than refuse: such text comes from JSON (``"\\ud83d"``, a post cut
    inside an emoji) and is kept exactly in outputs, but no UTF-8 holds it, so the
    language detector and the sentence encoders would fail on the whole document. One
    character for one keeps every offset a stage writes valid, as the store does
    (``store/common.py``); a span over that character shows U+FFFD.
    """
    text = doc.text
    if text.isascii() or _LONE_SURROGATE.search(text) is None:
        return None
    doc.text = _LONE_SURROGATE.sub("\ufffd", text)
    return text


def _show_article_only(doc: Document) -> str | None:
    """Blank out what is not the article (the comments after it, a header before it) and
    return the whole text to put back afterwards; None when there is nothing to hide.

    Blanking, not cutting, keeps every offset a stage writes valid in the whole text, and
    line breaks are kept so paragraph numbers stay those of the whole text. A thread with
    no article text (replies whose post is not in the input) is read whole.
    """
    if doc.article is None:
        return None
    start, end = doc.article
    text = doc.text
    if not text[start:end].strip() or (start == 0 and end >= len(text)):
        return None
    head = "".join(c if c == "\n" else " " for c in text[:start]) if start else ""
    doc.text, doc.whole_text = head + text[start:end], text
    return text
