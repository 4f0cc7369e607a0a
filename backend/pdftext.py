"""Text for PDFs written with fpdf2's built-in fonts, which know Latin-1 only (å, ä, ö and é are
in it): every other character as its closest Latin-1 form, or '?' when there is none. The letters,
the log documents, the board report, safety notices and deviation reports all write through it;
`Document` is the A4 frame the log's documents and deviation reports share."""

from __future__ import annotations

import unicodedata

from fpdf import FPDF

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


class Document(FPDF):
    """An A4 document of Runda's (the log's documents, deviation reports): the title in its
    metadata, "Sida n av m" at the foot of every page, and headings and paragraphs in Latin-1."""

    def __init__(self, title: str, *, margin: int = 15) -> None:
        super().__init__(format="A4", unit="mm")
        self.set_margins(margin, margin, margin)
        self.set_auto_page_break(True, margin=15)
        self.set_title(latin1(title))
        self.set_creator("Runda")
        self.alias_nb_pages()

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, f"Sida {self.page_no()} av {{nb}}", align="R")

    def heading(self, text: str, size: int = 14, *, space_before: float = 0) -> None:
        if space_before:
            self.ln(space_before)
        self.set_font("Helvetica", style="B", size=size)
        self.multi_cell(0, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def paragraph(self, text: str, size: int = 10) -> None:
        self.set_font("Helvetica", size=size)
        self.multi_cell(0, 5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)
