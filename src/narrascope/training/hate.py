"""Train and measure the hate / offensive / incitement model (issue 24).

The corpora are research-licensed and read by path only; the artefact keeps numbers
(head weights, thresholds, scores, counts), never a text. Each reader maps its corpus's
labels onto ours and says what they mean (docs/hate-research.md):

* Davidson et al. 2017 (en tweets): ``class`` 0 hate speech -> hateful, 1 offensive ->
  offensive, 2 neither -> none. Davidson's "hate" is largely slur use, and many slurs in
  the offensive class are self-referential; no target is given.
* ToLD-Br (pt tweets, 0-3 votes per category): a majority (>= 2 of 3 annotators) on
  homophobia / racism / misogyny / xenophobia -> hateful with target sexuality /
  ethnicity / gender / nationality; otherwise a majority on obscene / insult ->
  offensive; else none (a single annotator's flag is a minority view).
* Russian distorted toxicity (VK comments): ``toxicity`` 1 -> abusive (the corpus does not
  separate hate from insult, so these rows train the abusive head only).
* CheckThat! 2022 1C "harmful" (bg/en COVID tweets): harm to society (rumour, panic,
  discrimination), not abuse: used only to check how the abusive score transfers to
  Bulgarian, never to train. ``*_dev_test.tsv`` is held back and never read.

* Our own contrast rows (``CONTRAST``): groups named without attack, not hateful (hate
  head only).

Davidson and ToLD-Br are subsampled (``SUBSAMPLE``: every hateful row kept, each other
row weighted by how many it stands for) to keep encoding near ten minutes on two cores.
The e5 vectors of every corpus text are computed once and cached under
``$NARRASCOPE_HATE_CACHE`` (default ``/tmp/narrascope-hate-cache``), outside the repo.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.errors import E_EMPTY, E_NOT_FOUND, NarrascopeError

# the layers the early exit reads (HateModel's default; the vectors are cached per depth)
EARLY_LAYERS = 2
DATASETS = ("davidson-hate-offensive", "told-br", "ru-distorted-toxicity", "checkthat2022-1c")
TOLD_TARGETS = {
    "homophobia": "sexuality",
    "racism": "ethnicity",
    "misogyny": "gender",
    "xenophobia": "nationality",
}
# Encoding budget (2 shared cores, ~15-20 texts/s): the biggest corpora are subsampled,
# every hateful row kept (docs/hate-research.md says how much).
SUBSAMPLE = {"davidson-hate-offensive": 6000, "told-br": 6000, "checkthat2022-1c": 1200}
# the files each dataset is read from, under the datasets folder (``--data``)
DATASET_FILES = {
    "davidson-hate-offensive": ("davidson-hate-offensive/data/labeled_data.csv",),
    "told-br": ("told-br/ToLD-BR.csv",),
    "ru-distorted-toxicity": (
        "ru-distorted-toxicity/toxicity_corpus/russian_distorted_toxicity.tsv",
    ),
    "checkthat2022-1c": tuple(
        f"checkthat2022-task1/bulgarian/CT22_bulgarian_1C_harmful_{split}.tsv"
        for split in ("train", "dev")
    ),
}


@dataclass(frozen=True)
class HateRow:
    """One labelled text. ``abusive``/``hateful`` are 0/1, or -1 where the corpus does
    not say (Russian toxicity says nothing about hate); ``harmful`` is CheckThat's label."""

    text: str
    language: str
    dataset: str
    abusive: int
    hateful: int
    target: str | None = None
    harmful: int = -1
    weight: float = 1.0  # rows of the full corpus this row stands for (subsampling)

    @property
    def label(self) -> str:
        if self.hateful == 1:
            return "hateful"
        return "offensive" if self.abusive == 1 else "none"


_NORM = re.compile(r"@\w+|https?://\S+|\brt\b|[^\w]+")


def group_key(text: str) -> str:
    """Near-duplicates (retweets, the same tweet with other mentions or links) share a
    key, so cross-validation never scores a copy of a training text."""
    return _NORM.sub(" ", text.lower()).strip()


