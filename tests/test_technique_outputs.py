"""Persuasion techniques in the document model and every output: JSON round trip, the
SemEval-2023 subtask-3 lines (byte for byte, CRLF files too, and against real gold when
../shared is present), CSV rows, the HTML highlights (overlapping, escaped, with
definitions) and the terminal line."""

from __future__ import annotations

import csv
import io
import re
from html import escape, unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from narrascope.cli import main
from narrascope.doc import Annotation, Document, Entity, Span, Technique
from narrascope.export import format_terminal_summary, get_format
from narrascope.ingest import read_inputs
from narrascope.taxonomy import (
    TECHNIQUES,
    persuasion_profile,
    technique_family,
    technique_taxonomy,
)
from narrascope.training.techniques import read_paragraph_labels

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEMEVAL23 = SHARED / "datasets" / "semeval2023-task3" / "data"
XSS = "<img src=x onerror=alert(1)>"


def technique(doc: Document, phrase: str, label: str, score: float, line: int) -> Technique:
    start = doc.text.index(phrase)
    return Technique(
        label, doc.span(start, start + len(phrase)), score, line, technique_family(label)
    )


def persuaded_doc() -> Document:
    # CRLF on purpose: offsets and line numbers count the file as stored
    text = (
        "Traitors everywhere\r\n\r\nThose corrupt traitors lie to you. Putin knows it.\r\n"
        "  \r\nThe weather is calm."
    )
    doc = Document(text=text, id="article7.txt", language="en")
    line3 = text.index("Those")
    sentence = Span.of(text, line3, text.index("you.") + 4)
    doc.groups["narratives"] = [
        Annotation("URW: Blaming the war on others", 0.8, [sentence], [0.7])
    ]
    doc.techniques = [
        technique(doc, "Traitors", "Name_Calling-Labeling", 0.4, 1),
        technique(doc, "corrupt traitors", "Loaded_Language", 0.6, 3),
        technique(doc, "traitors lie to you", "Name_Calling-Labeling", 0.5, 3),
        technique(doc, "Those corrupt traitors lie to you. Putin knows it.", "Doubt", 0.3, 3),
    ]
    doc.persuasion_profile = persuasion_profile([(t.paragraph, t.label) for t in doc.techniques])
    putin = text.index("Putin")
    doc.entities = [
        Entity("Putin", [Span.of(text, putin, putin + 5)], "Antagonist", 0.7, kind="PER")
    ]
    return doc


def render(fmt: str, docs: list[Document]) -> str:
    buffer = io.StringIO()
    get_format(fmt).write((d.to_dict() for d in docs), buffer)
    return buffer.getvalue()


def test_techniques_survive_a_json_round_trip() -> None:
    doc = persuaded_doc()
    back = Document.from_dict(doc.to_dict())
    assert back.techniques == doc.techniques
    assert (
        back.persuasion_profile
        == doc.persuasion_profile
        == {
            "attack_on_reputation": 2,  # lines 1 and 3 (name calling twice and doubt in 3)
            "justification": 0,
            "simplification": 0,
            "distraction": 0,
            "call": 0,
            "manipulative_wording": 1,
        }
    )
    assert "techniques" not in back.groups and "persuasion_profile" not in back.meta
    record = doc.to_dict()
    assert record["techniques"][1] == {
        "label": "Loaded_Language",
        "family": "manipulative_wording",
        "score": 0.6,
        "paragraph": 3,
        "start": doc.text.index("corrupt"),
        "end": doc.text.index("corrupt") + len("corrupt traitors"),
        "text": "corrupt traitors",
    }


def test_semeval_techniques_lines_number_the_crlf_file_as_stored() -> None:
    doc = persuaded_doc()
    # the official list's order; line 4 is whitespace only, line 5 the calm sentence
    assert render("semeval-techniques", [doc]) == (
        "7\t1\tName_Calling-Labeling\n7\t3\tLoaded_Language,Name_Calling-Labeling,Doubt\n7\t5\t\n"
    )


def test_semeval_techniques_read_back_reproduces_the_lines() -> None:
    text = render("semeval-techniques", [persuaded_doc(), Document("A\n\nB", id="notes.md")])
    fmt = get_format("semeval-techniques")
    records = list(fmt.read(io.StringIO(text)))
    assert [r["id"] for r in records] == ["article7.txt", "notes.md"]
    buffer = io.StringIO()
    fmt.write(records, buffer)
    assert buffer.getvalue() == text


