"""Deviations against PostgreSQL: raising one snapshots the device's identity; keeping the device
takes it out of use and orders its pick-up; a technician raises only on their own orders; the case
is classified with the MDR art. 87 deadline and closed only with Läkemedelsverket's number; the
report names the device and the event and nothing of the patient; reading the case is audit-logged."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.deviations import report as documents
from backend.deviations import service as deviations
from backend.photos import clean_photo
from backend.workdays import today
from backend.workorders.service import NotAssigned
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, jpeg_bytes, make_world
from tests.support.protected import assert_no_protected_details, document_text


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world, given="Sigrid", family="Skyddad", street="Hemligvägen 7",
                                      phone="070-999 88 77", door_code="9876", protected=True)
    world.device = await add_device(world, holder=world.patient)
    await db.execute("UPDATE device SET lot_number = 'LOT-77', manufacturing_date = '2021-04-01', "
                     "udi = '(01)07312345678901' WHERE id = $1", world.device)
    world.order = await add_work_order(world, world.device, assignee=world.staff["technician"], patient=world.patient,
                                       planned=today())
    yield world
    await delete_world(world)


def actor(world, role: str) -> Actor:
    return Actor(id=world.staff[role], organisation=world.organisation, name=f"Test {role}", role=Role(role),
                 care_unit=None)


def form(**changes) -> dict:
    return {"occurred_on": today().isoformat(), "description": "Ryggstödet lossnade när brukaren satte sig.",
            "consequence": "harm", "serious": "nej", **changes}


async def test_a_technician_raises_a_deviation_with_the_devices_identity_from_the_register(world):
    photo = await clean_photo(jpeg_bytes())
    created = await deviations.raise_from_visit(actor(world, "technician"), world.order, form(), photo)
    row = await db.fetchrow("SELECT * FROM deviation WHERE id = $1", created["id"])
    assert created["number"].startswith(f"AV-{today().year}-")
    assert (row["work_order"], row["device"], row["patient"]) == (world.order, world.device, world.patient)
    assert (row["lot_number"], row["manufacturing_date"], row["udi"]) == ("LOT-77", date(2021, 4, 1),
                                                                          "(01)07312345678901")
    assert row["serial_number"].startswith("SN-") and row["trade_name"] and row["manufacturer"]
    assert (row["consequence"], row["serious_harm"], row["status"]) == ("harm", False, "new")
    assert await db.fetchval("SELECT count(*) FROM deviation_photo WHERE deviation = $1", created["id"]) == 1
    assert row["device_kept"] is False and row["pickup_order"] is None
    assert await db.fetchval("SELECT status FROM device WHERE id = $1", world.device) == "in_use"


async def test_keeping_the_device_takes_it_out_of_use_and_orders_its_pick_up(world):
    created = await deviations.raise_from_visit(actor(world, "technician"), world.order, form(keep_device="ja"), None)
    assert await db.fetchval("SELECT status FROM device WHERE id = $1", world.device) == "out_of_use"
    pickup = await db.fetchrow("SELECT type, device, patient, description, status FROM work_order WHERE id = $1",
                               created["pickup_order"]["id"])
    assert (pickup["type"], pickup["device"], pickup["patient"], pickup["status"]) == (
        "technical_review", world.device, world.patient, "new")
    assert pickup["description"].startswith(f"Hämtning för utredning – avvikelse {created['number']}")
    # The register's history says who took it out of use.
    assert await db.fetchval("SELECT count(*) FROM register_change WHERE organisation = $1 AND entity = $2",
                             world.organisation, world.device) >= 1


async def test_a_technician_raises_deviations_only_on_their_own_orders(world):
    other = await add_work_order(world, world.device, assignee=None, patient=world.patient, planned=today())
    with pytest.raises(NotAssigned):
        await deviations.raise_from_visit(actor(world, "technician"), other, form(), None)
    assert await db.fetchval("SELECT count(*) FROM deviation WHERE organisation = $1", world.organisation) == 0


@pytest.mark.parametrize("changes, field", [
    ({"description": ""}, "description"),
    ({"consequence": "kanske"}, "consequence"),
    ({"serious": ""}, "serious"),
    ({"occurred_on": (today() + timedelta(days=1)).isoformat()}, "occurred_on"),
    ({"occurred_on": "igår"}, "occurred_on"),
])
async def test_a_deviation_missing_what_it_needs_is_refused_field_by_field(world, changes, field):
    with pytest.raises(deviations.DeviationError) as refused:
        await deviations.raise_from_visit(actor(world, "technician"), world.order, form(**changes), None)
    assert refused.value.for_field(field)
    assert await db.fetchval("SELECT count(*) FROM deviation WHERE organisation = $1", world.organisation) == 0


@pytest.mark.parametrize("classification, days", [
    ("public_health_threat", 2), ("death_or_serious_deterioration", 10), ("other_serious", 15),
    ("not_serious", None), (None, None),
])
def test_the_reporting_deadline_counts_calendar_days_from_awareness(classification, days):
    aware = date(2026, 12, 30)
    expected = aware + timedelta(days=days) if days else None
    assert deviations.reporting_deadline(classification, aware) == expected


def case_form(version: int, **changes) -> dict:
    return {**form(), "version": str(version), "aware_on": today().isoformat(), "manufacturer": "Invacare",
            "trade_name": "Action 3", "article_number": "A3-42", "serial_number": "SN-RÄTT", "lot_number": "LOT-77",
            "udi": "", "manufacturing_date": "2021-04-01", "classification": "other_serious",
            "investigation": "Svetsfog brusten.", "status": "investigating", "authority_reference": "",
            "manufacturer_reference": "", **changes}


async def test_the_coordinator_classifies_reports_and_closes_the_case(world):
    coordinator = actor(world, "coordinator")
    created = await deviations.raise_from_visit(actor(world, "technician"), world.order, form(), None)
    version, update = deviations.read_case(case_form(1))
    version = await deviations.update_case(coordinator, created["id"], version, update)
    found = await deviations.case(coordinator, created["id"])
    assert found["serial_number"] == "SN-RÄTT" and found["deadline"] == today() + timedelta(days=15)
    # Closing a serious incident needs Läkemedelsverket's number.
    with pytest.raises(deviations.DeviationError) as refused:
        deviations.read_case(case_form(version, status="closed"))
    assert refused.value.for_field("authority_reference")
    # A page read before the last save is refused rather than overwriting it.
    with pytest.raises(deviations.DeviationChanged):
        await deviations.update_case(coordinator, created["id"], 1, deviations.read_case(case_form(1))[1])
    _, update = deviations.read_case(case_form(version, status="closed", authority_reference="LV 2026-1234",
                                               manufacturer_reference="INV-99"))
    await deviations.update_case(coordinator, created["id"], version, update)
    row = await db.fetchrow("SELECT status, reported_at, closed_at, authority_reference FROM deviation WHERE id = $1",
                            created["id"])
    assert row["status"] == "closed" and row["reported_at"] and row["closed_at"]
    assert row["authority_reference"] == "LV 2026-1234"


async def test_a_case_cannot_be_reported_unclassified(world):
    with pytest.raises(deviations.DeviationError) as refused:
        deviations.read_case(case_form(1, classification="", status="reported"))
    assert refused.value.for_field("classification")


async def test_the_list_puts_serious_ones_first(world):
    technician = actor(world, "technician")
    minor = await deviations.raise_from_visit(technician, world.order, form(consequence="none"), None)
    serious = await deviations.raise_from_visit(technician, world.order, form(serious="ja"), None)
    newest = await deviations.raise_from_visit(technician, world.order, form(consequence="near_miss"), None)
    listed = [d["id"] for d in await deviations.list_deviations(actor(world, "coordinator"))]
    assert listed == [serious["id"], newest["id"], minor["id"]]
    assert await deviations.list_deviations(actor(world, "coordinator"), status="closed") == []


async def test_the_report_names_the_device_and_the_event_and_nothing_of_the_patient(world):
    coordinator = actor(world, "coordinator")
    created = await deviations.raise_from_visit(actor(world, "technician"), world.order, form(), None)
    _, update = deviations.read_case(case_form(1, classification="death_or_serious_deterioration"))
    await deviations.update_case(coordinator, created["id"], 1, update)
    content = await deviations.report(coordinator, created["id"])
    assert content["device"]["serial_number"] == "SN-RÄTT" and content["device"]["lot_number"] == "LOT-77"
    assert content["device"]["manufacturing_date"] == "2021-04-01"
    assert content["event"]["description"].startswith("Ryggstödet lossnade")
    assert content["classification"]["serious_incident"] is True
    assert content["classification"]["reporting_deadline"] == (today() + timedelta(days=10)).isoformat()
    assert content["reporter"]["organisation"] == "Testregionen"
    pdf = documents.report_pdf(content)
    exported = documents.report_json(content)
    personal_number = await db.fetchval("SELECT personal_number FROM patient WHERE id = $1", world.patient)
    for document in (pdf, exported):
        text = document_text(document)
        assert "Sigrid" not in text and "Skyddad" not in text and personal_number not in text
        await assert_no_protected_details(document, world.patient)
    assert "SN-RÄTT" in document_text(pdf) and "Ryggstödet lossnade" in document_text(pdf)
    assert json.loads(exported)["device"]["manufacturer"] == "Invacare"


async def test_reading_a_case_that_names_a_patient_is_audit_logged(world):
    coordinator = actor(world, "coordinator")
    created = await deviations.raise_from_visit(actor(world, "technician"), world.order, form(), None)
    found = await deviations.case(coordinator, created["id"])
    assert found["patient_given_name"] == "Sigrid"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE patient = $1 AND staff_user = $2 AND what = "
                             "'deviation'", world.patient, coordinator.id) == 1


async def test_deviations_per_month_are_among_the_service_levels(world):
    from backend.reports import facts

    technician = actor(world, "technician")
    await deviations.raise_from_visit(technician, world.order, form(), None)
    await deviations.raise_from_visit(technician, world.order, form(serious="ja"), None)
    await facts.refresh(world.organisation, today())
    row = await db.fetchrow("SELECT hits, total FROM kpi_month WHERE organisation = $1 AND indicator = 'avvikelser' "
                            "AND month = $2", world.organisation, today().replace(day=1))
    assert (row["total"], row["hits"]) == (2, 1)


async def test_a_serious_incident_past_its_deadline_and_not_reported_is_late(world):
    coordinator = actor(world, "coordinator")
    occurred, aware = (today() - timedelta(days=20)).isoformat(), (today() - timedelta(days=16)).isoformat()
    created = await deviations.raise_from_visit(actor(world, "technician"), world.order, form(occurred_on=occurred),
                                                None)
    _, update = deviations.read_case(case_form(1, aware_on=aware, occurred_on=occurred))
    await deviations.update_case(coordinator, created["id"], 1, update)
    found = await deviations.case(coordinator, created["id"])
    assert found["deadline"] == today() - timedelta(days=1) and found["late"] is True
    _, update = deviations.read_case(case_form(2, aware_on=aware, occurred_on=occurred, status="reported"))
    await deviations.update_case(coordinator, created["id"], 2, update)
    assert (await deviations.case(coordinator, created["id"]))["late"] is False
