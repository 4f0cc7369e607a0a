"""What a notice says: the letter (a PDF, A4, Swedish), the SMS text and the e-mail, made from one
description of the visit. Nothing here reads the database or sends anything.

A letter to a patient with a protected identity (skyddade personuppgifter) is never addressed to
them: it goes to the cost bearer, by name only, asking them to pass it on, and no address of the
patient is written anywhere in it (backend/notices/channels.py route_for decides who gets it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from fpdf import FPDF

from backend.pdftext import latin1

SMS_LIMIT = 160

WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
          "november", "december")


@dataclass(frozen=True)
class Visit:
    """Everything a notice tells, about one planned visit."""

    centre_name: str
    centre_phone: str
    given_name: str
    family_name: str
    category_name: str | None
    article_name: str
    individnummer: str
    day: date
    window_start: time | None
    window_end: time | None
    technician_name: str | None = None
    # The patient's postal address, lines as on an envelope; empty for a protected identity.
    address: tuple[str, ...] = field(default_factory=tuple)
    # Set when the letter goes to the cost bearer instead of the patient (its name).
    cost_bearer_name: str | None = None

    @property
    def patient_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


def swedish_date(day: date) -> str:
    """'tisdag 10 mars 2026'."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def window_words(start: time | None, end: time | None) -> str:
    """'kl. 08.00–10.00' (Swedish writes times with a point), or '' without a window."""
    if start is None or end is None:
        return ""
    return f"kl. {start:%H.%M}–{end:%H.%M}"


def device_words(category_name: str | None, article_name: str, individnummer: str) -> str:
    """The device in plain words: 'Elrullstol, Permobil M3 Corpus (individnummer R000001)'."""
    what = ", ".join(part for part in (category_name, article_name) if part)
    return f"{what} (individnummer {individnummer})"


def first_name(full_name: str | None) -> str | None:
    return full_name.split()[0] if full_name and full_name.split() else None


def _when(visit: Visit) -> str:
    return " ".join(part for part in (swedish_date(visit.day), window_words(visit.window_start, visit.window_end)) if part)


# --- the letter ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    """A letter as lines of text: the address block, the heading and the paragraphs."""

    addressee: tuple[str, ...]
    heading: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        """The letter as plain text: what the record of the message keeps."""
        return "\n".join([*self.addressee, "", self.heading, "", *self.paragraphs])


def letter(visit: Visit) -> Letter:
    when = _when(visit)
    technician = first_name(visit.technician_name)
    visit_lines = [
        f"Hjälpmedel: {device_words(visit.category_name, visit.article_name, visit.individnummer)}",
        f"Tid: {when}",
    ]
    if technician:
        visit_lines.append(f"Tekniker: {technician}")
    change = (f"Passar tiden inte? Ring oss på {visit.centre_phone} så bokar vi en ny tid. "
              "Hör också av dig om hjälpmedlet inte längre används.")
    if visit.cost_bearer_name:
        addressee = (visit.cost_bearer_name,)
        opening = (f"Vi har planerat förebyggande underhåll (service) av ett hjälpmedel som {visit.patient_name} "
                   "använder. Patienten har skyddade personuppgifter, därför skickar vi inte brevet direkt till "
                   "patienten. Vi ber er lämna beskedet vidare till patienten.")
        change = (f"Passar tiden inte, eller kan beskedet inte lämnas vidare? Ring oss på {visit.centre_phone}.")
    else:
        addressee = (visit.patient_name, *visit.address)
        opening = (f"Hej {visit.given_name}! Det är dags för förebyggande underhåll (service) av ditt hjälpmedel. "
                   "Vi kommer hem till dig:")
    return Letter(
        addressee=addressee,
        heading="Dags för service av hjälpmedel",
        paragraphs=(opening, *visit_lines, "Besöket tar oftast under en timme. Någon behöver vara hemma "
                    "och öppna.", change, f"Med vänliga hälsningar\n{visit.centre_name}"),
    )