# --------------------------------------------------------------------------- readers
def read_davidson(root: Path) -> list[HateRow]:
    rows = []
    with open(root / "data" / "labeled_data.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            cls = int(r["class"])
            rows.append(
                HateRow(r["tweet"], "en", "davidson-hate-offensive", int(cls < 2), int(cls == 0))
            )
    return rows


def read_told(root: Path) -> list[HateRow]:
    rows = []
    with open(root / "ToLD-BR.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            votes = {k: float(r[k] or 0) for k in r if k != "text"}
            hate = {TOLD_TARGETS[k]: v for k, v in votes.items() if k in TOLD_TARGETS and v >= 2}
            target = max(hate, key=hate.__getitem__) if hate else None
            abusive = int(max(votes.values()) >= 2)
            rows.append(HateRow(r["text"], "pt", "told-br", abusive, int(bool(hate)), target))
    return rows


def read_ru_toxicity(root: Path) -> list[HateRow]:
    rows = []
    path = root / "toxicity_corpus" / "russian_distorted_toxicity.tsv"
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            rows.append(
                HateRow(r["comments"], "ru", "ru-distorted-toxicity", int(r["toxicity"]), -1)
            )
    return rows


def read_checkthat_1c(root: Path, languages: tuple[str, ...] = ("bulgarian",)) -> list[HateRow]:
    """Train and dev files only: ``*_dev_test.tsv`` is this project's held-back data."""
    codes = {"bulgarian": "bg", "english": "en", "dutch": "nl", "turkish": "tr", "arabic": "ar"}
    rows = []
    for lang in languages:
        for split in ("train", "dev"):
            path = root / lang / f"CT22_{lang}_1C_harmful_{split}.tsv"
            with open(path, newline="", encoding="utf-8") as f:
                for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                    rows.append(
                        HateRow(
                            r["tweet_text"],
                            codes[lang],
                            "checkthat2022-1c",
                            -1,
                            -1,
                            harmful=int(r["class_label"]),
                        )
                    )
    return rows


def read_dataset(name: str, datasets_dir: Path) -> list[HateRow]:
    if name == "davidson-hate-offensive":
        return read_davidson(datasets_dir / name)
    if name == "told-br":
        return read_told(datasets_dir / name)
    if name == "ru-distorted-toxicity":
        return read_ru_toxicity(datasets_dir / name)
    if name == "checkthat2022-1c":
        return read_checkthat_1c(datasets_dir / "checkthat2022-task1")
    raise ValueError(f"unknown dataset {name!r}; known: {DATASETS}")


def subsample(rows: list[HateRow], limit: int | None, seed: int = 0) -> list[HateRow]:
    """At most ``limit`` rows: every hateful (or harmful) row, then the rest spread evenly
    over the other labels; order is kept so the cache stays valid. Each row's ``weight``
    is how many rows of its label in the full corpus it stands for, so scores can also be
    given at the corpus's own class balance."""
    if limit is None or len(rows) <= limit:
        return rows
    rng = np.random.default_rng(seed)
    keep = {i for i, r in enumerate(rows) if r.hateful == 1 or r.harmful == 1}
    rest: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if i not in keep:
            rest.setdefault(r.label, []).append(i)
    room = max(0, limit - len(keep))
    per = room // max(1, len(rest))
    weight = {}
    for label, idx in rest.items():
        take = min(len(idx), per)
        keep.update(rng.choice(idx, take, replace=False).tolist())
        weight[label] = len(idx) / max(take, 1)
    return [
        replace(
            rows[i], weight=1.0 if i not in rest.get(rows[i].label, ()) else weight[rows[i].label]
        )
        for i in sorted(keep)
    ]


def check_datasets(datasets_dir: str | Path, names: tuple[str, ...] = DATASETS) -> None:
    """Raise E101 naming every file of ``names`` missing under ``datasets_dir``.

    Why before reading: a wrong ``--data`` ended in a traceback from the first ``open``
    (after the encoder had loaded), naming one file and not the folder expected.
    """
    root = Path(datasets_dir)
    if not root.is_dir():
        raise NarrascopeError(E_NOT_FOUND, f"corpus directory not found: {root}")
    missing = [f for name in names for f in DATASET_FILES[name] if not (root / f).is_file()]
    if missing:
        shown = ", ".join(missing[:4]) + (
            f" and {len(missing) - 4} more" if len(missing) > 4 else ""
        )
        raise NarrascopeError(
            E_NOT_FOUND,
            f"{root}: no {shown}; --data is the folder holding the hate corpora "
            f"({', '.join(sorted({f.split('/')[0] for f in missing}))}), "
            "e.g. ../shared/datasets",
        )


def load_rows(
    datasets_dir: str | Path, names: tuple[str, ...] = DATASETS, *, contrast: bool = True
) -> list[HateRow]:
    """Every dataset of ``names`` (subsampled), then our contrast rows; a missing file,
    or corpora without a row, is an error (E101, E105), never an empty evaluation."""
    check_datasets(datasets_dir, names)
    out: list[HateRow] = []
    for name in names:
        out.extend(subsample(read_dataset(name, Path(datasets_dir)), SUBSAMPLE.get(name)))
    if names and not out:
        raise NarrascopeError(E_EMPTY, f"{datasets_dir}: the hate corpora hold no row")
    return out + (contrast_rows() if contrast else [])


# Our own contrast rows (written for this project): groups named without any attack. The
# corpora almost never name a group kindly, so without these the hate head learns "a
# group is named" (HateCheck's ident_neutral / ident_pos cases). They train the hate
# head only, as one more source weighted CONTRAST_WEIGHT of a corpus (in the abusive head
# a language's only rows, all "none", taught "this language is never abusive"); none of
# them is in the smoke tests.
CONTRAST: dict[str, tuple[str, ...]] = {
    "en": (
        "Gay people deserve equal rights.",
        "My Muslim neighbours invited us to dinner.",
        "Jewish families gathered to celebrate the holiday.",
        "Women scientists won three of the prizes this year.",
        "Many refugees have found work in the city.",
        "Black artists shaped the music of the last century.",
        "The disabled athletes trained for months.",
        "Immigrants opened most of the shops on this street.",
        "Trans people should be able to live in peace.",
        "Russians and Ukrainians used to live side by side here.",
    ),
    "ru": (
        "Геи заслуживают равных прав.",
        "Соседи-мусульмане пригласили нас на ужин.",
        "Еврейские семьи собрались отметить праздник.",
        "Женщины-учёные получили три премии в этом году.",
        "Многие беженцы нашли работу в городе.",
        "Мигранты открыли большинство магазинов на этой улице.",
        "Украинцы и русские раньше жили здесь бок о бок.",
        "Люди с инвалидностью тренировались несколько месяцев.",
    ),
    "uk": (
        "Геї заслуговують на рівні права.",
        "Сусіди-мусульмани запросили нас на вечерю.",
        "Багато біженців знайшли роботу в місті.",
        "Жінки-науковиці отримали три премії цього року.",
    ),
    "bg": (
        "Гейовете заслужават равни права.",
        "Съседите ни мюсюлмани ни поканиха на вечеря.",
        "Много бежанци намериха работа в града.",
        "Жените учени спечелиха три награди тази година.",
    ),
    "pt": (
        "Os gays merecem direitos iguais.",
        "Nossos vizinhos muçulmanos nos convidaram para jantar.",
        "Famílias judias se reuniram para celebrar o feriado.",
        "Mulheres cientistas ganharam três prêmios este ano.",
        "Muitos refugiados encontraram trabalho na cidade.",
        "Artistas negros marcaram a música do século passado.",
        "Imigrantes abriram a maioria das lojas desta rua.",
        "Pessoas trans devem poder viver em paz.",
    ),
    "hi": (
        "समलैंगिक लोगों को बराबर अधिकार मिलने चाहिए।",
        "हमारे मुसलमान पड़ोसियों ने हमें खाने पर बुलाया।",
        "कई शरणार्थियों को शहर में काम मिल गया।",
        "महिला वैज्ञानिकों ने इस साल तीन पुरस्कार जीते।",
    ),
}
CONTRAST_WEIGHT = 0.1


def contrast_rows() -> list[HateRow]:
    return [
        HateRow(text, lang, "own-contrast", -1, 0)
        for lang, texts in CONTRAST.items()
        for text in texts
    ]


# ----------------------------------------------------------------------------- cache
def cache_dir() -> Path:
    import os

    return Path(os.environ.get("NARRASCOPE_HATE_CACHE", "/tmp/narrascope-hate-cache"))


def cached_vectors(
    rows: list[HateRow], *, progress: bool = False, layers: int | None = None
) -> np.ndarray:
    """e5 vectors of ``rows`` (one per text; ``layers``: after that many layers, the
    early exit's), from the cache where known, the rest encoded in chunks and added (an
    interrupted run resumes)."""
    from narrascope.models.hate import E5Sentences

    root = cache_dir() / f"layers-{layers}" if layers else cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    keys = [hashlib.sha1(r.text.encode()).hexdigest()[:16] for r in rows]
    known: dict[str, np.ndarray] = {}
    for part in sorted(root.glob("part-*.npz")):
        with np.load(part) as z:
            known.update(zip(z["keys"].tolist(), z["vectors"], strict=True))
    todo = sorted({k: r.text for k, r in zip(keys, rows, strict=True) if k not in known}.items())
    if todo:
        enc = E5Sentences.shared()
        started = time.perf_counter()
        for a in range(0, len(todo), 500):
            chunk = todo[a : a + 500]
            vecs = enc([t for _, t in chunk], layers=layers)
            name = root / f"part-{time.time_ns()}.npz"
            np.savez(name, keys=np.array([k for k, _ in chunk]), vectors=vecs)
            known.update(zip([k for k, _ in chunk], vecs, strict=True))
            if progress:
                done = a + len(chunk)
                rate = done / (time.perf_counter() - started)
                print(
                    f"encoded {done}/{len(todo)} ({rate:.1f} texts/s)", file=sys.stderr, flush=True
                )
    return np.stack([known[k] for k in keys]) if rows else np.zeros((0, 384), np.float32)


def describe(rows: list[HateRow]) -> dict[str, Any]:
    """Counts per dataset and label: safe to store in the artefact."""
    out: dict[str, Any] = {}
    for name in sorted({r.dataset for r in rows}):
        part = [r for r in rows if r.dataset == name]
        out[name] = {
            "rows": len(part),
            "language": sorted({r.language for r in part}),
            "labels": dict(Counter(r.label for r in part if r.abusive >= 0)) or None,
            "targets": dict(Counter(r.target for r in part if r.target)) or None,
            "harmful": dict(Counter(r.harmful for r in part if r.harmful >= 0)) or None,
        }
    return out


# ------------------------------------------------------------------------ measuring
# Our own smoke test for the incitement lexicon (written for this project, not from any
# corpus): threats / calls to violence and non-threats that use the same words. It is a
# smoke test of the patterns, not a benchmark: the bar is on HateCheck's threats.
SMOKE_THREATS: dict[str, tuple[str, ...]] = {
    "en": (
        "We should nuke them all and be done with it.",
        "I am going to shoot the next one of them I see.",
        "They all deserve to die.",
        "Let's burn their houses down tonight.",
        "Those people should be hanged in the square.",
        "Death to the traitors!",
        "Kill them all, every last one.",
        "I'll find you and I will hurt you.",
    ),
    "ru": (
        "Надо их всех расстрелять.",
        "Смерть предателям!",
        "Пора ударить ядерным оружием по их столицам.",
        "Я тебя найду и убью.",
        "Давайте сожжём их дома.",
        "Чтоб вы все сдохли.",
    ),
    "uk": (
        "Треба їх усіх знищити.",
        "Смерть окупантам!",
        "Я тебе знайду і вб'ю.",
        "Давайте спалимо їхні будинки.",
    ),
    "bg": (
        "Трябва да ги избием всичките.",
        "Смърт на предателите!",
        "Ще те убия, като те видя.",
        "Обесете ги на площада.",
    ),
    "pt": (
        "Vamos matar todos eles.",
        "Eles merecem morrer.",
        "Bala neles!",
        "Vou te matar quando te encontrar.",
        "Queimem as casas deles.",
    ),
    "hi": (
        "इन सबको मार डालो।",
        "उनके घर जला दो।",
        "गद्दारों को गोली मारो।",
        "मैं तुझे मार दूंगा।",
    ),
}
SMOKE_NON_THREATS: dict[str, tuple[str, ...]] = {
    "en": (
        "The army said the strike killed twelve civilians.",
        "Nobody should kill anyone over politics.",
        "The film was a killer, I loved it.",
        "They debated nuclear deterrence for two hours.",
        "Saying that people deserve to die is never acceptable.",
        "The soldiers burned the bridge during the retreat last year.",
        "I am going to the shop, do you want anything?",
        "We should help the refugees find homes.",
    ),
    "ru": (
        "В результате обстрела погибли двенадцать человек.",
        "Нельзя убивать людей за их взгляды.",
        "Эксперты обсуждали ядерное сдерживание.",
        "Давайте встретимся завтра вечером.",
        "Надо помочь беженцам найти жильё.",
        "Смертность в регионе снизилась.",
    ),
    "uk": (
        "Внаслідок обстрілу загинули троє людей.",
        "Треба допомогти біженцям.",
        "Давайте поговоримо спокійно.",
        "Ніхто не має права вбивати.",
    ),
    "bg": (
        "При атаката са загинали трима души.",
        "Трябва да помогнем на бежанците.",
        "Нека поговорим утре.",
        "Никой не трябва да убива заради политика.",
    ),
    "pt": (
        "O ataque matou doze civis, segundo a polícia.",
        "Vamos conversar amanhã.",
        "Ninguém deve matar por política.",
        "Precisamos ajudar os refugiados.",
        "A morte do cantor comoveu o país.",
    ),
    "hi": (
        "हमले में बारह लोग मारे गए।",
        "हमें शरणार्थियों की मदद करनी चाहिए।",
        "कल मिलते हैं।",
        "किसी को भी मारना गलत है।",
    ),
}


# Our own hateful / offensive / neutral sentences per language (written for this project):
# a smoke test of how the heads carry to languages without training data, not a benchmark.
SMOKE_HATE: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "hateful": (
            "Muslims are filthy animals and should be thrown out of the country.",
            "Gay people are disgusting perverts who ruin everything.",
            "Women are too stupid to be allowed to vote.",
            "These immigrants are vermin, nothing but parasites.",
        ),
        "offensive": ("Shut up, you pathetic idiot.", "What a load of crap, you moron."),
        "none": (
            "The council approved the new school budget on Tuesday.",
            "I disagree with the author, but the article is well written.",
            "Refugees arriving this week will be housed in the old hospital.",
            "The match was cancelled because of the rain.",
        ),
    },
    "ru": {
        "hateful": (
            "Все мусульмане — грязные животные, их надо гнать из страны.",
            "Геи — мерзкие извращенцы, им не место среди нормальных людей.",
            "Женщины слишком тупые, чтобы голосовать.",
            "Эти мигранты — паразиты и отбросы.",
        ),
        "offensive": ("Заткнись, жалкий идиот.", "Что за чушь, ты дебил."),
        "none": (
            "Городской совет утвердил новый бюджет школ во вторник.",
            "Я не согласен с автором, но статья хорошо написана.",
            "Беженцев, прибывающих на этой неделе, разместят в старой больнице.",
            "Матч отменили из-за дождя.",
        ),
    },
    "uk": {
        "hateful": (
            "Усі мусульмани — брудні тварини, їх треба вигнати з країни.",
            "Геї — огидні збоченці, їм не місце серед нормальних людей.",
            "Жінки занадто тупі, щоб голосувати.",
            "Ці мігранти — паразити й покидьки.",
        ),
        "offensive": ("Замовкни, жалюгідний ідіоте.", "Що за маячня, ти дурень."),
        "none": (
            "Міська рада затвердила новий бюджет шкіл у вівторок.",
            "Я не згоден з автором, але стаття добре написана.",
            "Біженців, які прибудуть цього тижня, поселять у старій лікарні.",
            "Матч скасували через дощ.",
        ),
    },
    "bg": {
        "hateful": (
            "Всички мюсюлмани са мръсни животни и трябва да бъдат изгонени от страната.",
            "Гейовете са отвратителни извратеняци.",
            "Жените са твърде глупави, за да гласуват.",
            "Тези мигранти са паразити и отрепки.",
        ),
        "offensive": ("Млъкни, жалък идиот.", "Какви глупости, ти си тъпак."),
        "none": (
            "Общинският съвет одобри новия бюджет за училищата във вторник.",
            "Не съм съгласен с автора, но статията е добре написана.",
            "Бежанците, които пристигат тази седмица, ще бъдат настанени в старата болница.",
            "Мачът беше отменен заради дъжда.",
        ),
    },
    "pt": {
        "hateful": (
            "Todos os muçulmanos são animais imundos e devem ser expulsos do país.",
            "Gays são pervertidos nojentos que estragam tudo.",
            "Mulheres são burras demais para votar.",
            "Esses imigrantes são parasitas, um lixo.",
        ),
        "offensive": ("Cala a boca, seu idiota patético.", "Que merda de texto, seu imbecil."),
        "none": (
            "A câmara aprovou o novo orçamento das escolas na terça-feira.",
            "Discordo do autor, mas o artigo está bem escrito.",
            "Os refugiados que chegam esta semana ficarão no antigo hospital.",
            "O jogo foi cancelado por causa da chuva.",
        ),
    },
    "hi": {
        "hateful": (
            "सारे मुसलमान गंदे जानवर हैं, इन्हें देश से निकाल देना चाहिए।",
            "समलैंगिक लोग घिनौने और बीमार हैं।",
            "औरतें इतनी बेवकूफ हैं कि उन्हें वोट देने का हक नहीं होना चाहिए।",
            "ये शरणार्थी परजीवी हैं, कचरा हैं।",
        ),
        "offensive": ("चुप कर, बेवकूफ कहीं का।", "क्या बकवास है, तू गधा है।"),
        "none": (
            "नगर परिषद ने मंगलवार को स्कूलों का नया बजट मंजूर किया।",
            "मैं लेखक से सहमत नहीं हूं, लेकिन लेख अच्छा लिखा है।",
            "इस हफ्ते आने वाले शरणार्थियों को पुराने अस्पताल में रखा जाएगा।",
            "बारिश की वजह से मैच रद्द हो गया।",
        ),
    },
}


