"""Loans: lending a device to a patient and taking it back, and the device's loans (its holders'
history, which a recall traces). A device is lent to one patient at a time, and device.holder is
always the open loan's patient: both are written together, in one transaction, here only.

Used by the device register's pages and by imports alike; each call joins the caller's
transaction, so an import of many loans is one transaction.
"""

from __future__ import annotations

from datetime import date

from backend import db
from backend.accounts.service import Actor
from backend.audit.service import record_patient_reads
from backend.changes import service as changes
from backend.db import Sql, raw
from backend.devices.service import DeviceNotFound
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.errors import DomainError
from backend.patients import service as patients

REGISTER = "device"  # a loan is a change of the device's register row (its holder and status)

# A device in these states is not lent out: condemned (utdömd), or out of use after a failed check.
NOT_LENDABLE = (DeviceStatus.condemned, DeviceStatus.out_of_use)
# Where a returned device goes: the depot, or reconditioning before the next user.
RETURN_STATUSES = (DeviceStatus.in_depot, DeviceStatus.reconditioning)
RETURN_CHOICES = [(s.value, DEVICE_STATUS_LABELS[s]) for s in RETURN_STATUSES]


class LoanError(DomainError):
    """A loan or return was refused; nothing was written."""


async def _locked_device(organisation_id: int, device_id: int) -> dict:
    row = await db.fetchrow("SELECT id, individnummer, status, holder FROM device "
                            "WHERE id = $1 AND organisation = $2 FOR UPDATE", device_id, organisation_id)
    if row is None:
        raise DeviceNotFound()
    return dict(row)


async def open_loan(device_id: int) -> dict | None:
    """The device's open loan (id, patient, from_date), or None when it is in the HMC's hands."""
    row = await db.fetchrow("SELECT id, patient, from_date FROM device_loan WHERE device = $1 AND to_date IS NULL",
                            device_id)
    return dict(row) if row else None


async def lend(actor: Actor, device_id: int, patient_id: int, from_date: date, *, today: date) -> int:
    """Lend the device to a patient the actor may see, from `from_date` (not in the future, and not
    before its last loan ended). The device goes into use with the patient as its holder. Refused
    for a device that is condemned, out of use or already lent. Returns the loan's id."""
    async with db.transaction():
        device = await _locked_device(actor.organisation, device_id)
        status = DeviceStatus(device["status"])
        if status is DeviceStatus.condemned:
            raise LoanError("Hjälpmedlet är utdömt och kan inte lånas ut.", "patient")
        if status is DeviceStatus.out_of_use:
            raise LoanError("Hjälpmedlet är ur bruk och kan inte lånas ut förrän det är lagat.", "patient")
        if device["holder"] is not None or await open_loan(device_id) is not None:
            raise LoanError("Hjälpmedlet är redan utlånat. Registrera återlämningen först.", "patient")
        if from_date > today:
            raise LoanError("Ett lån kan inte börja i framtiden.", "from_date")
        last_end = await db.fetchval("SELECT max(to_date) FROM device_loan WHERE device = $1", device_id)
        if last_end is not None and from_date < last_end:
            raise LoanError(f"Lånet kan inte börja före {last_end.isoformat()}, då förra lånet slutade.", "from_date")
        if not await patients.may_see(actor, patient_id):
            raise LoanError("Välj en patient ur sökresultatet.", "patient")
        loan = await db.fetchval(
            "INSERT INTO device_loan (organisation, device, patient, from_date) VALUES ($1, $2, $3, $4) RETURNING id",
            actor.organisation, device_id, patient_id, from_date)
        await db.execute("UPDATE device SET holder = $2, status = $3 WHERE id = $1",
                         device_id, patient_id, DeviceStatus.in_use.value)
        await changes.record(actor.organisation, REGISTER, device_id, "changed", actor=actor.id, actor_name=actor.name,
                             before={"status": status.value, "on_loan": False, "loan_from": None},
                             after={"status": DeviceStatus.in_use.value, "on_loan": True, "loan_from": from_date})
    return loan


