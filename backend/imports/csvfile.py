"""Reading a file as webSesam/SESAM exports it: CSV with Swedish column names, `;` between fields
(a tab or `,` is found too), in UTF-8 with or without BOM, Windows-1252 or UTF-16 (what Excel
saves as "Unicode text"), one header line and a record per line.

What cannot be read at all (not text, no known column, a quote left open) refuses the whole file
with a Swedish message; a single line that does not fit is the kinds' to refuse, by line number.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass

from backend.errors import DomainError

MAX_BYTES = 50 * 1024 * 1024  # a whole region's devices take ~10 MB

_SEPARATORS = (";", "\t", ",")
SEPARATOR_NAMES = {";": "semikolon", "\t": "tabb", ",": "komma"}


class FileRefused(DomainError):
    """The file cannot be imported at all; nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "file")


@dataclass(frozen=True)
class Sheet:
    """A file read: how it was written, which column is which, and its records by line number."""

    encoding: str  # as people know it: "UTF-8", "UTF-8 med BOM", "Windows-1252", "UTF-16"
    separator: str
    columns: dict[str, int]  # column key -> index in the record
    unknown: list[str]  # header names that name no column of the kind (not read)
    width: int  # fields in the header
    records: list[tuple[int, list[str]]]  # (line number in the file, fields)
    has_control: bool = False  # some field may hold a control character (each is checked then)


def normalise_header(name: str) -> str:
    """'  FU-intervall  (dagar): ' -> 'fu-intervall (dagar)': case, spaces and a trailing colon aside."""
    return " ".join(name.replace("\ufeff", "").replace("\xa0", " ").split()).rstrip(":").strip().lower()


def decode(content: bytes) -> tuple[str, str]:
    """The text and the name of its encoding: a BOM says which; otherwise UTF-8 if it is valid,
    else Windows-1252 (what Swedish Windows programs write)."""
    if content.startswith(codecs.BOM_UTF8):
        return _decoded(content[3:], "utf-8", "UTF-8 med BOM")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decoded(content, "utf-16", "UTF-16")
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return _decoded(content, "cp1252", "Windows-1252")


def _decoded(content: bytes, codec: str, name: str) -> tuple[str, str]:
    try:
        return content.decode(codec), name
    except UnicodeDecodeError:
        raise FileRefused("Filen kan inte läsas som text (varken UTF-8 eller Windows-1252). "
                          "Spara den som CSV från verksamhetssystemet och försök igen.") from None


def read(content: bytes, aliases: dict[str, str], required: list[str], titles: dict[str, str],
         what: str) -> Sheet:
    """The file's records, its columns found by name (`aliases`: normalised name -> column key).

    Refused as a whole: an empty file, one that is not text, one whose header names none of the
    `required` columns (named by `titles`) or a column twice, and one a quote leaves open."""
    if not content.strip():
        raise FileRefused("Filen är tom.")
    if b"\x00" in content and not content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused("Filen är inte en textfil. Välj en CSV-fil exporterad från verksamhetssystemet.")
    text, encoding = decode(content)
    if "\x00" in text:
        raise FileRefused("Filen är inte en textfil. Välj en CSV-fil exporterad från verksamhetssystemet.")
    # Lines end at \n, \r\n or \r alike, so that line numbers are the ones an editor shows.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise FileRefused("Filen är tom.")
    header_line = lines[first]
    separator = max(_SEPARATORS, key=lambda sep: (_known(header_line, sep, aliases), -_SEPARATORS.index(sep)))
    header = _fields(header_line, separator)
    columns: dict[str, int] = {}
    unknown: list[str] = []
    exact = {normalise_header(title): key for key, title in titles.items()}
    for index, name in enumerate(header):
        key = aliases.get(normalise_header(name))
        if key is None:
            if name.strip():
                unknown.append(name.strip()[:60])
        elif key not in columns:
            columns[key] = index
        elif exact.get(normalise_header(name)) == key and exact.get(normalise_header(header[columns[key]])) != key:
            unknown.append(header[columns[key]].strip()[:60])  # the column's own name wins over another's
            columns[key] = index
        elif exact.get(normalise_header(header[columns[key]])) == key and exact.get(normalise_header(name)) != key:
            unknown.append(name.strip()[:60])
        else:
            raise FileRefused(f"Kolumnen {titles[key]} finns två gånger i rubrikraden.")
    missing = [titles[key] for key in required if key not in columns]
    if missing:
        if len(missing) == len(required) and not columns:
            raise FileRefused(
                f"Filen ser inte ut som en fil med {what}: rubrikraden saknar kolumnerna {_listed(missing)}. "
                "Första raden ska ha kolumnernas namn, åtskilda med semikolon.")
        raise FileRefused(f"Rubrikraden saknar {'kolumnen' if len(missing) == 1 else 'kolumnerna'} "
                          f"{_listed(missing)}.")
    # A tab or line break inside a field is fine; other control characters refuse their line.
    return Sheet(encoding, separator, columns, unknown, len(header), _records(lines, first + 1, separator),
                 has_control_characters(text))


def _known(line: str, separator: str, aliases: dict[str, str]) -> int:
    try:
        return sum(1 for name in _fields(line, separator) if normalise_header(name) in aliases)
    except FileRefused:
        return 0


def _fields(line: str, separator: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=separator), [])
    except csv.Error:
        raise FileRefused("Rubrikraden kan inte läsas (ett citattecken saknar sin motsvarighet).") from None


def _records(lines: list[str], start: int, separator: str) -> list[tuple[int, list[str]]]:
    """Every non-empty record after the header with the number of the line it starts on (the
    header's line counts; a quoted field may run over several lines)."""
    source = io.StringIO("\n".join(lines[start:]))
    reader = csv.reader(source, delimiter=separator, strict=False)
    records = []
    line = start
    previous_end = 0
    try:
        for fields in reader:
            begins = start + previous_end + 1
            previous_end = reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            records.append((begins, fields))
            line = begins
    except csv.Error:
        raise FileRefused(f"Filen kan inte läsas efter rad {line}: ett fält är för långt eller ett citattecken "
                          "saknar sin motsvarighet.") from None
    return records


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " och " + names[-1]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(value: str) -> bool:
    return bool(_CONTROL.search(value))
