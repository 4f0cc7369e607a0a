"""An organisation's registers written as import files: the same columns, names and formats the
import reads (`;`, Swedish column names, dates as 2026-03-01, decimal commas), so a file written
here and imported into another organisation reproduces the registers. This is how the example
files under examples/import/ are made from the demo region (`runda export-import-files`), and
what the round-trip tests and the benchmark import."""

from __future__ import annotations

import csv
import io
from datetime import date

from backend.devices import bulk as device_bulk
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.imports.kinds import ARTICLES, DEVICES, KINDS, LOANS, NOTICE_CHANNEL_TITLES, PATIENTS, Kind
from backend.organisations import service as organisations
from backend.patients import bulk as patient_bulk

ORDER = ("articles", "patients", "devices", "loans")  # the order they import in
SPARE_PARTS_IN_EXAMPLES = 3


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    return str(value)


def write(kind: Kind, rows: list[dict], encoding: str = "utf-8-sig") -> bytes:
    """The rows (by column key) as the kind's import file: every column, `;`, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.title for column in kind.columns])
    for row in rows:
        writer.writerow([_cell(row.get(column.key)) for column in kind.columns])
    return out.getvalue().encode(encoding)


async def _names(organisation_id: int, bearer_ids: set[int], unit_ids: set[int]) -> tuple[dict, dict]:
    codes = {b["id"]: b["code"] for b in await organisations.cost_bearer_choices(organisation_id)}
    for missing in bearer_ids - set(codes):  # an inactive one still names its rows
        found = await organisations.cost_bearer(organisation_id, missing)
        codes[missing] = found["code"] if found else ""
    units = {u["id"]: u["name"] for u in await organisations.care_units(organisation_id)}
    for missing in unit_ids - set(units):
        found = await organisations.care_unit(organisation_id, missing)
        units[missing] = found["name"] if found else ""
    return codes, units


def _sample(devices: list[dict], lent: set[str], iso_codes: dict[str, str], limit: int) -> list[dict]:
    """`limit` devices on loan, one category after the other (so a few kinds, with and without FU,
    show), and one in the depot and one condemned, if there are."""
    by_category: dict[str, list[dict]] = {}
    for device in devices:
        if device["individnummer"] in lent:
            by_category.setdefault(iso_codes[device["article_number"]], []).append(device)
    chosen: list[dict] = []
    queues = [queue for _, queue in sorted(by_category.items())]
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    for status in ("in_depot", "condemned"):
        chosen += [d for d in devices if d["individnummer"] not in lent and d["status"] == status][:1]
    return sorted(chosen, key=lambda d: d["individnummer"])


async def export_files(organisation_id: int, *, limit: int | None = None,
                       encoding: str = "utf-8-sig") -> dict[str, bytes]:
    """{file name: bytes} for articles, patients, devices and loans. With `limit`, a small set that
    holds together: `limit` devices on loan (and one in the depot and one condemned), their articles
    (and a few spare parts), their loans and the patients holding them."""
    articles = await device_bulk.export_articles(organisation_id)
    devices = await device_bulk.export_devices(organisation_id)
    loans = await device_bulk.export_loans(organisation_id)
    patients = await patient_bulk.export_patients(organisation_id)
    if limit is not None:
        devices = _sample(devices, {loan["individnummer"] for loan in loans},
                          {a["article_number"]: a["iso_code"] for a in articles}, limit)
        chosen = {d["individnummer"] for d in devices}
        loans = [loan for loan in loans if loan["individnummer"] in chosen]
        holders = {loan["patient"] for loan in loans}
        patients = [p for p in patients if p["id"] in holders]
        used = {d["article_number"] for d in devices}
        spare = [a for a in articles if not a["iso_code"]][:SPARE_PARTS_IN_EXAMPLES]
        articles = [a for a in articles if a["article_number"] in used] + spare
    codes, units = await _names(organisation_id, {d["owner"] for d in devices if d["owner"]}
                                | {p["cost_bearer"] for p in patients}, {p["care_unit"] for p in patients})
    numbers = {p["id"]: p["personal_number"] for p in patients}
    status_labels = {status.value: label for status, label in DEVICE_STATUS_LABELS.items()}
    for device in devices:
        device["owner"] = codes.get(device["owner"], "") if device["owner"] else ""
        device["status"] = status_labels[DeviceStatus(device["status"]).value]
    for patient in patients:
        patient["cost_bearer"] = codes[patient["cost_bearer"]]
        patient["care_unit"] = units[patient["care_unit"]]
        patient["notice_channel"] = NOTICE_CHANNEL_TITLES[patient["notice_channel"]]
    for loan in loans:
        loan["personal_number"] = numbers[loan["patient"]]
    rows = {"articles": articles, "patients": patients, "devices": devices, "loans": loans}
    return {KINDS[key].file_name: write(KINDS[key], rows[key], encoding) for key in ORDER}


__all__ = ["ARTICLES", "DEVICES", "LOANS", "ORDER", "PATIENTS", "export_files", "write"]
