"""Turn bytes of unknown origin into text, or say clearly why they are not text.

Our corpora mix UTF-8 web text with Windows-era Cyrillic (cp1251, KOI8) and Latin-1 files,
and folders often hold a stray PDF or image. The order of checks matters: byte-order marks
are certain, strict UTF-8 almost never decodes anything else by accident, UTF-16 without a
BOM shows itself by NUL bytes filling one of the alternating positions, and text that is
UTF-8 but for a few bad bytes is read as UTF-8 (they are replaced, with a warning); only
then do we guess, among the few legacy encodings our languages actually used.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from narrascope.errors import (  # noqa: F401  (re-exported for the readers)
    E_BAD_RECORD,
    E_BINARY,
    E_DECODE,
    E_EMPTY,
    E_MISSING_FIELD,
    E_NO_MAIN_TEXT,
    E_NOT_FOUND,
    E_RAGGED_ROW,
    E_TOO_LARGE,
    InputError,
)

# UTF-32 first: its little-endian BOM starts with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)

_MAGIC = (
    (b"%PDF-", "PDF", "name it .pdf (or --input-format pdf) to read its text"),
    (b"PK\x03\x04", "ZIP, DOCX, XLSX or ODT", "a .docx is read as such; save others as .txt"),
    (b"\x89PNG\r\n\x1a\n", "PNG image", "run OCR first or leave images out"),
    (b"\xff\xd8\xff", "JPEG image", "run OCR first or leave images out"),
    (b"GIF87a", "GIF image", "leave images out"),
    (b"GIF89a", "GIF image", "leave images out"),
    (b"\x7fELF", "ELF executable", "leave it out"),
    (b"\x1f\x8b", "gzip", "decompress it first (gunzip)"),
    (b"\xfd7zXZ\x00", "xz", "decompress it first (unxz)"),
    (b"\x28\xb5\x2f\xfd", "zstd", "decompress it first (unzstd)"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip", "unpack it first"),
    (b"Rar!\x1a\x07", "RAR", "unpack it first"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "DOC or XLS", "save the document as .txt"),
    (b"SQLite format 3\x00", "SQLite database", "export the texts as JSONL"),
)

# Legacy encodings our languages (ru, uk, bg, pt, en) were written in; hi is UTF-8 only.
CANDIDATE_ENCODINGS = (
    "cp1251",
    "koi8_r",
    "koi8_u",
    "iso8859_5",
    "cp866",
    "cp1252",
    "latin_1",
)
_SAMPLE = 256 * 1024
_MAX_JUNK = 0.02
# UTF-16 has NUL as the high byte of every ASCII character (Latin letters, and the spaces
# and punctuation of Cyrillic or Hindi text); a few stray NULs in UTF-8 are far below it.
_UTF16_NUL_SHARE = 0.1
# A bad UTF-8 sequence per this many valid multi-byte characters is still UTF-8 with a few
# bad bytes; legacy text read as UTF-8 has far more bad sequences than valid ones.
_UTF8_VALID_PER_BAD = 4
# Bad bytes that each stand alone (a pasted cp1252 quote in "army\x92s") need fewer valid
# characters: one each. Legacy Cyrillic read as UTF-8 has runs of bad bytes (every letter
# is one), and Latin-1 text has no valid UTF-8 character at all.
_LONE_BAD_PER_VALID = 1
# In a row of a file already read as UTF-8, this many lone bad bytes are strays even with
# no valid character beside them (an English row with one cp1252 apostrophe).
_STRAYS_PER_ROW = 2
# what errors="surrogateescape" makes of each byte it cannot decode
_ESCAPED = re.compile("[\udc80-\udcff]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def readable_name(name: str) -> str:
    """A file name or path as text, whatever bytes the file system holds.

    Python gives a name that is not UTF-8 (a cp1251 name, as Windows zips unpack) as lone
    surrogates (``os.fsdecode``); written out, JSONL kept them and CSV made them ``?``, so
    one document had two ids. Each part of the path that holds such bytes is decoded as its
    likeliest legacy encoding (the readers' guess), else with U+FFFD for the bad bytes.
    """
    if not _ESCAPED.search(name):
        return name
    parts = []
    for part in name.split("/"):
        if _ESCAPED.search(part):
            data = part.encode("utf-8", "surrogateescape")
            guess = _guess_legacy(data, True)
            part = guess[0] if guess is not None else data.decode("utf-8", "replace")
        parts.append(part)
    return "/".join(parts)


def decode_bytes(data: bytes, source: str, warnings: list[str] | None = None) -> str:
    """Decode a whole input to text, keeping it exactly (only a BOM is removed).

    Raises :class:`InputError` for binary data or bytes no plausible encoding fits, so
    callers can report it and go on with the next input. What the reader should know
    about a text that was read anyway (bad UTF-8 bytes replaced, NUL characters) is
    appended to ``warnings``.
    """
    return decode_sample(data, source, final=True, warnings=warnings)[0]


def decode_sample(
    data: bytes, source: str, *, final: bool, warnings: list[str] | None = None
) -> tuple[str, str]:
    """Decode ``data`` and return ``(text, encoding)``.

    With ``final=False`` the data is the head of a longer stream: a multi-byte character
    cut at the end is tolerated, and the returned codec name can decode the whole stream
    (strictly: a stream reader reports the line or row a bad byte is in).
    """
    notes: list[str] = [] if warnings is None else warnings
    for bom, encoding, name in _BOMS:
        if data.startswith(bom):
            text = _try_decode(data, encoding, final)
            if text is None:
                raise InputError(
                    source,
                    f"starts with a {name} byte-order mark but is not valid {name}; "
                    "re-save it as UTF-8",
                    E_DECODE,
                )
            return _check_text(text, source), encoding
    for magic, kind, advice in _MAGIC:
        if data.startswith(magic):
            reason = f"binary file (looks like {kind}), not text; {advice}"
            raise InputError(source, reason, E_BINARY)
    if data[4:8] == b"ftyp":
        raise InputError(source, "binary file (looks like MP4 video), not text", E_BINARY)

    nul = data.find(b"\x00")
    if nul >= 0:
        found = _decode_utf16_without_bom(data, final, need_nul=True)
        if found is not None:
            return found
        # else a few stray NULs in text: kept (offsets hold), said, and read on below

    text = _try_decode(data, "utf-8", final)
    if text is not None:
        if _junk_ratio(text) <= _MAX_JUNK:
            if nul >= 0:
                notes.append(_nul_warning(data, nul))
            return text, "utf-8"
        # UTF-16 Cyrillic without a single ASCII character has no NUL and is valid UTF-8.
        found = _decode_utf16_without_bom(data, final, need_nul=False)
        if found is not None:
            return found
        raise InputError(source, "binary file (many control characters), not text", E_BINARY)
    if nul >= 0:
        raise InputError(
            source, "binary file (contains NUL bytes and is not UTF-16), not text", E_BINARY
        )

    almost = _almost_utf8(data, final)
    if almost is not None:
        text, warning = almost
        _check_text(text.replace("\ufffd", ""), source)  # our replacements are no junk
        notes.append(warning)
        return text, "utf-8"

    guessed = _guess_legacy(data, final)
    if guessed is None:
        raise InputError(
            source,
            "cannot decode: not UTF-8 and no known encoding fits "
            f"({', '.join(CANDIDATE_ENCODINGS)}); re-save it as UTF-8",
            E_DECODE,
        )
    text, encoding = guessed
    valid = _valid_utf8_characters(data)
    if valid:
        notes.append(
            f"read as {encoding}, although {valid} character{'' if valid == 1 else 's'} "
            "in it are valid UTF-8; if the text looks garbled, re-save it as UTF-8"
        )
    return _check_text(text, source), encoding


def _try_decode(data: bytes, encoding: str, final: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=final)
    except UnicodeDecodeError:
        return None


def _check_text(text: str, source: str) -> str:
    if _junk_ratio(text) > _MAX_JUNK:
        raise InputError(source, "binary file (many control characters), not text", E_BINARY)
    return text


def _junk_ratio(text: str) -> float:
    """Share of control, unassigned or private-use characters: ~0 in any real text."""
    sample = text[:_SAMPLE]
    if not sample:
        return 0.0
    junk = 0
    for ch in sample:
        code = ord(ch)
        if code < 32 or 0x7F <= code < 0xA0:
            junk += not ch.isspace()
        elif 0xE000 <= code < 0xF900 or 0xFFF0 <= code <= 0xFFFF:
            junk += 1
    return junk / len(sample)


def _decode_utf16_without_bom(
    data: bytes, final: bool, *, need_nul: bool
) -> tuple[str, str] | None:
    """UTF-16 is betrayed by its high bytes: NUL for Latin, 0x04 for Cyrillic, 0x09 for Hindi.

    They sit at odd positions (little-endian) or even ones (big-endian), while the other
    positions vary. Random binary data has no such regularity.
    """
    size = min(len(data), _SAMPLE)
    sample = data[: size - size % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if need_nul:
        nul_even, nul_odd = even.count(0), odd.count(0)
        least = _UTF16_NUL_SHARE * len(odd)  # one stray NUL is no pattern
        if nul_odd > 2 * nul_even and nul_odd >= least:
            encoding = "utf-16-le"
        elif nul_even > 2 * nul_odd and nul_even >= least:
            encoding = "utf-16-be"
        else:
            return None
    else:
        share_even, share_odd = _top_two_share(even), _top_two_share(odd)
        if share_odd >= 0.9 > share_even:
            encoding = "utf-16-le"
        elif share_even >= 0.9 > share_odd:
            encoding = "utf-16-be"
        else:
            return None
    text = _try_decode(data, encoding, final)
    if text is None or _junk_ratio(text) > _MAX_JUNK:
        return None
    return text, encoding


def _nul_warning(data: bytes, first: int) -> str:
    count = data.count(b"\x00")
    return (
        f"{count} NUL byte{'' if count == 1 else 's'} (the first at byte {first}) kept as "
        "U+0000 characters; a corpus database stores them as U+FFFD"
    )


def _almost_utf8(data: bytes, final: bool) -> tuple[str, str] | None:
    """UTF-8 with a few bad bytes (a pasted cp1252 quote) or its last character cut off:
    ``(text with U+FFFD for the bad bytes, a warning naming the first)``, else None.

    A legacy guess would misread every other non-ASCII character of such a text.
    """
    # with final=False a character cut at the end of a stream head is left for the reader
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=final)
    written = data.count("\ufffd".encode())  # U+FFFD the file itself holds
    bad = text.count("\ufffd") - written
    valid = len(text) - len(text.encode("ascii", "ignore")) - bad - written
    if valid < 1:
        return None
    try:
        data.decode("utf-8")
        first = len(data)
    except UnicodeDecodeError as exc:
        first = exc.start
    if final and _try_decode(data, "utf-8", final=False) is not None:
        return text, f"ends in the middle of a UTF-8 character (byte {first}), replaced by U+FFFD"
    escaped = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape").decode(
        data, final=final
    )
    if not _strays(_ESCAPED.findall(escaped), valid, bad_sequences=bad, allowance=0):
        return None
    what = "byte sequence" if bad == 1 else "byte sequences"
    return text, f"not valid UTF-8 at byte {first}: {bad} bad {what} replaced by U+FFFD"


def _strays(runs: list[str], valid: int, *, bad_sequences: int, allowance: int) -> bool:
    """Whether bad bytes (``runs`` of escaped bytes) beside ``valid`` multi-byte characters
    are strays in UTF-8 text rather than a sign of another encoding: few against the valid
    characters, or each standing alone and no more than the valid ones (plus
    ``allowance``)."""
    if valid >= _UTF8_VALID_PER_BAD * bad_sequences:
        return True
    alone = all(len(run) == 1 for run in runs)
    return alone and len(runs) <= _LONE_BAD_PER_VALID * valid + allowance


def replace_stray_bytes(parts: list[str]) -> tuple[list[str], int] | None:
    """The cells of one row (or one line) of a file read as UTF-8, decoded with
    ``errors="surrogateescape"``: ``(the cells with U+FFFD for each bad byte, how many)``,
    or None when the bad bytes are too many to be strays (the row is in another encoding).

    Why: one cp1252 apostrophe pasted into a spreadsheet must cost neither its row nor the
    rows after it; the caller warns on that row. A row in another encoding is refused,
    so that it is not analysed as a string of replacement characters.
    """
    runs = [run for part in parts for run in _ESCAPED.findall(part)]
    if not runs:
        return parts, 0
    bad = sum(map(len, runs))
    others = sum(len(part) - len(part.encode("ascii", "ignore")) for part in parts)
    valid = others - bad - sum(part.count("\ufffd") for part in parts)
    if not _strays(runs, valid, bad_sequences=len(runs), allowance=_STRAYS_PER_ROW):
        return None
    mended = [_ESCAPED.sub(lambda m: "\ufffd" * len(m.group()), part) for part in parts]
    return mended, bad


def _valid_utf8_characters(data: bytes) -> int:
    """Multi-byte UTF-8 characters in ``data`` when they are at least as many as its bad
    sequences (so the text is more UTF-8 than not, and a legacy guess may be wrong),
    else 0. Legacy text forms a few by chance (cp1251 "И»", cp866 "сла" are valid
    UTF-8), never as many as the bytes it leaves undecodable."""
    sample = data[:_SAMPLE]
    kept = sample.decode("utf-8", "ignore")
    valid = len(kept) - len(kept.encode("ascii", "ignore")) - kept.count("\ufffd")
    bad = sample.decode("utf-8", "replace").count("\ufffd") - kept.count("\ufffd")
    return valid if valid >= bad else 0


def _top_two_share(values: bytes) -> float:
    counts = sorted((values.count(b) for b in set(values)), reverse=True)
    return sum(counts[:2]) / len(values)


def _guess_legacy(data: bytes, final: bool) -> tuple[str, str] | None:
    """charset-normalizer's ranking, corrected for short texts.

    On a few words it happily reads Latin-1 Portuguese as cp1251 ("Não" -> "Nгo"), so
    among its candidates we prefer the one mixing fewest Latin and Cyrillic letters in
    one word, which never happens in real text.
    """
    matches = from_bytes(data[:_SAMPLE], cp_isolation=list(CANDIDATE_ENCODINGS))
    best: tuple[int, int, str, str] | None = None
    for rank, match in enumerate(matches):
        text = _try_decode(data, match.encoding, final)
        if text is None:
            continue
        key = (_mixed_script_words(text), rank, text, match.encoding)
        if best is None or key[:2] < best[:2]:
            best = key
    return None if best is None else (best[2], best[3])


def _mixed_script_words(text: str) -> int:
    return sum(
        1
        for word in text[:_SAMPLE].split()
        if _CYRILLIC.search(word) is not None and _LATIN.search(word) is not None
    )
