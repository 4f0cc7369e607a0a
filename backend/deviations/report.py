"""The report for Läkemedelsverket and the manufacturer: its content (the device and event sections
of the EU Manufacturer Incident Report, the centre as reporter), and that content as a PDF and as
JSON. Neither names the patient: the content is read from the deviation's own columns, and none of
them is the patient's."""

from __future__ import annotations

import json


from backend import db
from backend.accounts.service import Actor
from backend.deviations.rules import (
    CLASSIFICATION_LABELS,
    CONSEQUENCE_LABELS,
    DEADLINE_DAYS,
    SERIOUS,
    STATUS_LABELS,
    DeviationNotFound,
    reporting_deadline,
)
from backend.organisations import service as organisations
from backend.pdftext import Document, latin1
from backend.workdays import today

_YES_NO = {True: "Ja", False: "Nej", None: "-"}


async def report_content(actor: Actor, deviation_id: int) -> dict:
    """The report's content, mirroring the EU Manufacturer Incident Report's device and event
    sections, with the centre as reporter. Built from the deviation's own columns only, never the
    patient: no name, personnummer or address can reach it."""
    row = await db.fetchrow(
        """
        SELECT number, status, raised_at, occurred_on, aware_on, description, consequence, serious_harm,
               device_kept, manufacturer, trade_name, article_number, serial_number, lot_number, udi,
               manufacturing_date, individnummer, category_name, classification, investigation,
               authority_reference, manufacturer_reference, reported_at
        FROM deviation WHERE id = $1 AND organisation = $2
        """, deviation_id, actor.organisation)
    if row is None:
        raise DeviationNotFound()
    organisation = await organisations.organisation(actor.organisation)
    d = dict(row)
    deadline = reporting_deadline(d["classification"], d["aware_on"])
    return {
        "format": "runda-deviation-report/1",
        "report": {
            "centre_reference": d["number"],
            "competent_authority_reference": d["authority_reference"],
            "manufacturer_reference": d["manufacturer_reference"],
            "status": d["status"], "status_text": STATUS_LABELS[d["status"]],
            "report_date": today().isoformat(),
        },
        "reporter": {
            "organisation": organisation["name"], "phone": organisation["phone"] or "",
            "role": "Hjälpmedelscentral (användare av produkten)", "country": "SE",
        },
        "device": {
            "manufacturer": d["manufacturer"], "trade_name": d["trade_name"],
            "model_or_catalogue_number": d["article_number"], "serial_number": d["serial_number"],
            "lot_number": d["lot_number"], "udi": d["udi"],
            "manufacturing_date": d["manufacturing_date"].isoformat() if d["manufacturing_date"] else None,
            "category": d["category_name"], "centre_device_label": d["individnummer"],
            "kept_for_investigation": d["device_kept"],
        },
        "event": {
            "incident_date": d["occurred_on"].isoformat(), "awareness_date": d["aware_on"].isoformat(),
            "description": d["description"], "patient_consequence": d["consequence"],
            "patient_consequence_text": CONSEQUENCE_LABELS[d["consequence"]],
            "serious_harm": d["serious_harm"], "investigation": d["investigation"],
        },
        "classification": {
            "code": d["classification"],
            "text": CLASSIFICATION_LABELS.get(d["classification"] or "", "Ej klassificerad"),
            "serious_incident": d["classification"] in SERIOUS if d["classification"] else None,
            "deadline_days": DEADLINE_DAYS.get(d["classification"] or ""),
            "reporting_deadline": deadline.isoformat() if deadline else None,
        },
    }


def report_json(content: dict) -> bytes:
    return json.dumps(content, ensure_ascii=False, indent=2).encode()


class _Report(Document):
    def __init__(self, title: str) -> None:
        super().__init__(title, margin=18)

    def heading(self, text: str, size: int = 12, *, space_before: float = 2) -> None:
        super().heading(text, size, space_before=space_before)

    def facts(self, rows: list[tuple[str, str]]) -> None:
        for label, value in rows:
            self.set_font("Helvetica", style="B", size=9)
            self.cell(60, 5, latin1(label))
            self.set_font("Helvetica", size=9)
            self.multi_cell(0, 5, latin1(value or "-"), new_x="LMARGIN", new_y="NEXT")


def report_pdf(content: dict) -> bytes:
    r, reporter, device, event, cls = (content["report"], content["reporter"], content["device"], content["event"],
                                       content["classification"])
    pdf = _Report(f"Avvikelserapport {r['centre_reference']}")
    pdf.add_page()
    pdf.heading("Rapport om negativ händelse eller tillbud med medicinteknisk produkt", 14)
    pdf.set_font("Helvetica", size=9)
    pdf.multi_cell(0, 5, latin1("Till Läkemedelsverket och tillverkaren (HSLF-FS 2021:52 kap. 5, MDR art. 87). "
                                "Rapporten innehåller inga personuppgifter om brukaren."),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.heading("Rapportör")
    pdf.facts([("Organisation", reporter["organisation"]), ("Roll", reporter["role"]),
               ("Telefon", reporter["phone"]), ("Land", reporter["country"]),
               ("HMC:s ärendenummer", r["centre_reference"]), ("Rapportdatum", r["report_date"]),
               ("Läkemedelsverkets dnr", r["competent_authority_reference"]),
               ("Tillverkarens referens", r["manufacturer_reference"]), ("Status", r["status_text"])])
    pdf.heading("Produkten")
    pdf.facts([("Tillverkare", device["manufacturer"]), ("Handelsnamn", device["trade_name"]),
               ("Modell/artikelnummer", device["model_or_catalogue_number"]),
               ("Serienummer", device["serial_number"]), ("Lot/batch", device["lot_number"]),
               ("UDI", device["udi"]), ("Tillverkningsdatum", device["manufacturing_date"] or "Okänt"),
               ("Produktgrupp", device["category"]), ("HMC:s individnummer", device["centre_device_label"]),
               ("Sparad för utredning", _YES_NO[device["kept_for_investigation"]])])
    pdf.heading("Händelsen")
    pdf.facts([("Datum för händelsen", event["incident_date"]),
               ("HMC fick kännedom", event["awareness_date"]),
               ("Följd för brukaren", event["patient_consequence_text"]),
               ("Allvarlig skada", _YES_NO[event["serious_harm"]])])
    pdf.set_font("Helvetica", style="B", size=9)
    pdf.cell(0, 6, latin1("Beskrivning"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.multi_cell(0, 5, latin1(event["description"]), new_x="LMARGIN", new_y="NEXT")
    if event["investigation"]:
        pdf.set_font("Helvetica", style="B", size=9)
        pdf.cell(0, 6, latin1("Utredning"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(0, 5, latin1(event["investigation"]), new_x="LMARGIN", new_y="NEXT")
    pdf.heading("Klassificering")
    deadline = (f"{cls['reporting_deadline']} ({cls['deadline_days']} dagar från kännedom)"
                if cls["reporting_deadline"] else "-")
    pdf.facts([("Klassificering", cls["text"]), ("Allvarlig händelse", _YES_NO[cls["serious_incident"]]),
               ("Rapporteras senast", deadline)])
    return bytes(pdf.output())