async def end_loan(actor: Actor, device_id: int, to_date: date, status: str, *, today: date) -> None:
    """Take the device back from its holder on `to_date` (not before the loan began, nor in the
    future); it goes to the depot or to reconditioning, as `status` says. A condemned device stays
    condemned."""
    async with db.transaction():
        device = await _locked_device(actor.organisation, device_id)
        loan = await open_loan(device_id)
        if loan is None:
            raise LoanError("Hjälpmedlet är inte utlånat.", "to_date")
        errors: list[tuple[str, str]] = []
        if to_date < loan["from_date"]:
            errors.append(("to_date", f"Lånet började {loan['from_date'].isoformat()}: "
                                      "återlämningen kan inte vara tidigare."))
        elif to_date > today:
            errors.append(("to_date", "Återlämningen kan inte vara i framtiden."))
        before_status = DeviceStatus(device["status"])
        if before_status is DeviceStatus.condemned:
            status = before_status.value
        elif status not in {s.value for s in RETURN_STATUSES}:
            errors.append(("return_status", "Välj om hjälpmedlet går till förrådet eller till rekonditionering."))
        if errors:
            raise LoanError(errors[0][1], errors[0][0])
        await db.execute("UPDATE device_loan SET to_date = $2 WHERE id = $1", loan["id"], to_date)
        await db.execute("UPDATE device SET holder = NULL, status = $2 WHERE id = $1", device_id, status)
        await changes.record(actor.organisation, REGISTER, device_id, "changed", actor=actor.id, actor_name=actor.name,
                             before={"status": before_status.value, "on_loan": True, "loan_to": None},
                             after={"status": status, "on_loan": False, "loan_to": to_date})


async def device_loans(actor: Actor, device_id: int) -> list[dict]:
    """The device's loans, the open one first, then newest first: dates, and the patient's name
    for those who may see the patient (each shown is an audited read; for others, no name)."""
    rows = await db.fetch(Sql(
        """
        SELECT l.id, l.from_date, l.to_date, l.patient, p.given_name, p.family_name
        FROM device_loan l LEFT JOIN LATERAL (:names) p ON true
        WHERE l.device = :device AND l.organisation = :org
        ORDER BY l.to_date IS NULL DESC, l.from_date DESC, l.id DESC
        """,
        names=patients.visible_names(actor, raw("l.patient")), device=device_id, org=actor.organisation))
    loans = [dict(r) for r in rows]
    await record_patient_reads(actor, [l["patient"] for l in loans if l["given_name"] is not None], "device_loans")
    return loans


# --- queries other domains place in theirs (FU production) ----------------------------------


def loan_dates(device: Sql) -> Sql:
    """When the device's open loan began (`lent_from`; NULL when it is in the HMC's hands) and when
    its last loan ended (`last_returned`; NULL when none has), as a row source that always has one
    row: `CROSS JOIN LATERAL (:loans) l`. FU counts a new loan's first interval from its start, and
    a check "before each new user" is due once the last loan has ended."""
    return Sql("SELECT max(from_date) FILTER (WHERE to_date IS NULL) AS lent_from, max(to_date) AS last_returned "
               "FROM device_loan WHERE device = :device", device=device)


async def on_loan_counts(organisation_id: int, days: list[date]) -> dict[date, dict[int, int]]:
    """How many devices were on loan at the end of each of `days`, by the holder's home municipality
    (cost bearer id): {day: {cost bearer: devices}}, one query. A loan that ends on a day no longer
    counts that day. The driving KPI divides the km driven by these."""
    if not days:
        return {}
    # One pass over the loans: +1 on the day each began, -1 on the day it ended, summed per
    # municipality and date; a day's count is the sum of what happened up to it.
    rows = await db.fetch(Sql(
        """
        WITH changes AS (
            SELECT h.cost_bearer, e.day, sum(e.delta) AS delta
            FROM device_loan l JOIN LATERAL (:home) h ON true
            CROSS JOIN LATERAL (VALUES (l.from_date, 1), (l.to_date, -1)) AS e(day, delta)
            WHERE l.organisation = :org AND e.day <= :last
            GROUP BY h.cost_bearer, e.day)
        SELECT d.day, c.cost_bearer, sum(c.delta)::int AS devices
        FROM unnest(:days::date[]) AS d(day) JOIN changes c ON c.day <= d.day
        GROUP BY d.day, c.cost_bearer
        """,
        days=sorted(set(days)), last=max(days), org=organisation_id, home=patients.home_place(raw("l.patient"))))
    counts: dict[date, dict[int, int]] = {day: {} for day in days}
    for r in rows:
        if r["devices"]:
            counts[r["day"]][r["cost_bearer"]] = r["devices"]
    return counts
