"""The violence-call patterns stay linear on texts full of blank or separator lines."""

from __future__ import annotations

import time

from narrascope.models.hate import incitement_matches


def test_blank_and_separator_lines_do_not_make_incitement_quadratic() -> None:
    for filler in ("\r\n", "-----\n", "🔥🔥🔥\n"):
        text = "Short report." + filler * 12_000 + "Kill them all."
        start = time.process_time()
        found = incitement_matches(text)
        assert time.process_time() - start < 2.0, filler  # was minutes for "\r\n"
        assert found, filler  # the call at the end is still found


def test_a_call_at_the_start_of_a_line_after_punctuation_is_still_found() -> None:
    assert incitement_matches("Enough talk.\n— kill them all, every one of them")
    assert not incitement_matches("Enough talk.\n— they kill time at the cafe")