FIXTURE = {
    # title, blank line, paragraph, whitespace-only line, paragraph, trailing newline
    "article101.txt": b"Traitors rule the country\n\nThose corrupt traitors lie to you!\n   \n"
    b"The council met on Tuesday.\n",
    # CRLF, a blank CRLF line, and no final newline
    "article102.txt": b"Calm title\r\n\r\nThe museum opens at nine.\r\nIt closes at five.",
    # Russian, a tab-only line
    "article103.txt": "Заголовок\n\t\nЭти наглые предатели снова лгут!\n".encode(),
}
EXPECTED_LINES = "101\t1\n101\t3\n101\t5\n102\t1\n102\t3\n102\t4\n103\t1\n103\t3\n"


def write_fixture(folder: Path) -> Path:
    folder.mkdir()
    for name, data in FIXTURE.items():
        (folder / name).write_bytes(data)
    return folder


def test_semeval_techniques_byte_for_byte_on_a_fixture_folder(tmp_path: Path) -> None:
    """Writer level: the fixture files as ingest reads them, with techniques we set."""
    docs = sorted(
        (d for d in read_inputs([str(write_fixture(tmp_path / "articles"))])),
        key=lambda d: d.id,
    )
    assert [d.id for d in docs] == sorted(FIXTURE)
    assert "\r\n" in docs[1].text  # ingest keeps the line endings
    docs[0].techniques = [
        technique(docs[0], "corrupt traitors", "Loaded_Language", 0.6, 3),
        technique(docs[0], "traitors", "Name_Calling-Labeling", 0.5, 3),
        technique(docs[0], "Traitors rule", "Slogans", 0.3, 1),
    ]
    docs[2].techniques = [technique(docs[2], "наглые предатели", "Loaded_Language", 0.5, 3)]
    assert render("semeval-techniques", docs) == (
        "101\t1\tSlogans\n"
        "101\t3\tLoaded_Language,Name_Calling-Labeling\n"
        "101\t5\t\n"
        "102\t1\t\n"
        "102\t3\t\n"
        "102\t4\t\n"
        "103\t1\t\n"
        "103\t3\tLoaded_Language\n"
    )


def test_analyze_writes_semeval_techniques_for_a_folder(tmp_path: Path) -> None:
    """End to end with the bundled model: ids and line numbers byte for byte, valid labels."""
    out = tmp_path / "pred.txt"
    folder = write_fixture(tmp_path / "articles")
    args = ["analyze", str(folder), "-f", "semeval-techniques", "-o", str(out), "--no-progress"]
    assert main(args) == 0
    data = out.read_bytes()
    assert b"\r" not in data and data.endswith(b"\n")
    rows = [line.split("\t") for line in data.decode("utf-8").splitlines()]
    assert "".join(f"{i}\t{n}\n" for i, n, _ in rows) == EXPECTED_LINES
    for _, _, labels in rows:
        assert labels == "" or all(t in TECHNIQUES for t in labels.split(","))
    loud = dict(((i, n), labels) for i, n, labels in rows)[("101", "3")]
    assert "Loaded_Language" in loud.split(",")


@pytest.mark.shared
@pytest.mark.skipif(not SEMEVAL23.is_dir(), reason="../shared dataset not available")
@pytest.mark.parametrize("folder", ["en", "ru"])
def test_line_numbers_match_the_gold_of_real_articles(tmp_path: Path, folder: str) -> None:
    gold = read_paragraph_labels(SEMEVAL23 / folder / "train-labels-subtask-3.txt")
    ids = sorted(gold)[:3]
    paths = [str(SEMEVAL23 / folder / "train-articles-subtask-3" / f"article{i}.txt") for i in ids]
    out = tmp_path / "pred.txt"
    assert (
        main(["analyze", *paths, "-f", "semeval-techniques", "-o", str(out), "--no-progress"]) == 0
    )
    pairs = {tuple(line.split("\t")[:2]) for line in out.read_text("utf-8").splitlines()}
    assert pairs == {(i, str(n)) for i in ids for n in gold[i]}


