"""Stage: set ``doc.language`` unless the input already said it.

A short text has little language of its own: a reply under a post, or a message in a
chat (the WhatsApp reader gives each message its chat's language as
``meta["chat_language"]``), is read in its post's or its chat's language when lingua is
unsure of it, and always when it is too short to tell ("ok", "lol", "да": lingua read
"ok" as Polish, sure to 0.61), unless it is written in another script.
"""

from __future__ import annotations

from narrascope.doc import Document
from narrascope.text import detect_language
from narrascope.text.language import SCRIPTS, script_of, warm_up

# below this, a comment (often a line or two) may take its document's language
COMMENT_MIN_CONFIDENCE = 0.5
TOO_SHORT = 5  # fewer letters than this tell no language


def comment_language(
    text: str, code: str | None, confidence: float, post_language: str | None
) -> str | None:
    """The language of a comment: lingua's answer, or its post's when lingua is unsure and
    the comment is written in the post's script.

    lingua spreads its confidence over all our languages, so a short reply it reads
    correctly often scores below the threshold, and one of fewer than ``TOO_SHORT``
    letters ("ok") tells no language whatever lingua says; but a Latin-script reply under
    a Cyrillic post cannot be in the post's language, so lingua's answer is kept there.
    A chat message is read the same way, its chat's language in the post's place.
    """
    too_short = sum(c.isalpha() for c in text) < TOO_SHORT
    if code is not None and confidence >= COMMENT_MIN_CONFIDENCE and not too_short:
        return code
    if code is None or post_language is None:
        return code or post_language  # no letters: nothing says it differs from the post
    post_script = SCRIPTS.get(post_language)
    if post_script is None or script_of(text) == post_script:  # a language we can't place
        return post_language
    return code


class LanguageStage:
    name = "language"

    def warm_up(self) -> None:
        warm_up()

    def __call__(self, docs: list[Document]) -> list[Document]:
        for doc in docs:
            if not doc.language:
                code, confidence = detect_language(doc.text)
                chat = doc.meta.get("chat_language")
                doc.language = comment_language(doc.text, code, confidence, chat) if chat else code
                doc.meta["language_confidence"] = round(confidence, 3)
            for comment in doc.comments:  # a reply may be in another language than the post
                if not comment.language:
                    text = doc.comment_text(comment)
                    code, confidence = detect_language(text)
                    comment.language = comment_language(text, code, confidence, doc.language)
                    # lingua's own confidence in its answer: below the threshold with the
                    # post's language means the comment took it from its post
                    comment.language_confidence = round(confidence, 3)
        return docs
