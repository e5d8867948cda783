"""Corpus-level analyses: questions about many documents at once (issue 26).

:func:`find_campaigns` groups near-duplicate texts (the same content pushed by several
sources, lightly edited) into :class:`Campaign` clusters.
"""

from narrascope.corpus.campaigns import (
    Campaign,
    CampaignMember,
    CampaignRecord,
    find_campaigns,
)

__all__ = ["Campaign", "CampaignMember", "CampaignRecord", "find_campaigns"]
