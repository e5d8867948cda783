"""A hard-wrapped text (a PDF's or an e-mail's copy, cut at a width) is read in sentences,
not in lines: each line of it was a fragment, and claims and evidence showed fragments."""

from __future__ import annotations

from narrascope.text.segment import split_sentences

WRAPPED = (
    "Officials in the region said on Monday that about 120 people had left the town\n"
    "after three drones struck the power plant, and that the water supply was cut for\n"
    "most of the day. The mayor asked the government for generators and promised that\n"
    "schools would open again within a week if the supply was restored by Friday.\n"
    "Residents told reporters that the strike came without warning at about four in\n"
    "the morning, when most of them were asleep; a spokesman of the army denied that\n"
    "any military unit was stationed in the town or near the plant.\n"
)


def _sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def test_a_wrapped_text_is_read_in_sentences_across_its_lines() -> None:
    found = _sentences(WRAPPED)
    assert [" ".join(s.split()) for s in found] == [
        "Officials in the region said on Monday that about 120 people had left the town "
        "after three drones struck the power plant, and that the water supply was cut for "
        "most of the day.",
        "The mayor asked the government for generators and promised that schools would "
        "open again within a week if the supply was restored by Friday.",
        "Residents told reporters that the strike came without warning at about four in "
        "the morning, when most of them were asleep; a spokesman of the army denied that "
        "any military unit was stationed in the town or near the plant.",
    ]
    assert "\n" in found[0]  # the offsets are the text's own: the line breaks stay inside


def test_a_wrapped_text_keeps_its_paragraph_ends() -> None:
    text = "A title of the report\n\n" + WRAPPED + "\nA second paragraph. It is short.\n"
    found = _sentences(text)
    assert found[0] == "A title of the report"
    assert found[-2:] == ["A second paragraph.", "It is short."]


def test_lines_that_are_units_stay_units() -> None:
    """News with a paragraph per line, subtitles' short lines without punctuation, and a
    text where only a line or two ends mid-sentence are read line by line, as before."""
    captions = (
        "so today we're going to talk about\nthe war in ukraine and what it means\n"
        "for the people who live there and\nwhy it matters to all of us now\n"
    )
    assert len(_sentences(captions)) == 4
    news = (
        "Drones hit Ashby\n"
        "Officials said 120 people left Ashby after three drones struck the power plant.\n"
        "The mayor said the town would rebuild within a year, and asked for help.\n"
    )
    assert _sentences(news)[0] == "Drones hit Ashby" and len(_sentences(news)) == 3
    one_wrap = (
        "Officials in the region said on Monday that about 120 people had left the town\n"
        "after three drones struck the power plant.\n"
        "Comment from a reader who writes without a full stop at the end of each line\n"
        "Another reader answers that the town was never a military target at all.\n"
    )
    assert len(_sentences(one_wrap)) == 4
