"""The log's documents: a patient's log extract (loggutdrag) and a review's documentation, as PDF
(A4, fpdf2's built-in font) and CSV (`;`, UTF-8 with BOM, CRLF: Excel opens it as it is)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from fpdf.fonts import FontFace

from backend.pdftext import Document, latin1
from backend.workdays import STOCKHOLM

def local(at: datetime) -> str:
    return at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


class _Document(Document):
    def rows(self, header: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
        self.set_font("Helvetica", size=8)
        with self.table(col_widths=widths, headings_style=FontFace(emphasis="BOLD"), line_height=4,
                        text_align="LEFT") as table:
            table.row([latin1(h) for h in header])
            for row in rows:
                table.row([latin1(c) for c in row])


def extract_pdf(*, centre: str, patient_name: str, personal_number: str, produced_by: str, produced: date,
                accesses: list[dict]) -> bytes:
    """A patient's log extract: every access to their data that the log still holds, oldest first,
    with the staff member's name (the centre is a public authority), the care unit, the time and
    what was read."""
    pdf = _Document("Loggutdrag")
    pdf.add_page()
    pdf.heading(f"Loggutdrag - {centre}")
    pdf.paragraph(f"Patient: {patient_name} ({personal_number})\nUtdraget gjort {produced.isoformat()} av "
                  f"{produced_by}.\nUtdraget visar varje åtkomst till patientens uppgifter i Runda som loggen "
                  "sparar (minst fem år): vem, från vilken vårdenhet, när och vad som lästes.")
    if not accesses:
        pdf.paragraph("Loggen har inga åtkomster till patientens uppgifter.")
    else:
        pdf.rows(["Tid", "Personal", "Roll", "Vårdenhet", "Vad som lästes"],
                 [[local(a["at"]), a["reader"], a["role_label"], a["care_unit_name"] or "-", a["what_label"]]
                  for a in accesses], (30, 42, 24, 38, 46))
        pdf.paragraph(f"Antal åtkomster: {len(accesses)}.", size=9)
    return bytes(pdf.output())


def review_pdf(review: dict, produced: date) -> bytes:
    """A review's documentation: who, why, which selection and period, each access judged, the
    conclusion and when it was closed."""
    pdf = _Document(f"Loggkontroll {review['id']}")
    pdf.add_page()
    pdf.heading(f"Loggkontroll {review['id']} - {review['organisation_name']}")
    closed = (f"Avslutad {local(review['closed_at'])} av {review['closed_by_name'] or '-'}"
              if review["closed_at"] else "Pågår (inte avslutad)")
    pdf.paragraph(
        f"Skäl: {review['reason_label']}\nGranskare: {review['reviewer_name'] or 'Ej tilldelad'}\n"
        f"Period: {review['period_from'].isoformat()} - {review['period_until'].isoformat()}\n"
        f"Urval: {review['selection_text']}\nSkapad: {local(review['created_at'])}\n{closed}\n"
        f"Utskriven: {produced.isoformat()}")
    if review.get("conclusion"):
        pdf.heading("Slutsats", size=11)
        pdf.paragraph(review["conclusion"])
    pdf.heading(f"Granskade åtkomster ({len(review['accesses'])})", size=11)
    pdf.rows(["Tid", "Personal", "Patient", "Vad", "Urval", "Bedömning", "Kommentar"],
             [[local(i["at"]), i["staff_name"], i["patient_name"], i["what_label"], ", ".join(i["flag_labels"]),
               i["verdict_label"], i["comment"] or ""] for i in review["accesses"]],
             (28, 26, 26, 22, 28, 22, 28))
    return bytes(pdf.output())


def review_csv(review: dict) -> bytes:
    """The same documentation as CSV, one line per access."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Granskning", "Skäl", "Period från", "Period till", "Urval", "Status", "Avslutad", "Avslutad av",
                     "Tid", "Personal", "Roll", "Vårdenhet", "Patient", "Vad", "Urvalets signaler", "Bedömning",
                     "Kommentar", "Bedömd av"])
    for item in review["accesses"]:
        writer.writerow([
            review["id"], review["reason_label"], review["period_from"].isoformat(), review["period_until"].isoformat(),
            review["selection_text"], review["status_label"], local(review["closed_at"]) if review["closed_at"] else "",
            review["closed_by_name"] or "", local(item["at"]), item["staff_name"], item["role_label"],
            item["care_unit_name"] or "", item["patient_name"], item["what_label"], ", ".join(item["flag_labels"]),
            item["verdict_label"], item["comment"] or "", item["judged_by_name"] or ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