def hate_smoke(model: Any) -> dict[str, Any]:
    """Per language: hateful caught, offensive/hateful flagged as abusive, neutral kept
    clean, on :data:`SMOKE_HATE` (our sentences)."""
    out: dict[str, Any] = {}
    for lang, parts in SMOKE_HATE.items():
        got = {
            k: [r.label for r in model.predict(list(v), [lang] * len(v))] for k, v in parts.items()
        }
        out[lang] = {
            "hateful_recall": round(got["hateful"].count("hateful") / len(got["hateful"]), 2),
            "offensive_flagged": round(
                sum(x != "none" for x in got["offensive"]) / len(got["offensive"]), 2
            ),
            "neutral_clean": round(got["none"].count("none") / len(got["none"]), 2),
            "labels": got,
        }
    return out


def incitement_smoke(model: Any) -> dict[str, Any]:
    """Recall on our threats and false-positive rate on our non-threats, per language."""
    out: dict[str, Any] = {}
    for lang in SMOKE_THREATS:
        pos = [model.incitement_of(t) for t in SMOKE_THREATS[lang]]
        neg = [model.incitement_of(t) for t in SMOKE_NON_THREATS[lang]]
        out[lang] = {
            "threats": len(pos),
            "recall": round(sum(pos) / len(pos), 3),
            "non_threats": len(neg),
            "false_positive_rate": round(sum(neg) / len(neg), 3),
        }
    return out


