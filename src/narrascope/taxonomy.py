"""Every label set Narrascope predicts, defined once: narratives, roles, techniques.

Why a module of its own: models, stages, exporters and training code all need the same
names (``Other``, the three main roles, the 23 techniques in the official order), and
importing them from a model module made the exporters load estimators and tied the
technique model and its student into an import cycle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

# The catch-all narrative of SemEval-2025 Task 10 (also "<Narrative>: Other" below it).
OTHER = "Other"
# The label prefix of a user's own narrative (`narrascope taxonomy add`) in a record: no
# taxonomy label starts with it, and the shared-task exports leave such labels out.
CUSTOM_PREFIX = "Custom: "
# The languages of the SemEval-2025 Task 10 training data (narratives and entity roles).
LANGUAGES = ("bg", "en", "hi", "pt", "ru")


def custom_label(label: str) -> str:
    """The label a document record shows for the user's narrative ``label``."""
    return label if label.startswith(CUSTOM_PREFIX) else CUSTOM_PREFIX + label


MAIN_ROLES = ("Protagonist", "Antagonist", "Innocent")
# SemEval-2025 Task 10 subtask 1: fine role -> its main role.
FINE_ROLES: dict[str, str] = {
    **dict.fromkeys(
        ("Guardian", "Martyr", "Peacemaker", "Rebel", "Underdog", "Virtuous"), "Protagonist"
    ),
    **dict.fromkeys(
        (
            "Instigator",
            "Conspirator",
            "Tyrant",
            "Foreign Adversary",
            "Traitor",
            "Spy",
            "Saboteur",
            "Corrupt",
            "Incompetent",
            "Terrorist",
            "Deceiver",
            "Bigot",
        ),
        "Antagonist",
    ),
    **dict.fromkeys(("Forgotten", "Exploited", "Victim", "Scapegoat"), "Innocent"),
}

# SemEval-2023 Task 3, in the official order of ``techniques_subtask3.txt``; probability
# columns of the technique models follow it.
TECHNIQUES = (
    "Appeal_to_Authority",
    "Appeal_to_Popularity",
    "Appeal_to_Values",
    "Appeal_to_Fear-Prejudice",
    "Flag_Waving",
    "Causal_Oversimplification",
    "False_Dilemma-No_Choice",
    "Consequential_Oversimplification",
    "Straw_Man",
    "Red_Herring",
    "Whataboutism",
    "Slogans",
    "Appeal_to_Time",
    "Conversation_Killer",
    "Loaded_Language",
    "Repetition",
    "Exaggeration-Minimisation",
    "Obfuscation-Vagueness-Confusion",
    "Name_Calling-Labeling",
    "Doubt",
    "Guilt_by_Association",
    "Appeal_to_Hypocrisy",
    "Questioning_the_Reputation",
)
# The languages of the SemEval-2023 Task 3 training data.
TECHNIQUE_LANGUAGES = ("de", "en", "fr", "it", "pl", "ru")


def _resource(name: str) -> dict[str, Any]:
    path = resources.files("narrascope").joinpath("resources", "taxonomy", name)
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def narrative_taxonomy() -> dict[str, Any]:
    """The bundled narrative taxonomy: ``narratives`` (list) and ``subnarratives``
    (narrative -> its ``Narrative: Sub`` labels; ``Narrative: Other`` included)."""
    return _resource("narratives.json")


@lru_cache(maxsize=1)
def technique_taxonomy() -> dict[str, Any]:
    """The bundled technique list: ``families`` (key -> name, techniques) and
    ``techniques`` (name -> display name, family, a one-sentence definition in our words)."""
    return _resource("techniques.json")


def technique_family(technique: str) -> str | None:
    """The SemEval-2023 family key of a technique (``attack_on_reputation``...)."""
    entry = technique_taxonomy()["techniques"].get(technique)
    return entry["family"] if entry else None


def persuasion_profile(found: Iterable[tuple[int, str]]) -> dict[str, int]:
    """Paragraphs using each family, from ``(paragraph line, technique)`` pairs: a paragraph
    counts once per family however many of its techniques or spans mark it. Every family
    is listed (0 too), so profiles of different documents line up as columns."""
    lines: dict[str, set[int]] = {f: set() for f in technique_taxonomy()["families"]}
    for line, technique in found:
        family = technique_family(technique)
        if family is not None:
            lines[family].add(line)
    return {family: len(used) for family, used in lines.items()}


def coarse_of(fine_label: str, coarse_labels: Iterable[str]) -> str:
    """The narrative a ``Narrative: Sub`` label belongs to (longest matching prefix)."""
    best = ""
    for c in coarse_labels:
        if c != OTHER and fine_label.startswith(c + ": ") and len(c) > len(best):
            best = c
    if not best:
        raise ValueError(f"sub-narrative {fine_label!r} has no known parent narrative")
    return best


def parent_narrative(label: str, narratives: Sequence[str]) -> str:
    """The narrative among ``narratives`` a sub-narrative belongs to, else its own prefix."""
    try:
        return coarse_of(label, narratives)
    except ValueError:
        return label.rsplit(": ", 1)[0]