def test_csv_has_a_row_per_technique_span_and_the_profile_and_reads_back() -> None:
    doc = persuaded_doc()
    text = render("csv", [doc])
    rows = list(csv.DictReader(io.StringIO(text)))
    spans = [r for r in rows if r["level"] == "technique"]
    assert len(spans) == len(doc.techniques)
    loaded = next(r for r in spans if r["label"] == "Loaded_Language")
    assert loaded["parent"] == "manipulative_wording" and loaded["paragraph"] == "3"
    assert loaded["evidence"] == "corrupt traitors" and loaded["score"] == "0.6000"
    assert (
        doc.text[int(loaded["evidence_start"]) : int(loaded["evidence_end"])] == "corrupt traitors"
    )
    profile = {r["label"]: r["score"] for r in rows if r["level"] == "profile"}
    assert profile == {f: str(n) for f, n in doc.persuasion_profile.items() if n}
    fmt = get_format("csv")
    buffer = io.StringIO()
    fmt.write(fmt.read(io.StringIO(text)), buffer)
    assert buffer.getvalue() == text


class _Balance(HTMLParser):
    """Checks that tags nest properly and collects the title of every element."""

    VOID = frozenset({"meta", "br", "img", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.titles: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        self.stack.append(tag)
        self.titles += [v or "" for k, v in attrs if k == "title"]

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def test_html_underlines_overlapping_technique_spans_with_definitions() -> None:
    doc = persuaded_doc()
    html = render("html", [doc])
    checker = _Balance()
    checker.feed(html)
    assert not checker.errors and not checker.stack
    body = html[html.index('<div class="text"') :]
    body = body[: body.index("</div>")]
    body = re.sub(r'<span class="role [^"]*">[^<]*</span>', "", body)  # the role chip
    assert unescape(re.sub(r"<[^>]+>", "", body)) == doc.text  # every character, once
    # the piece covered by evidence, loaded language and two name-calling spans names them all
    piece_titles = [t for t in checker.titles if "Loaded language" in t]
    assert any("Name calling" in t and "URW: Blaming" in t for t in piece_titles)
    definition = technique_taxonomy()["techniques"]["Loaded_Language"]["definition"]
    assert any(definition in t for t in piece_titles)
    # "Putin" is an entity inside a doubt span: the entity and the technique share the tooltip
    assert any(t.startswith("Putin: Antagonist") and "Casting doubt" in t for t in checker.titles)
    assert 'class="tq f-manipulative_wording"' in html and "Persuasion profile" in html
    assert "Manipulative wording" in html and "<h2>Persuasion techniques</h2>" in html


def test_html_escapes_hostile_technique_records() -> None:
    doc = persuaded_doc()
    record = doc.to_dict()
    record["techniques"].append(
        {
            "label": XSS,
            "family": f'x" onmouseover="{XSS}',
            "score": 0.9,
            "paragraph": 1,
            "start": 0,
            "end": 8,
            "text": "Traitors",
        }
    )
    buffer = io.StringIO()
    get_format("html").write([record], buffer)
    html = buffer.getvalue()
    shown = re.sub(r'<script type="application/json".*?</script>', "", html, flags=re.S)
    assert XSS not in shown and 'onmouseover="' not in shown
    assert escape(XSS) in shown and 'class="tq f-other"' in shown


def test_terminal_summary_has_a_techniques_line() -> None:
    shown = format_terminal_summary(persuaded_doc(), colour=False)
    line = next(x for x in shown.splitlines() if "Techniques:" in x)
    assert "name calling or labelling 2" in line and "loaded language 1" in line
    assert "profile: attack on reputation 2" in " ".join(shown.split())
    assert "Techniques:" not in format_terminal_summary(Document("x", id="d"), colour=False)


# --- train / eval techniques on a tiny corpus in the organisers' layout -----------------------

LOUD = {
    "en": [
        "Those corrupt traitors spread disgusting lies about our heroes!",
        "These shameless clowns betray the nation again and again!",
        "A monstrous regime of thugs and liars rules the capital!",
    ],
    "ru": [
        "Эти наглые предатели снова распространяют мерзкую ложь!",
        "Бесстыдные клоуны опять предают нашу страну!",
        "Чудовищный режим бандитов и лжецов правит столицей!",
    ],
}
CALM = {
    "en": [
        "The council met on Tuesday to discuss the budget.",
        "Rain is expected in the north later this week.",
        "The museum opens at nine on weekdays.",
    ],
    "ru": [
        "Совет обсудил бюджет во вторник.",
        "На севере на этой неделе ожидаются дожди.",
        "Музей открыт с девяти утра по будним дням.",
    ],
}


def write_technique_corpus(root: Path) -> Path:
    """Eight articles per language: a title, a loud paragraph, a calm one (our sentences)."""
    data = root / "data"
    for lang, folder in (("en", "en"), ("ru", "ru")):
        articles = data / folder / "train-articles-subtask-3"
        articles.mkdir(parents=True)
        labels = []
        for k in range(8):
            art_id = f"{9000 + k}"
            loud, calm = LOUD[lang][k % 3], CALM[lang][(k + 1) % 3]
            text = f"{CALM[lang][k % 3]}\n\n{loud}\n\n{calm}\n"
            (articles / f"article{art_id}.txt").write_text(text, encoding="utf-8")
            labels += [
                f"{art_id}\t1\t",
                f"{art_id}\t3\tLoaded_Language,Name_Calling-Labeling",
                f"{art_id}\t5\t",
            ]
        (data / folder / "train-labels-subtask-3.txt").write_text(
            "\n".join(labels) + "\n", encoding="utf-8"
        )
    return data


@pytest.mark.slow
def test_train_then_eval_techniques_on_a_small_corpus(tmp_path: Path, capsys) -> None:
    from narrascope.models.techniques import TechniqueClassifier
    from narrascope.stages.techniques import TechniqueStage

    data = write_technique_corpus(tmp_path)
    model_dir = tmp_path / "model"
    args = ["train", "techniques", "--data", str(data), "--out", str(model_dir), "--folds", "2"]
    assert main(args) == 0
    shown = capsys.readouterr().out
    header = next(line for line in shown.splitlines() if line.startswith("language"))
    assert header.split() == ["language", "paragraphs", "micro-F1", "macro-F1"]
    assert {"en", "ru", "mean(lang)"} <= {line.split()[0] for line in shown.splitlines() if line}
    assert str(model_dir) in shown
    model = TechniqueClassifier.load(model_dir)
    assert model.meta["cv"]["table"]["en"]["n"] == 24
    assert model.meta["data"]["articles_per_language"] == {"en": 8, "ru": 8}
    doc = Document("Those shameless traitors spread disgusting lies!", language="en")
    ((para,),) = TechniqueStage(model=model).predict([doc])
    assert "Loaded_Language" in dict(para.labels)
    capsys.readouterr()
    assert main(["eval", "techniques", "--data", str(data), "--folds", "2"]) == 0
    table = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line.strip()}
    assert rows["language"] == ["language", "paragraphs", "micro-F1", "macro-F1"]
    assert rows["ru"][1] == "24" and 0.0 <= float(rows["mean(lang)"][2]) <= 1.0


def test_technique_training_errors_are_clear(tmp_path: Path, capsys) -> None:
    assert main(["eval", "techniques", "--data", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["train", "techniques", "--data", str(tmp_path / "empty")]) == 2
    assert "train-labels-subtask-3.txt" in capsys.readouterr().err
    data = write_technique_corpus(tmp_path / "c")
    assert main(["eval", "techniques", "--data", str(data), "--spans", str(tmp_path / "x")]) == 2
    assert "PTC folder not found" in capsys.readouterr().err


def test_resume_into_semeval_techniques_keeps_every_line_once(tmp_path: Path, capsys) -> None:
    folder = write_fixture(tmp_path / "articles")
    out = tmp_path / "pred.txt"
    one = ["analyze", str(folder / "article101.txt"), "-f", "semeval-techniques", "-o", str(out)]
    assert main([*one, "--no-progress"]) == 0
    first = out.read_text("utf-8")
    capsys.readouterr()
    every = ["analyze", str(folder), "-f", "semeval-techniques", "-o", str(out), "--resume"]
    assert main([*every, "--no-progress"]) == 0
    assert "1 skipped" in capsys.readouterr().err  # article101.txt read back from its lines
    lines = out.read_text("utf-8")
    assert lines.startswith(first)
    assert "".join(f"{x.split(chr(9))[0]}\t{x.split(chr(9))[1]}\n" for x in lines.splitlines()) == (
        EXPECTED_LINES
    )