def _metrics(sc: dict[str, np.ndarray], rows: list[HateRow]) -> dict[str, Any]:
    """Scores of whole texts (one unit each: tweets and comments are short), with each
    row's own thresholds (local or universal head)."""
    from narrascope.models.hate import macro_f1

    pa, ph = sc["abusive"], sc["hate"]
    is_ab = pa >= sc["abusive_t"]
    is_h = sc["hateful"] if "hateful" in sc else ph >= sc["hate_t"]
    ab = np.array([r.abusive for r in rows])
    ha = np.array([r.hateful for r in rows])
    wt = np.array([r.weight for r in rows])
    out: dict[str, Any] = {"rows": len(rows)}
    if (ab >= 0).any() and len(np.unique(ab[ab >= 0])) == 2:
        k = ab >= 0
        out["abusive_macro_f1"] = round(macro_f1(ab[k], is_ab[k].astype(int)), 3)
        if (wt != 1).any():
            f1 = macro_f1(ab[k], is_ab[k].astype(int), wt[k])
            out["abusive_macro_f1_corpus_balance"] = round(f1, 3)
        out["abusive_auc"] = round(_auc(pa[k], ab[k]), 3)
    if (ha >= 0).any() and len(np.unique(ha[ha >= 0])) == 2:
        k = ha >= 0
        out["hateful_macro_f1"] = round(macro_f1(ha[k], is_h[k].astype(int)), 3)
        if (wt != 1).any():
            f1 = macro_f1(ha[k], is_h[k].astype(int), wt[k])
            out["hateful_macro_f1_corpus_balance"] = round(f1, 3)
        out["hateful_auc"] = round(_auc(ph[k], ha[k]), 3)
        pred = np.where(is_h, 0, np.where(is_ab, 1, 2))
        gold = np.array([{"hateful": 0, "offensive": 1, "none": 2}[r.label] for r in rows])
        f1s = []
        for c in range(3):
            tp = float(((pred == c) & (gold == c)).sum())
            den = float((pred == c).sum() + (gold == c).sum())
            f1s.append(2 * tp / max(den, 1e-9))
        out["three_class_macro_f1"] = round(float(np.mean(f1s)), 3)
    hm = np.array([r.harmful for r in rows])
    if (hm >= 0).any():
        k = hm >= 0
        out["harmful_auc_of_abusive"] = round(_auc(pa[k], hm[k]), 3)
        out["harmful_auc_of_hateful"] = round(_auc(ph[k], hm[k]), 3)
    return out


