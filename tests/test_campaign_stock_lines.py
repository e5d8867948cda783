"""A stock line (a legal label, a "subscribe" line) that unrelated texts of different
sources end with makes no campaign (review D4), while a text copied by several sources
still does, label or not."""

from __future__ import annotations

from narrascope.corpus import find_campaigns
from test_campaigns import PORT, PRICES, SILOS, text

LABEL = (
    "This post was prepared and published by a news service that the ministry of justice "
    "lists in its register of organisations acting as agents of a foreign state."
)
OUTAGE = (
    "Power went out again tonight in the western districts, and the grid company says "
    "the repairs on the damaged substation will take at least two more days."
)
SCHOOL = (
    "Our correspondent visited the new school in the suburbs, where lessons started again "
    "this week after the long winter holidays and the repairs of the heating."
)


def labelled(body: str) -> str:
    return f"{body}\n\n{LABEL}"


def test_unrelated_posts_ending_with_one_label_are_no_campaign() -> None:
    records = [
        {"id": "outage", "text": labelled(OUTAGE), "source": "chan-1"},
        {"id": "school", "text": labelled(SCHOOL), "source": "chan-2"},
        {"id": "silos", "text": labelled(text(SILOS)), "source": "chan-3"},
        {"id": "prices", "text": labelled(text(PRICES[:2])), "source": "chan-4"},
    ]
    assert find_campaigns(records) == []
    # the rule is what keeps them apart: without it the label ties them together
    (tied,) = find_campaigns(records, stock_line_sources=0)
    assert tied.size == 4 and LABEL.rstrip(".") in tied.shared_passage


def test_copies_of_one_text_still_cluster_with_or_without_the_label() -> None:
    records = [
        {"id": "outage", "text": labelled(OUTAGE), "source": "chan-1"},
        {"id": "school", "text": labelled(SCHOOL), "source": "chan-2"},
        {"id": "silos", "text": labelled(text(SILOS)), "source": "chan-3"},
        {"id": "port-a", "text": labelled(text(PORT)), "source": "chan-4"},
        {"id": "port-b", "text": labelled(text(PORT[:3])), "source": "chan-5"},
        {"id": "port-c", "text": text(PORT), "source": "chan-6"},
    ]
    (campaign,) = find_campaigns(records)
    assert {m.id for m in campaign.members} == {"port-a", "port-b", "port-c"}
    assert PORT[0] in campaign.shared_passage and LABEL not in campaign.shared_passage


def test_a_text_copied_verbatim_under_each_sources_own_header_is_one_campaign() -> None:
    # every paragraph is a line that four sources carry: their rest is the same text
    headers = ["Breaking:", "From our partners", "Read and share!", "Morning digest"]
    records = [
        {"id": f"copy-{i}", "text": f"{header}\n{text(PORT)}", "source": f"chan-{i}"}
        for i, header in enumerate(headers)
    ]
    (campaign,) = find_campaigns(records)
    assert campaign.size == 4 and campaign.source_count == 4


def test_a_short_text_copied_with_one_line_headers_is_one_campaign() -> None:
    # a one-paragraph post under short headers: the headers are too little text of
    # their own for the post to read as their stock line
    headers = ["Breaking:", "From our partners", "Read and share!", "Morning digest"]
    records = [
        {"id": f"copy-{i}", "text": f"{header}\n{PORT[0]}", "source": f"chan-{i}"}
        for i, header in enumerate(headers)
    ]
    (campaign,) = find_campaigns(records)
    assert campaign.size == 4