def _wrapped(pdf: FPDF, text: str, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` (mm) in the current font, at spaces (a word
    wider than the line is cut). fpdf2's multi_cell does this too, but is some hundred times slower,
    and a send's PDF may be a thousand letters."""
    widths, scale = pdf.current_font.cw, pdf.font_size / 1000  # the core font's glyph widths

    def measure(piece: str) -> float:
        return sum(widths.get(char, 600) for char in piece) * scale

    lines: list[str] = []
    for part in text.split("\n"):
        line = ""
        for word in part.split(" "):
            candidate = f"{line} {word}" if line else word
            if measure(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while measure(word) > width:
                cut = len(word)
                while cut > 1 and measure(word[:cut]) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def _lines(pdf: FPDF, text: str, height: float) -> None:
    for line in _wrapped(pdf, latin1(text), pdf.epw):
        pdf.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")


def render(letters: list[tuple[Letter, str, str, date]]) -> bytes:
    """One PDF (A4) with each letter on pages of its own: (letter, centre name, centre phone, date
    written), in order."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(25, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title("Aviseringar")
    pdf.set_creator("Runda")
    for one, centre_name, centre_phone, written in letters:
        pdf.add_page()
        pdf.set_font("Helvetica", style="B", size=12)
        _lines(pdf, centre_name, 6)
        pdf.set_font("Helvetica", size=10)
        _lines(pdf, f"Telefon {centre_phone}", 5)
        _lines(pdf, written.isoformat(), 5)
        # The addressee where a window envelope shows it.
        pdf.set_y(max(pdf.get_y() + 5, 50))
        pdf.set_font("Helvetica", size=11)
        for line in one.addressee:
            _lines(pdf, line, 6)
        pdf.set_y(max(pdf.get_y() + 15, 90))
        pdf.set_font("Helvetica", style="B", size=14)
        _lines(pdf, one.heading, 8)
        pdf.ln(4)
        pdf.set_font("Helvetica", size=11)
        for paragraph in one.paragraphs:
            _lines(pdf, paragraph, 6)
            pdf.ln(3)
    return bytes(pdf.output())


# --- SMS and e-mail -------------------------------------------------------------------------


def sms_text(visit: Visit) -> str:
    """At most 160 characters, no name and no personnummer (a phone's screen is seen by others):
    the centre, the device, the day and window, and the number to call. Plain hyphens, so the
    text stays in the SMS alphabet (å, ä and ö are in it)."""
    when = f"{WEEKDAYS[visit.day.weekday()][:3]} {visit.day.isoformat()}"
    if visit.window_start and visit.window_end:
        when += f" kl {visit.window_start:%H.%M}-{visit.window_end:%H.%M}"
    centre = visit.centre_name

    def compose(device: str, centre: str) -> str:
        return (f"{centre}: Service av {device} {when}. Passar tiden inte? Ring {visit.centre_phone}.")

    category = (visit.category_name or "hjälpmedel").lower()
    for device in (f"din {category} {visit.individnummer}", f"hjälpmedel {visit.individnummer}"):
        text = compose(device, centre)
        if len(text) <= SMS_LIMIT:
            return text
    room = SMS_LIMIT - len(compose(f"hjälpmedel {visit.individnummer}", ""))
    return compose(f"hjälpmedel {visit.individnummer}", centre[:max(room, 0)].rstrip())[:SMS_LIMIT]


def email_text(visit: Visit) -> tuple[str, str]:
    """The e-mail's subject and plain-text body."""
    subject = f"Service av ditt hjälpmedel {visit.day.isoformat()}"
    one = letter(visit)
    body = "\n\n".join(one.paragraphs[:1]) + "\n\n" + "\n".join(one.paragraphs[1:-3]) + "\n\n" + \
        "\n\n".join(one.paragraphs[-3:])
    return subject, body + "\n\nDet här meddelandet går inte att svara på.\n"
