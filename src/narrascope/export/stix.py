"""Near-duplicate campaigns as a STIX 2.1 bundle, for threat-intelligence tools (issue 26).

Why STIX: analysts exchange influence operations as STIX 2.1 (OpenCTI, MISP, DISARM's own
STIX templates). The bundle holds, with no custom properties (``stix2.parse(...,
allow_custom=False)`` reads it):

* one ``identity`` for Narrascope (``identity_class`` "system"), the creator of the rest;
* per cluster a ``campaign``: its name is the first words of the shared passage, its
  ``first_seen``/``last_seen`` the earliest and latest member dates (left out when no
  member has a date), its description the size, the sources and the coordination, its
  ``labels`` the members' narratives (``narrative:…``) and persuasion techniques
  (``technique:…``), and its ``external_references`` the cluster id (source "narrascope")
  and the DISARM techniques of :data:`DISARM` (below);
* per cluster a ``note`` on the campaign with the shared passage and the coordination
  numbers;
* per member document an ``observed-data`` object (``number_observed`` 1,
  ``first_observed``/``last_observed`` its date, or the run time when it has none) whose
  ``object_refs`` name a ``url`` SCO when the document has a URL, else a ``file`` SCO
  named by the document id with the SHA-256 of its text. Why ``file``: STIX 2.1 has no
  "document" or "post" observable, ``artifact`` needs the payload or a URL, and a custom
  object would not parse with ``allow_custom=False``; the hash lets a recipient check
  that a text it holds is the one observed, without the text being shipped. The
  document id, its source and its similarity to the earliest text are in the object's
  ``external_references`` (source "narrascope");
* a ``relationship`` "related-to" from each observed-data to its campaign.

Ids are deterministic: every SDO and SRO id is a UUIDv5 (namespace :data:`NAMESPACE`) of
the cluster id (and the document id), SCO ids are the spec's own UUIDv5 of their value,
so a cluster that persists across reruns (same cluster id, see
:mod:`narrascope.corpus.campaigns`) keeps its STIX ids; exporting the same result twice
gives the same bundle byte for byte. ``created`` is when the cluster was first stored
(its ``first_run``) or else ``as_of``, ``modified`` is ``as_of`` (the run time): a rerun
is a new version of the same objects, as STIX versioning means it.

``stix2`` is installed with narrascope but imported only here, when a bundle is made
(it costs 0.3 s to import); a broken install gets a clear error, not a traceback.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from narrascope.corpus.campaigns import UNKNOWN, timestamp
from narrascope.errors import E_PACKAGE_MISSING, NarrascopeError

# Proposed for narrascope.errors (a missing optional dependency); kept here meanwhile.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/narrascope/narrascope/stix")
# The identity object never changes: a fixed creation time (when this exporter was
# written) keeps it one object version in every bundle.
IDENTITY_CREATED = datetime(2026, 12, 5, tzinfo=UTC)
IDENTITY_ID = f"identity--{uuid.uuid5(NAMESPACE, 'identity|narrascope')}"
NAME_WORDS = 8
DISARM_URL = (
    "https://github.com/DISARMFoundation/DISARMframeworks/blob/main/generated_pages/"
    "techniques/{}.md"
)

# SemEval-2023 persuasion technique -> (DISARM technique id, name), ONLY where one DISARM
# technique plainly covers the rhetorical device (DISARM red framework, techniques index):
# * Whataboutism -> T0077 Distract: DISARM defines Distract as "shift attention to a
#   different narrative or actor, for instance by accusing critics of the same activity
#   that they've accused you of": its own example is whataboutism; no other DISARM
#   technique describes it.
# * Red_Herring -> T0077 Distract: a red herring brings in irrelevant matter to divert
#   attention from the issue, the first half of that definition word for word.
# Left out, because DISARM techniques describe operations, not devices, and the others
# match none or several: Appeal_to_Hypocrisy (T0075 Dismiss "critics use a different
# standard" and T0077 Distract both fit), Exaggeration-Minimisation (T0023 Distort facts
# or T0076 Distort), Straw_Man (T0076 Distort or T0077 Distract), Appeal_to_Authority
# (T0045 Use fake experts only when the authority is fake, which a text does not show),
# Doubt and Questioning_the_Reputation (T0075 Dismiss only when aimed at critics,
# T0066 Degrade Adversary is a plan, not a device), Appeal_to_Fear-Prejudice (T0078
# Dismay threatens critics, the device frightens the audience), Repetition (T0049
# Flooding is volume across channels, not repetition inside a text), Name_Calling-
# Labeling, Loaded_Language, Slogans, Flag_Waving, Appeal_to_Values,
# Appeal_to_Popularity, Appeal_to_Time, Causal_Oversimplification,
# Consequential_Oversimplification, False_Dilemma-No_Choice, Conversation_Killer,
# Obfuscation-Vagueness-Confusion, Guilt_by_Association (no DISARM technique).
DISARM: dict[str, tuple[str, str]] = {
    "Whataboutism": ("T0077", "Distract"),
    "Red_Herring": ("T0077", "Distract"),
}
# The behaviour every cluster with two or more known sources shows: DISARM T0084.001
# "Use Copypasta" is "a piece of text that has been copied and pasted multiple times
# across various online platforms [...] its final form may differ from its original
# source text as users add, delete, or otherwise edit the content": what a cluster is.
COPYPASTA = ("T0084.001", "Use Copypasta")


class StixUnavailable(NarrascopeError):
    """The optional ``stix2`` package is not installed."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            E_PACKAGE_MISSING,
            f"STIX export needs the stix2 package ({reason}), which narrascope installs: "
            "run `make venv` again, or pip install stix2==3.0.2",
        )


