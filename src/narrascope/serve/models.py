"""Request and response bodies of the HTTP API, so the OpenAPI schema documents them.

Document records are returned exactly as ``Document.to_dict()`` writes them (the jsonl
export's record); ``DocumentRecord`` describes them for the schema and allows the extra
keys a record may carry (``title``, ``language_confidence``, annotation groups).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from narrascope.text.language import normalize_language

MAX_ID_CHARS = 512


def _check_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "text contains unpaired UTF-16 surrogates (\\ud800-\\udfff escapes); send valid Unicode"
        ) from None
    return text


def _check_language(code: str | None) -> str | None:
    """The two-letter code a language means, as the document model writes it ("RU",
    "rus", "pt-BR" are read); a code naming no language we know is the request's 422,
    with what to give instead, never a 500 when the document is made from it."""
    return normalize_language(code)


class DocumentIn(BaseModel):
    """One document of a batch; an empty text fails alone in the job, not the request."""

    text: str = Field(description="the document text, kept exactly as sent")
    id: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_ID_CHARS,
        description="document id; default: doc-<content hash>",
    )
    language: str | None = Field(
        None,
        max_length=64,
        description="ISO 639-1 code, e.g. ru (ISO 639-2/3 codes such as rus and regional "
        "forms such as pt-BR are read too); default: detected",
    )
    source: str | None = Field(None, max_length=2000)
    url: str | None = Field(None, max_length=8000)
    date: str | None = Field(None, max_length=64, description="ISO date, e.g. 2024-03-02")

    _text = field_validator("text")(_check_text)
    _language = field_validator("language")(_check_language)


class AnalyzeRequest(DocumentIn):
    # strict: only JSON true/false, so "yes", "no", 1 or "0" are a 422, never a guess
    store: bool = Field(
        False, strict=True, description="also save the analysed document in the database"
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text is empty (nothing but whitespace); send the text to analyse")
        return text


class DocumentsRequest(BaseModel):
    documents: list[DocumentIn] = Field(min_length=1, max_length=100_000)


class EvidenceOut(BaseModel):
    start: int
    end: int
    text: str
    score: float


class NarrativeOut(BaseModel):
    label: str
    score: float
    parent: str | None = None
    evidence: list[EvidenceOut] = []


class DocumentRecord(BaseModel):
    """A document and its whole analysis, as the jsonl export writes it."""

    model_config = ConfigDict(extra="allow")

    id: str
    language: str | None
    content_hash: str
    text: str
    source: str | None = None
    url: str | None = None
    date: str | None = None
    sentences: list[list[int]] = Field(description="[start, end) offsets into text")
    narratives: list[NarrativeOut] = []
    subnarratives: list[NarrativeOut] = []
    explanation: str | None = None
    entities: list[dict[str, Any]] = []
    techniques: list[dict[str, Any]] = []
    persuasion_profile: dict[str, int] = {}
    claims: list[dict[str, Any]] = Field(
        [], description="check-worthy claims, best first: {score, start, end, text}"
    )
    debunks: list[dict[str, Any]] = Field(
        [],
        description="known debunks the document repeats: {id, claim, url, verdict, date "
        "(the fact-check's, as imported; null when it had none), score, "
        "claim_span: {start, end, text} | null}",
    )
    comments: list[dict[str, Any]] | None = Field(
        None,
        description="a page's reader comments (only with `article`): {id, parent, author, date, "
        "start, end, depth, language, hate, incitement, claims, debunks}; a comment's "
        "claims and debunks are shaped as the document's, offsets in `text`, each with "
        "`comment`: the comment's id",
    )


class ErrorItem(BaseModel):
    loc: str = Field(description="the input at fault: body.text, query.limit, or body")
    msg: str


class ErrorOut(BaseModel):
    """Every error answer (4xx, 5xx): a readable sentence; a 422 names the inputs too."""

    detail: str = Field(description="what went wrong and what to do; never the input echoed")
    errors: list[ErrorItem] = Field(
        [], description="422 only: each input at fault, with its reason"
    )


class JobError(BaseModel):
    source: str
    reason: str


JobState = Literal["queued", "running", "done", "failed"]


class JobInfo(BaseModel):
    id: str
    state: JobState
    total: int = Field(description="documents to process (for uploads: counted ahead)")
    done: int = Field(description="documents analysed and stored")
    failed: int = Field(description="documents or inputs that failed (see errors)")
    errors: list[JobError] = Field(description="the first 1000 failures, in order")
    created: str
    finished: str | None = None
    document_ids: list[str] = Field(description="ids stored so far, in order")
    stage: str | None = Field(
        None, description="while running: the pipeline stage the batch in flight is in"
    )
    progress: float = Field(
        0.0,
        description="0-1: documents done or failed, plus the batch in flight counted by the "
        "stages it has passed (a single long text moves stage by stage)",
    )
    resumable: bool = Field(
        False,
        description="a failed or stopped job whose inputs are kept: POST "
        "/api/jobs/{id}/resume runs it again, skipping documents already stored",
    )


class JobResponse(BaseModel):
    job: JobInfo


class JobList(BaseModel):
    jobs: list[JobInfo]


class LabelScore(BaseModel):
    label: str
    score: float


class DocumentSummary(BaseModel):
    id: str
    language: str | None
    source: str | None
    url: str | None
    date: str | None
    narratives: list[LabelScore]


class DocumentPage(BaseModel):
    total: int = Field(description="documents matching the filters (all pages)")
    items: list[DocumentSummary]


class Deleted(BaseModel):
    id: str
    deleted: bool


StatsBy = Literal["day", "week", "month", "source", "language"]


class StatsRowOut(BaseModel):
    bucket: str | None = Field(description="day/week/month/source/language; null if unknown")
    narrative: str
    documents: int


class StatsOut(BaseModel):
    by: StatsBy
    rows: list[StatsRowOut]
    undated: int = Field(
        0,
        description="documents the rows count (same filters) that have no date, each once: "
        "a chart over time leaves them out",
    )


class HateStatsRowOut(BaseModel):
    bucket: str | None = Field(description="day/week/month/source/language; null if unknown")
    documents: int
    hateful: int = Field(description="documents whose article or any comment is hateful")
    offensive: int
    incitement: int
    comments: int
    hateful_comments: int
    offensive_comments: int
    incitement_comments: int


class HateStatsOut(BaseModel):
    by: StatsBy
    rows: list[HateStatsRowOut]


class DebunkStatsRowOut(BaseModel):
    bucket: str | None = Field(description="day/week/month/source/language; null if unknown")
    documents: int
    debunked: int = Field(description="documents that repeat any known debunk")


class DebunkStatsOut(BaseModel):
    by: StatsBy
    rows: list[DebunkStatsRowOut]


class FacetValue(BaseModel):
    value: str | None
    count: int


class DebunkOut(BaseModel):
    id: str
    claim: str | None
    verdict: str | None
    url: str | None
    documents: int = Field(description="documents repeating it")
    in_comments: int = Field(0, description="of those, documents where a reader comment repeats it")


class Facets(BaseModel):
    language: list[FacetValue]
    source: list[FacetValue]
    narrative: list[FacetValue]
    subnarrative: list[FacetValue] = []
    debunk: list[FacetValue] = Field([], description="known debunk ids, documents repeating each")
    documents: int
    debunked: int = Field(
        0, description="documents repeating any known debunk, in the article or a comment"
    )
    debunked_in_comments: int = Field(
        0, description="of those, documents where a reader comment repeats one"
    )
    debunks: list[DebunkOut] = Field(
        [], description="the known debunks documents repeat, most repeated first"
    )


class Health(BaseModel):
    status: Literal["ok"]
    documents: int
    version: str


# -- campaigns and discovered clusters (issue 26) -------------------------------------------


class LabelCount(BaseModel):
    label: str
    count: int


class CampaignRunOut(BaseModel):
    """The ``narrascope campaigns`` run whose clusters are stored."""

    run_id: str
    created: str = Field(description="ISO 8601, UTC")
    documents: int = Field(description="documents the run clustered")
    clusters: int
    members: int
    input: str | None = None
    parameters: dict[str, Any] = {}


class CampaignMemberOut(BaseModel):
    id: str = Field(description="document id")
    source: str = Field(description='"unknown" when the document has none')
    date: str = Field(
        description='the date as the document gives it ("05.03.2024", "2025-03-03T08:00:00"); '
        '"unknown" when it has none'
    )
    timestamp: str | None = Field(
        None,
        description="the date as the clustering read it, ISO 8601 in UTC "
        '("2024-03-05T00:00:00Z"; a date without a zone is UTC, one without a time '
        "midnight); null when the document is undated or its date names no day",
    )
    url: str | None = None
    similarity: float = Field(description="Jaccard similarity with the cluster's earliest text")
    containment: float = Field(description="share of the smaller text inside the larger one")
    narratives: list[str] = []
    techniques: list[str] = []
    sha256: str | None = None
    in_corpus: bool = Field(
        description="the document is in this database (its view is /#/doc/{id}); clusters "
        "of files stored with `campaigns --save-to` may name documents that are not"
    )
    view: str | None = Field(
        None, description="the document's view in the web page (null when not in_corpus)"
    )


class CampaignOut(BaseModel):
    """A stored cluster of near-duplicate documents (``narrascope campaigns``)."""

    id: str
    size: int = Field(description="documents in the cluster")
    first_seen: str
    last_seen: str
    time_span_hours: float | None
    sources: list[str] = Field(description="distinct sources, in order of first post")
    source_count: int = Field(description="known sources")
    coordination: float = Field(
        description="how many distinct sources posted it within how short a window"
    )
    coordinated_sources: int
    coordination_window_hours: float | None
    shared_passage: str = Field(description="the passage the members share")
    shared_by: int
    narratives: list[LabelCount] = []
    techniques: list[LabelCount] = []
    run_id: str
    first_run: str = Field(description="the run that first stored this cluster id")
    stored: str | None = None
    first_stored: str | None = None


class CampaignDetail(CampaignOut):
    members: list[CampaignMemberOut] = Field(description="earliest first")


class CampaignPage(BaseModel):
    stored: bool = Field(
        description="the database holds campaign tables (false: `narrascope campaigns --db` "
        "has not stored a run yet; nothing is created by reading)"
    )
    run: CampaignRunOut | None = None
    more: bool = Field(description="more clusters match beyond this page")
    items: list[CampaignOut]


class DiscoveredOut(BaseModel):
    """A cluster of ``narrascope discover``'s latest run (its members left out)."""

    model_config = ConfigDict(extra="allow")

    id: str
    label: str = Field(description="its first three terms")
    status: str = Field(description='"new" in the latest run, or "persisting"')
    size: int = Field(description="text units (paragraphs or documents)")
    documents: int
    terms: list[str]
    exemplars: list[dict[str, Any]] = Field(
        description="{doc_id, start, end, text, similarity}: sentences nearest its centre"
    )
    languages: dict[str, int] = {}
    sources: dict[str, int] = {}
    first_seen: str | None = None
    last_seen: str | None = None
    growth: list[dict[str, Any]] = Field(
        [], description='documents per bucket: {"bucket": "2025-W12", "documents": 3}'
    )
    promoted: list[str] = Field(
        [], description="custom narratives made from this cluster (their labels)"
    )


class DiscoverPage(BaseModel):
    stored: bool = Field(description="`narrascope discover` has stored a run in this database")
    run: dict[str, Any] | None = Field(None, description="the latest run: {run, at, units, ...}")
    items: list[DiscoveredOut]


class PromoteRequest(BaseModel):
    label: str = Field(min_length=1, max_length=200, description="the custom narrative's name")
    description: str | None = Field(None, max_length=2000)
    replace: bool = Field(
        False,
        strict=True,
        description="replace a custom narrative of the same label (else that is a 409)",
    )

    @field_validator("label", "description")
    @classmethod
    def _valid(cls, text: str | None) -> str | None:
        return None if text is None else _check_text(text)


class PromoteResult(BaseModel):
    label: str
    reported_as: str = Field(description='how `analyze` reports it ("Custom: LABEL")')
    cluster: str
    examples: int = Field(description="the cluster's distinct texts it learned from")
    new: bool = Field(description="false when it replaced a narrative of the same label")
    threshold: float
    cv: dict[str, Any] = Field(description="cross-validated precision, recall, folds...")
