"""The demo region's technicians as planning resources: homes in their districts, hours, skills, a limit."""

from datetime import date

from backend.demo.resources import DRIVE_LIMIT_KM, build_resources
from backend.demo.service import build_region


def test_field_technicians_start_at_home_in_their_district_or_at_the_depot():
    region = build_region(1, 1, date(2026, 12, 1))
    rows = build_resources(region.staff, region.staff_areas, region.cost_bearers, region.categories)
    labels = [r["start_label"] for r in rows.resources]
    assert labels.count("HMC Västerås") == 6
    assert {"Hemma i Köping", "Hemma i Arboga", "Hemma i Sala", "Hemma i Fagersta", "Hemma i Hallstahammar"} <= set(labels)
    limited = [r for r in rows.resources if r["max_drive_km"]]
    assert [(r["start_label"], r["max_drive_km"]) for r in limited] == [("Hemma i Fagersta", DRIVE_LIMIT_KM)]
    # Everyone described works Monday to Friday; ceiling lifts need a skill that some have.
    assert len(rows.hours) == 5 * len(rows.resources)
    ceiling = next(i for i, c in enumerate(region.categories) if c["code"] == "ceiling_lift")
    assert rows.restricted == [ceiling]
    skilled = {s["staff_user"] for s in rows.skills}
    assert 0 < len(skilled) < len(rows.resources)
    # The workshop's technicians are not described: the defaults apply to them.
    workshop = {i for i, s in enumerate(region.staff) if s["role"] == "technician"} - {r["staff_user"] for r in rows.resources}
    assert len(workshop) == 1
