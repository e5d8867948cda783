"""The search query language, the same in both backends, the CLI and the web API.

Syntax (documented for users in docs/api.md and ``narrascope search --help``):

- ``word word``: every word must be in the text (any order), each in any of its forms
  (``Украины`` finds ``Украина``; ``sanction`` finds ``sanctions``);
- ``word*``: the word in any form, or any word that begins with it (``sanction*``);
- ``a OR b``: either (``OR`` in capitals; it binds tighter than the implicit AND, so
  ``NATO sanctions OR embargo`` is NATO and (sanctions or embargo));
- ``"exact phrase"``: these words next to each other in this order, each in any form;
- ``-word``, ``-"a phrase"``: documents without it.

Nothing a user types is an error: it is read as words. A quote without its closing quote
is ignored (the words after it are plain words); ``OR`` with no term on one side, a lone
``-`` or ``*``, and punctuation are ignored; a word joined by punctuation
(``pro-Russian``, ``news.example.org``) is a phrase of its parts. A query left with no
word at all selects every document, as a blank one does.

Word forms: the index holds each text stemmed in its own language (:mod:`.stems`). A
query word is stemmed by each language's stemmer that the searched documents need (the
language filter's, else those of the languages stored) and kept as typed too; the term
matches any of these forms. A document's words all went through one stemmer, so a
phrase is tried once per stemmer (its words stemmed alike), never mixing languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from narrascope.store.stems import stems, words

PREFIX_STEM_SLACK = 2  # a stem is used as a prefix if at most this much shorter

# a quoted phrase (with its closing quote), or a run of anything but blanks and quotes
_LEXEME = re.compile(r'(-*)"([^"]*)"(\*?)|[^\s"]+')


@dataclass(frozen=True, slots=True)
class Term:
    """Words that must stand together (one word, or a phrase), the last maybe a prefix."""

    words: tuple[str, ...]  # normalised, not stemmed (stems.words)
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: every group must match (a group: any of its terms); no excluded term may."""

    groups: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.groups or self.excluded)


# One way a term can be found in the index: tokens in a row, the last one maybe a prefix.
Variant = tuple[tuple[str, ...], bool]


def parse_query(text: str) -> Query:
    """``text`` as a :class:`Query`; never fails (see the module docstring)."""
    items: list[tuple[str, Term | None]] = []  # ("OR", None) | ("+" / "-", term)
    for match in _LEXEME.finditer(text):
        if match.group(2) is not None:  # a quoted phrase
            negated, body, star = bool(match.group(1)), match.group(2), bool(match.group(3))
        else:
            raw = match.group(0)
            if raw == "OR":
                items.append(("OR", None))
                continue
            negated = raw.startswith("-")
            body = raw.lstrip("-")
            star = body.endswith("*")
        found = tuple(words(body))
        if found:
            items.append(("-" if negated else "+", Term(found, star)))
        else:
            items.append(("", None))  # nothing searchable: an operator next to it is stray
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    joining = False  # the last item was an OR that follows a wanted term
    for i, (kind, term) in enumerate(items):
        if kind == "OR":  # joins a wanted term to the next ("a OR OR b" too)
            joining = joining or (i > 0 and items[i - 1][0] == "+")
        elif kind == "+" and term is not None:
            if joining:
                groups[-1].append(term)
            else:
                groups.append([term])
            joining = False
        else:
            if kind == "-" and term is not None:
                excluded.append(term)
            joining = False
    return Query(tuple(tuple(_unique(g)) for g in groups), tuple(_unique(excluded)))


def _unique(terms: Iterable[Term]) -> list[Term]:
    return list(dict.fromkeys(terms))


def variants(term: Term, languages: list[str]) -> list[Variant]:
    """The index token sequences that ``term`` matches, for documents in ``languages``.

    For each stemmer (and unstemmed, for documents without one) the words stemmed alike.
    A prefix word also matches, as a prefix, its unstemmed form and each stem no more
    than PREFIX_STEM_SLACK characters shorter (``санкци*`` is ``санкц*`` in Russian),
    so a longer cut (``running`` → ``run``) does not flood the results with ``run*``.
    """
    found: list[Variant] = []
    plain = stems(list(term.words), None)
    for language in [None, *languages]:
        stemmed = tuple(stems(list(term.words), language)) if language else tuple(plain)
        found.append((stemmed, False))
        if term.prefix:
            head = stemmed[:-1]
            found.append(((*head, plain[-1]), True))
            if len(stemmed[-1]) >= len(plain[-1]) - PREFIX_STEM_SLACK:
                found.append((stemmed, True))
    wanted = dict.fromkeys(v for v in found if all(v[0]))  # a stem is never empty: safety
    # an exact token is already found by the same prefix
    return [v for v in wanted if not (not v[1] and (v[0], True) in wanted)]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A query as token sequences: each group a list of variants (any), all groups needed."""

    groups: list[list[Variant]]
    excluded: list[Variant]


def compile_query(query: Query, languages: list[str]) -> Compiled:
    """The variants of every term, for documents stemmed in ``languages``."""
    return Compiled(
        groups=[
            list(dict.fromkeys(v for term in group for v in variants(term, languages)))
            for group in query.groups
        ],
        excluded=list(
            dict.fromkeys(v for term in query.excluded for v in variants(term, languages))
        ),
    )


# --- what each backend is given --------------------------------------------------------
# Index tokens are letters, digits and marks only (stems.WORD): no quote, backslash,
# blank or operator can be in one, so quoting them below needs no escaping.


def fts5_match(groups: list[list[Variant]]) -> str:
    """An FTS5 MATCH expression: every group, each any of its variants."""
    return " AND ".join(
        "("
        + " OR ".join(f'"{" ".join(tokens)}"' + ("*" if prefix else "") for tokens, prefix in group)
        + ")"
        for group in groups
    )


def tsquery(groups: list[list[Variant]]) -> str:
    """The same as a PostgreSQL ``tsquery`` (cast from text, so no parser touches it)."""
    return " & ".join(
        "(" + " | ".join(_ts_variant(tokens, prefix) for tokens, prefix in group) + ")"
        for group in groups
    )


def _ts_variant(tokens: tuple[str, ...], prefix: bool) -> str:
    quoted = [f"'{t}'" for t in tokens]
    if prefix:
        quoted[-1] += ":*"
    return "(" + " <-> ".join(quoted) + ")"


def like_pattern(variant: Variant) -> str:
    """A LIKE pattern finding ``variant`` in ``' ' || stemmed text || ' '``."""
    tokens, prefix = variant
    return "% " + " ".join(tokens) + ("%" if prefix else " %")


def tsvector(tokens: list[str]) -> str:
    """The text of a PostgreSQL ``tsvector`` holding ``tokens`` with their positions.

    PostgreSQL keeps positions up to 16,383 and 256 per word: a phrase further into a
    very long text may be missed there (SQLite's FTS5 has no such limit).
    """
    positions: dict[str, list[int]] = {}
    for n, token in enumerate(tokens[:16383], start=1):
        positions.setdefault(token, []).append(n)
    for token in tokens[16383:]:  # later words are at 16,383, as to_tsvector puts them
        positions.setdefault(token, [16383])
    return " ".join(f"'{token}':{','.join(map(str, at[:256]))}" for token, at in positions.items())