def _auc(p: np.ndarray, y: np.ndarray) -> float:
    from scipy.stats import rankdata

    pos, neg = int((y == 1).sum()), int((y == 0).sum())
    if not pos or not neg:
        return float("nan")
    r = rankdata(p)
    return float((r[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def _fit(
    rows: list[HateRow],
    x: np.ndarray,
    settings: dict[str, Any],
    early: np.ndarray | None = None,
) -> Any:
    from narrascope.models.hate import HateModel

    train = [i for i, r in enumerate(rows) if r.abusive >= 0 or r.hateful >= 0]
    sub = [rows[i] for i in train]
    return HateModel(**settings).fit(
        [r.text for r in sub],
        [r.abusive for r in sub],
        [r.hateful for r in sub],
        [r.target for r in sub],
        languages=[r.language for r in sub],
        sources=[r.dataset for r in sub],
        source_weights={"own-contrast": CONTRAST_WEIGHT},
        vectors=x[train],
        groups=[group_key(r.text) for r in sub],
        early_vectors=None if early is None else early[train],
        # thresholds tuned at the (hate-rich) sample's balance, not the corpora's own:
        # at 2-6% hate they rise to 0.85 and miss most hate (docs/hate-research.md)
    )


def _trains(row: HateRow) -> bool:
    return row.abusive >= 0 or row.hateful >= 0


def _score(
    model: Any, x: np.ndarray, rows: list[HateRow], early: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The shipped reading (with ``early`` vectors, the early exit settles what it is
    sure of; ``settled`` marks those rows) and, under ``full_*`` keys, every row read by
    the full heads."""
    texts, langs = [r.text for r in rows], [r.language for r in rows]
    sc = model.sentence_scores(x, texts, langs)
    full = {k: v.copy() for k, v in sc.items()}
    full["hateful"] = model.hateful_mask(full, texts, langs)
    if early is not None:
        settled, pa, ph = model.early_scores(early, texts)
        model.apply_early(sc, settled, pa, ph)
        sc["settled"] = settled.astype(float)
    sc["hateful"] = model.hateful_mask(sc, texts, langs)
    sc.update({f"full_{k}": v for k, v in full.items()})
    return sc


def _metrics_both(sc: dict[str, np.ndarray], rows: list[HateRow]) -> dict[str, Any]:
    """The shipped metrics, the share of rows the early exit settled, and the metrics
    had every row been read by all the layers (``without_early_exit``)."""
    out = _metrics(sc, rows)
    if "settled" in sc:
        out["settled_early"] = round(float(sc["settled"].mean()), 3)
        full = {k[5:]: v for k, v in sc.items() if k.startswith("full_")}
        out["without_early_exit"] = _metrics(full, rows)
    return out


def evaluate(
    rows: list[HateRow],
    x: np.ndarray,
    *,
    folds: int = 3,
    seed: int = 0,
    settings: dict | None = None,
    progress: bool = False,
    early: np.ndarray | None = None,
) -> dict[str, Any]:
    """In-language grouped CV per corpus (the other corpora always train), cross-lingual
    transfer (a corpus left out entirely: its language then has no local head), target
    accuracy on ToLD-Br's hateful rows, and the Bulgarian CheckThat! harmful check.
    ``early``: the rows' early-exit vectors (the shipped reading; else all layers)."""
    from narrascope.models.folds import group_folds

    def ex(index: Any) -> np.ndarray | None:
        return None if early is None else early[index]

    settings = {"seed": seed, **(settings or {})}
    # the contrast rows always train and are never scored (38 sentences, one class)
    names = sorted({r.dataset for r in rows if r.abusive >= 0})
    in_lang: dict[str, Any] = {}
    target_hits, target_n = 0, 0
    for name in names:
        idx = np.array([i for i, r in enumerate(rows) if r.dataset == name])
        other = np.array([i for i, r in enumerate(rows) if r.dataset != name and _trains(r)])
        part = [rows[i] for i in idx]
        parts = group_folds(
            [group_key(r.text) for r in part], [r.label for r in part], n_folds=folds, seed=seed
        )
        oof: dict[str, np.ndarray] = {}
        for train, test in parts:
            tr = np.r_[other, idx[train]]
            model = _fit([rows[i] for i in tr], x[tr], settings, ex(tr))
            sc = _score(model, x[idx[test]], [part[j] for j in test], ex(idx[test]))
            for key, value in sc.items():
                if not key.endswith("target"):
                    oof.setdefault(key, np.zeros(len(idx)))[test] = value
            for j, t in zip(test, sc["target"], strict=True):
                if part[j].target and len(model.targets_):
                    target_n += 1
                    target_hits += model.targets_[int(t.argmax())] == part[j].target
        in_lang[name] = _metrics_both(oof, part)
        if progress:
            print(name, "in-language", in_lang[name], file=sys.stderr, flush=True)
    cross: dict[str, Any] = {}
    for name in names:
        tr = np.array([i for i, r in enumerate(rows) if r.dataset != name and _trains(r)])
        te = [i for i, r in enumerate(rows) if r.dataset == name]
        model = _fit([rows[i] for i in tr], x[tr], settings, ex(tr))
        scored = _score(model, x[te], [rows[i] for i in te], ex(te))
        cross[name] = _metrics_both(scored, [rows[i] for i in te])
        if progress:
            print(name, "left out", cross[name], file=sys.stderr, flush=True)
    everything = [i for i, r in enumerate(rows) if _trains(r)]
    full = _fit([rows[i] for i in everything], x[everything], settings, ex(everything))
    checks = {}
    for name in sorted({r.dataset for r in rows if r.harmful >= 0}):
        te = [i for i, r in enumerate(rows) if r.dataset == name]
        checks[name] = _metrics_both(
            _score(full, x[te], [rows[i] for i in te], ex(te)), [rows[i] for i in te]
        )
    return {
        "in_language_cv": in_lang,
        "cross_lingual": cross,
        "target_accuracy_told_br": round(target_hits / max(target_n, 1), 3),
        "target_rows": target_n,
        "harmful_check": checks,
        "folds": folds,
    }, full


def format_tables(report: dict[str, Any]) -> str:
    """The CV tables as markdown (what docs/hate-research.md shows)."""
    cols = (
        "rows",
        "hateful_macro_f1_corpus_balance",
        "abusive_macro_f1_corpus_balance",
        "hateful_macro_f1",
        "hateful_auc",
        "abusive_macro_f1",
        "abusive_auc",
        "three_class_macro_f1",
        "harmful_auc_of_abusive",
        "harmful_auc_of_hateful",
        "settled_early",
    )
    lines = []
    for section in ("in_language_cv", "cross_lingual", "harmful_check"):
        lines += [
            f"### {section}",
            "",
            "| corpus | " + " | ".join(cols) + " |",
            "|---" * (len(cols) + 1) + "|",
        ]
        for name, m in report[section].items():
            lines.append(f"| {name} | " + " | ".join(str(m.get(c, "")) for c in cols) + " |")
            full = m.get("without_early_exit")
            if full:
                cells = " | ".join(str(full.get(c, "")) for c in cols)
                lines.append(f"| {name}, all layers | {cells} |")
        lines.append("")
    return "\n".join(lines)


def train_hate(
    datasets_dir: str | Path,
    out_dir: str | Path,
    *,
    folds: int = 3,
    seed: int = 0,
    progress: bool = True,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Encode the corpora (cached), measure (``folds`` 0: skip), fit on everything and
    write the artefact; returns the manifest stored as ``meta.json``."""
    from narrascope.training.cv import record_artefact_size, training_manifest

    started = time.perf_counter()
    rows = load_rows(datasets_dir)
    x = cached_vectors(rows, progress=progress)
    settings = {"seed": seed, **(settings or {})}
    layers = settings.get("early_layers", EARLY_LAYERS)
    early = cached_vectors(rows, progress=progress, layers=layers) if layers else None
    report = None
    start = time.perf_counter()
    if folds > 1:
        report, model = evaluate(
            rows, x, folds=folds, seed=seed, settings=settings, progress=progress, early=early
        )
        if progress:
            print(format_tables(report), flush=True)
    else:
        everything = [i for i, r in enumerate(rows) if _trains(r)]
        ex = None if early is None else early[everything]
        model = _fit([rows[i] for i in everything], x[everything], settings, ex)
    train_seconds = round(time.perf_counter() - start, 1)
    smoke = incitement_smoke(model)
    smoke_hate = hate_smoke(model)
    manifest = training_manifest(
        "hate / offensive / incitement (issue 24): e5-small vectors + logistic heads, "
        "early exit after 3 layers",
        data={
            "datasets": describe(rows),
            "subsample": SUBSAMPLE,
            "data_dir_name": Path(datasets_dir).name,
        },
        cv=report,
        settings=settings,
        train_seconds=train_seconds,
        started=started,
    )
    manifest["incitement_smoke_test"] = smoke
    manifest["hate_smoke_test"] = {
        k: {m: v[m] for m in v if m != "labels"} for k, v in smoke_hate.items()
    }
    manifest["thresholds"] = model.thresholds_
    out = model.save(out_dir, meta=manifest)
    stored = record_artefact_size(out)
    if progress:
        print(
            json.dumps(
                {"thresholds": model.thresholds_, "smoke": smoke, "hate_smoke": smoke_hate},
                indent=1,
                ensure_ascii=False,
            ),
            flush=True,
        )
    return stored


if __name__ == "__main__":  # python -m narrascope.training.hate DATASETS_DIR [OUT_DIR]
    if len(sys.argv) > 2:
        train_hate(sys.argv[1], sys.argv[2])
    else:
        data = load_rows(sys.argv[1])
        print(describe(data), flush=True)
        cached_vectors(data, progress=True)