def require_stix2() -> Any:
    """The stix2 module, or :class:`StixUnavailable` saying how to install it."""
    try:
        import stix2
    except ImportError as exc:
        raise StixUnavailable(str(exc)) from None
    return stix2


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '|'.join((kind, *parts)))}"


def _moment(value: Any) -> datetime | None:
    """A date as a UTC datetime; None when unknown or outside what a datetime holds in
    UTC ("9999-12-31T23:00:00-05:00" is in the year 10000 there): scraped metadata uses
    such dates as "never" and "null" sentinels, and one must not block the whole bundle."""
    if value is None or value == UNKNOWN:
        return None
    ts = timestamp(value)
    if ts is None:
        return None
    try:
        return datetime.fromtimestamp(ts, UTC)
    except (ValueError, OverflowError, OSError):  # OSError: some platforms' C time range
        return None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def campaign_name(record: Mapping[str, Any]) -> str:
    """The first words of the shared passage (the cluster id when there is none)."""
    words = str(record.get("shared_passage") or "").split()
    if not words:
        return f"Near-duplicate cluster {record['id']}"
    name = " ".join(words[:NAME_WORDS])
    return name + ("…" if len(words) > NAME_WORDS else "")


def disarm_references(record: Mapping[str, Any]) -> list[dict[str, str]]:
    """The DISARM techniques a cluster shows (see :data:`DISARM` and :data:`COPYPASTA`)."""
    refs: dict[str, dict[str, str]] = {}
    count = _source_count(record)
    if count >= 2:
        tid, name = COPYPASTA
        refs[tid] = {
            "source_name": "DISARM",
            "external_id": tid,
            "url": DISARM_URL.format(tid),
            "description": f"{name}: near-duplicate copies posted by {count} sources",
        }
    for item in record.get("techniques", []):
        mapped = DISARM.get(item["label"])
        if mapped is None or mapped[0] in refs:
            continue
        tid, name = mapped
        refs[tid] = {
            "source_name": "DISARM",
            "external_id": tid,
            "url": DISARM_URL.format(tid),
            "description": f"{name}: the persuasion technique {item['label']} in "
            f"{item['count']} of {record['size']} documents",
        }
    return [refs[k] for k in sorted(refs)]


def _source_count(record: Mapping[str, Any]) -> int:
    """The cluster's known sources as its record counts them (a source named "unknown" is
    one); its shown sources without "unknown" for a record that has no count."""
    count = record.get("source_count")
    if count is None:
        return sum(1 for s in record.get("sources", []) if s != UNKNOWN)
    return int(count)


def _description(c: Mapping[str, Any]) -> str:
    count = _source_count(c)
    known = [s for s in c["sources"] if s != UNKNOWN]
    named = count > len(known)  # "unknown" is a source's name here, not a missing source
    if named:
        known = list(c["sources"])
    shown = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
    unknown = 0 if named else sum(1 for m in c["members"] if m["source"] == UNKNOWN)
    text = f"Near-duplicate cluster {c['id']} found by Narrascope: {c['size']} documents"
    text += f" from {count} sources ({shown})" if count else " of unknown sources"
    if count and unknown:
        text += f", {unknown} of unknown source"
    text += f"; first seen {c['first_seen']}, last seen {c['last_seen']}."
    window = c.get("coordination_window_hours")
    text += f" Coordination score {c['coordination']:.2f}"
    if window is not None:
        text += f": {c['coordinated_sources']} sources posted it within {window:g} hours."
    else:
        text += ": no two known sources with known dates."
    return text


def _note(c: Mapping[str, Any]) -> str:
    window = c.get("coordination_window_hours")
    span = c.get("time_span_hours")
    lines = [
        f"Shared passage (held by {c['shared_by']} of {c['size']} documents):",
        "",
        c["shared_passage"] or "(none)",
        "",
        f"Coordination score: {c['coordination']:.4f}",
        f"Coordinated sources: {c['coordinated_sources']}",
        "Coordination window (hours): " + ("unknown" if window is None else f"{window:g}"),
        "Time span (hours): " + ("unknown" if span is None else f"{span:g}"),
        f"Documents: {c['size']}; sources: {_source_count(c)}",
        f"First seen: {c['first_seen']}; last seen: {c['last_seen']}",
    ]
    return "\n".join(lines)


