"""The confirmation to the manufacturer that a safety notice has been acted on: every unit's
identity and outcome, as PDF (A4, fpdf2's built-in font) and CSV (`;`, UTF-8 with BOM, CRLF).
No patient data at all: where a unit was is "at a patient", "in the depot" or "out of use"."""

from __future__ import annotations

import csv
import io
from datetime import date

from fpdf import FPDF
from fpdf.fonts import FontFace

from backend.audit.documents import local
from backend.pdftext import latin1


def _date(value: date | None) -> str:
    return value.isoformat() if value else ""


def _outcome(unit: dict) -> str:
    """The outcome, with the day it was done or the coordinator's note on a unit not found (an
    order's own reasons are free text about a visit: they stay in Runda)."""
    text = unit["outcome_label"]
    if unit["outcome"] == "done" and unit["completed_at"]:
        text += f" {local(unit['completed_at'])[:10]}"
    if unit["outcome"] == "not_found" and unit["not_found_note"]:
        text += f": {unit['not_found_note']}"
    return text


def _summary(confirmation: dict) -> str:
    recall, counts = confirmation["recall"], confirmation["counts"]
    status = (f"Stängt {local(recall['closed_at'])}" if recall["closed_at"] else "Pågår (inte stängt)")
    outcome = ", ".join(f"{label.lower()} {counts['outcome'].get(key, 0)}"
                        for key, label in _OUTCOMES if counts["outcome"].get(key))
    return (f"Tillverkare: {recall['manufacturer']}\nTillverkarens referens: {recall['reference'] or '-'}\n"
            f"Artiklar: {', '.join(recall['article_names'])}\nBerörda enheter: {recall['criteria_text']}\n"
            f"Åtgärd: {recall['action_label']}, senast {recall['deadline'].isoformat()}\nStatus: {status}\n"
            f"Antal enheter hos oss: {counts['total']}" + (f" ({outcome})" if outcome else ""))


_OUTCOMES = (("done", "Åtgärdade"), ("not_reached", "Ej nådda"), ("not_found", "Ej hittade"),
             ("condemned", "Utdömda"), ("open", "Pågår"))


def confirmation_pdf(confirmation: dict, produced: date) -> bytes:
    recall = confirmation["recall"]
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_title(latin1(f"Bekräftelse säkerhetsmeddelande {recall['reference'] or recall['id']}"))
    pdf.set_creator("Runda")
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.multi_cell(0, 7, latin1(f"Bekräftelse av åtgärder - {recall['title']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 5, latin1(f"{confirmation['centre']}, utskriven {produced.isoformat()}\n\n"
                                + _summary(confirmation)), new_x="LMARGIN", new_y="NEXT")
    if recall["closing_note"]:
        pdf.multi_cell(0, 5, latin1(f"Kommentar: {recall['closing_note']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", size=8)
    with pdf.table(col_widths=(20, 30, 26, 20, 20, 20, 44), headings_style=FontFace(emphasis="BOLD"),
                   line_height=4, text_align="LEFT") as table:
        table.row([latin1(h) for h in ("Individnr", "Artikel", "Serienummer", "Lot/batch", "Tillverkad", "Plats",
                                       "Utfall")])
        for unit in confirmation["units"]:
            table.row([latin1(c) for c in (
                unit["individnummer"], f"{unit['article_number']} {unit['article_name']}", unit["serial_number"],
                unit["lot_number"], _date(unit["manufacturing_date"]), unit["placement_label"], _outcome(unit))])
    return bytes(pdf.output())


def confirmation_csv(confirmation: dict) -> bytes:
    recall = confirmation["recall"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Tillverkarens referens", "Rubrik", "Tillverkare", "Individnummer", "Artikelnummer", "Artikel",
                     "Serienummer", "Lot/batch", "Tillverkningsdatum", "UDI", "Plats", "Utfall", "Arbetsorder",
                     "Klar", "Kommentar"])
    for unit in confirmation["units"]:
        # An order's own reasons are free text about a visit, so they stay in Runda.
        comment = unit["not_found_note"] if unit["outcome"] == "not_found" else ""
        writer.writerow([recall["reference"], recall["title"], recall["manufacturer"], unit["individnummer"],
                         unit["article_number"], unit["article_name"], unit["serial_number"], unit["lot_number"],
                         _date(unit["manufacturing_date"]), unit["udi"], unit["placement_label"],
                         unit["outcome_label"], unit["order_number"] or "",
                         local(unit["completed_at"])[:10] if unit["completed_at"] else "", comment])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
