"""The one check that a patient with a protected identity (skyddade personuppgifter) leaks nothing
of where they live: their street address, phone and door code appear nowhere in a
page, a PDF or a CSV outside the visit itself. Every new list, export, letter, route and PDF passes it.

    await assert_no_protected_details(response.text, patient_id)
    await assert_no_protected_details(pdf_bytes, patient_id)   # a PDF is read back as its text
"""

from __future__ import annotations

import io
import re

from backend import db


def document_text(content: str | bytes) -> str:
    """The text a person would read: a PDF read back (pypdf), bytes decoded (UTF-8, BOM and
    Windows-1252 as a CSV may be), a string as it is."""
    if isinstance(content, str):
        return content
    if content.startswith(b"%PDF"):
        import pypdf

        return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(content)).pages)
    for encoding in ("utf-8-sig", "utf-16", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def _pattern(value: str) -> re.Pattern:
    """The value as written or with its spaces and dashes changed ('070-111 22 33' is found as
    '0701112233' or '070 111 22 33' too), in any case, not as part of a longer word or number."""
    value = value.strip()
    chars = [c for c in value if not c.isspace() and c != "-"]
    # A value written with spaces or dashes may be shown with others or none; one without is
    # looked for as it is (a door code 1234 is not the 12-34 of a date).
    gap = r"[\s\-]?" if len(chars) < len(value) else ""
    body = gap.join(re.escape(c) for c in chars)
    return re.compile(rf"(?<![0-9A-Za-zÅÄÖåäö]){body}(?![0-9A-Za-zÅÄÖåäö])", re.IGNORECASE)


async def protected_details(patient_id: int) -> dict[str, str]:
    """The patient's details that must not show: street address, phone and door code. (Give the
    protected patient values of their own: the factory's defaults are every test patient's.)"""
    row = await db.fetchrow("SELECT street, phone, door_code, protected_identity FROM patient WHERE id = $1", patient_id)
    assert row is not None, f"no patient {patient_id}"
    assert row["protected_identity"], f"patient {patient_id} has no protected identity: the check would prove nothing"
    return {k: row[k] for k in ("street", "phone", "door_code") if row[k] and row[k].strip()}


async def assert_no_protected_details(content: str | bytes, patient_id: int) -> None:
    """Fail when a page, PDF or CSV shows the protected patient's address, phone or door code."""
    text = document_text(content)
    details = await protected_details(patient_id)
    assert details, f"patient {patient_id} has no address, phone or door code to look for"
    for name, value in details.items():
        assert not _pattern(value).search(text), f"the protected patient's {name} ({value!r}) shows in the text"
