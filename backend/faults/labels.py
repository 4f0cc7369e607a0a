"""QR label sheets for the devices' stickers: common A4 label sizes, the QR code as inline SVG.

The QR code holds only the device's public link (/f/<token>): no individnummer, nothing
about the patient. The individnummer and the HMC's phone are printed beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import segno

from backend.devices.service import device_ids
from backend.faults.errors import LabelError
from backend.faults.tokens import device_link, ensure_tokens
from backend.organisations.service import organisation

MAX_LABELS = 240  # ten sheets of the smallest size


@dataclass(frozen=True)
class LabelFormat:
    key: str
    name: str
    width_mm: int
    height_mm: int
    columns: int
    rows: int

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows


LABEL_FORMATS = {
    f.key: f for f in (
        LabelFormat("70x37", "70 × 37 mm, 24 per ark (3 × 8)", 70, 37, 3, 8),
        LabelFormat("105x57", "105 × 57 mm, 10 per ark (2 × 5)", 105, 57, 2, 5),
    )
}
DEFAULT_FORMAT = "70x37"
FORMAT_CHOICES = [(f.key, f.name) for f in LABEL_FORMATS.values()]


def parse_individnummer_list(text: str) -> list[str]:
    """Individnummer as typed or pasted: one per line, or separated by spaces, commas or
    semicolons; upper-cased, each once, in the order given."""
    seen: dict[str, None] = {}
    for part in re.split(r"[\s,;]+", text or ""):
        if part:
            seen.setdefault(part.upper(), None)
    return list(seen)


def qr_svg(link: str, title: str) -> str:
    """The link as a QR code (error correction M or better), an inline SVG that scales to its box."""
    code = segno.make(link, error="m", micro=False)
    return code.svg_inline(omitsize=True, border=2, svgclass="qr", lineclass=None, title=title)


async def label_sheet(organisation_id: int, individnummer: list[str], origin: str, format_key: str) -> dict:
    """Labels for the listed devices, in the order given, split into A4 sheets. Devices without
    a token get one now. Unknown individnummer are refused by name."""
    fmt = LABEL_FORMATS.get(format_key)
    if fmt is None:
        raise LabelError("Välj en etikettstorlek.", "format")
    if not individnummer:
        raise LabelError("Skriv minst ett individnummer.")
    if len(individnummer) > MAX_LABELS:
        raise LabelError(f"Skriv högst {MAX_LABELS} individnummer åt gången.")
    if any(not (n.isalnum() and len(n) <= 20) for n in individnummer):
        raise LabelError("Ett individnummer består av bokstäver och siffror, till exempel A123456.")
    found = await device_ids(organisation_id, individnummer)
    unknown = [n for n in individnummer if n not in found]
    if unknown:
        raise LabelError("Finns inte: " + ", ".join(unknown[:20]) + (" …" if len(unknown) > 20 else ""))
    tokens = await ensure_tokens(organisation_id, list(found.values()))
    phone = (await organisation(organisation_id))["phone"]
    labels = []
    for number in individnummer:
        link = device_link(origin, tokens[found[number]])
        labels.append({"individnummer": number, "link": link,
                       "svg": qr_svg(link, f"QR-kod för felanmälan av {number}")})
    sheets = [labels[i:i + fmt.per_sheet] for i in range(0, len(labels), fmt.per_sheet)]
    return {"format": fmt, "sheets": sheets, "phone": phone, "count": len(labels)}