def campaigns_bundle(
    campaigns: Iterable[Any],
    *,
    as_of: datetime,
    first_created: Mapping[str, datetime] | None = None,
) -> Any:
    """A ``stix2.Bundle`` of ``campaigns`` (anything with ``to_dict()`` as
    :class:`narrascope.corpus.Campaign` or :class:`narrascope.store.campaigns.StoredCampaign`
    write it, members included).

    ``as_of`` is the run time (``modified`` of every object, and the observation time of
    undated documents); ``first_created`` maps a cluster id to when it was first stored
    (its objects' ``created``), defaulting to ``as_of``.
    """
    stix2 = require_stix2()
    as_of = _utc(as_of)
    first_created = first_created or {}
    identity = stix2.Identity(
        id=IDENTITY_ID,
        name="Narrascope",
        identity_class="system",
        description="Offline analysis of propaganda narratives; near-duplicate clusters "
        "of documents across sources and time.",
        created=IDENTITY_CREATED,
        modified=IDENTITY_CREATED,
    )
    objects: list[Any] = [identity]
    scos: dict[str, Any] = {}
    cluster_ids: list[str] = []
    for campaign in campaigns:
        c = campaign.to_dict()
        cid = str(c["id"])
        cluster_ids.append(cid)
        created = min(_utc(first_created.get(cid, as_of)), as_of)
        stamps = {"created": created, "modified": as_of, "created_by_ref": IDENTITY_ID}
        first, last = _moment(c["first_seen"]), _moment(c["last_seen"])
        seen: dict[str, Any] = {}
        if first is not None:
            seen["first_seen"] = first
        if last is not None and (first is None or last >= first):
            seen["last_seen"] = last
        labels = [f"narrative:{n['label']}" for n in c.get("narratives", [])]
        labels += [f"technique:{t['label']}" for t in c.get("techniques", [])]
        refs = [{"source_name": "narrascope", "external_id": cid}, *disarm_references(c)]
        sdo = stix2.Campaign(
            id=_id("campaign", cid),
            name=campaign_name(c),
            description=_description(c),
            external_references=refs,
            **({"labels": labels} if labels else {}),
            **seen,
            **stamps,
        )
        objects.append(sdo)
        objects.append(
            stix2.Note(
                id=_id("note", cid),
                abstract=f"Shared passage and coordination of near-duplicate cluster {cid}",
                content=_note(c),
                object_refs=[sdo.id],
                authors=["Narrascope"],
                **stamps,
            )
        )
        occurrences: dict[str, int] = {}
        for member in c["members"]:
            doc_id = str(member["id"])
            occurrences[doc_id] = occurrences.get(doc_id, 0) + 1
            key = doc_id if occurrences[doc_id] == 1 else f"{doc_id}#{occurrences[doc_id]}"
            if member.get("url"):
                sco = stix2.URL(value=member["url"])
            elif member.get("sha256"):
                sco = stix2.File(name=doc_id, hashes={"SHA-256": member["sha256"]})
            else:
                sco = stix2.File(name=doc_id)
            scos.setdefault(sco.id, sco)
            when = _moment(member["date"]) or as_of
            observed = stix2.ObservedData(
                id=_id("observed-data", cid, key),
                first_observed=when,
                last_observed=when,
                number_observed=1,
                object_refs=[sco.id],
                external_references=[
                    {
                        "source_name": "narrascope",
                        "external_id": doc_id,
                        "description": f"source: {member['source']}; date: {member['date']}; "
                        f"similarity to the earliest text: {member['similarity']}; "
                        f"containment: {member['containment']}",
                        **({"url": member["url"]} if member.get("url") else {}),
                    }
                ],
                **stamps,
            )
            objects.append(observed)
            objects.append(
                stix2.Relationship(
                    id=_id("relationship", observed.id, "related-to", sdo.id),
                    relationship_type="related-to",
                    source_ref=observed.id,
                    target_ref=sdo.id,
                    **stamps,
                )
            )
    objects.extend(scos[k] for k in sorted(scos))
    bundle_id = _id("bundle", as_of.isoformat(), *cluster_ids)
    return stix2.Bundle(objects=objects, id=bundle_id)


def write_stix(
    campaigns: Iterable[Any],
    fh: TextIO,
    *,
    as_of: datetime,
    first_created: Mapping[str, datetime] | None = None,
) -> None:
    """Write the bundle of :func:`campaigns_bundle` as indented JSON."""
    bundle = campaigns_bundle(campaigns, as_of=as_of, first_created=first_created)
    fh.write(bundle.serialize(pretty=True, ensure_ascii=False))
    fh.write("\n")
