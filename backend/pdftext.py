"""Text for PDFs written with fpdf2's built-in fonts, which know Latin-1 only (å, ä, ö and é are
in it): every other character as its closest Latin-1 form, or '?' when there is none. The letters,
the log documents, the board report, safety notices and deviation reports all write through it."""

from __future__ import annotations

import unicodedata

_REPLACEMENTS = {"–": "-", "—": "-", "−": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "\u202f": " ",
                 "\u00a0": " ", "±": "+/-", "…": "...", "≤": "<=", "≥": ">=", "→": "->", "Ł": "L", "ł": "l",
                 "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe", "ı": "i", "↑": "upp", "↓": "ned"}


def latin1(text: object) -> str:
    out = []
    for char in str(text):
        char = _REPLACEMENTS.get(char, char)
        if all(ord(c) < 256 for c in char):
            out.append(char)
            continue
        plain = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        out.append(plain or "?")
    return "".join(out)
