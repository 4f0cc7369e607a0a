"""The demo region's stickers and fault reports: every device reportable, a few reports waiting."""

from __future__ import annotations

from datetime import date

from backend import db
from backend.demo.service import delete_organisation, load_demo
from backend.faults import service as faults

TODAY = date(2026, 3, 2)


async def test_the_demo_has_a_token_for_every_device_and_a_handful_of_new_reports(database):
    summary = await load_demo(scale=0.02, seed=1, today=TODAY)
    try:
        org = summary.organisation_id
        assert await db.fetchval(
            "SELECT count(*) FROM device d WHERE d.organisation = $1 AND NOT EXISTS "
            "(SELECT 1 FROM device_token t WHERE t.device = d.id AND t.replaced_at IS NULL)", org) == 0
        tokens = [r["token"] for r in await db.fetch("SELECT token FROM device_token WHERE organisation = $1", org)]
        assert all(faults.looks_like_token(t) for t in tokens)
        reports = await db.fetch("SELECT * FROM fault_report WHERE organisation = $1", org)
        assert len(reports) == 8 and {r["status"] for r in reports} == {"new"}
        for report in reports:
            case = await faults.case_status(report["status_token"])
            assert case["number"] == report["number"] and case["stage"].key == "received"
            device = await faults.public_device(
                await db.fetchval("SELECT token FROM device_token WHERE id = $1", report["device_token"]))
            assert device.device_id == report["device"]
            assert faults.check_report(faults.ReportInput(
                problems=tuple(report["problems"]), description=report["description"],
                usable=report["usable"], can_bring_in=report["can_bring_in"],
                needs_replacement=report["needs_replacement"],
                location="usual" if report["at_usual_place"] else "other", address=report["address"],
                contact_name=report["contact_name"], contact_phone=report["contact_phone"]),
                device.category_code) == []
        # The next report made in the app gets the next number.
        assert await db.fetchval("SELECT nextval(pg_get_serial_sequence('fault_report', 'id'))") > max(
            r["id"] for r in reports)
        assert (await faults.example_report_link("http://localhost:8000")).startswith("http://localhost:8000/f/")
    finally:
        await delete_organisation(summary.organisation_id)
    assert await db.fetchval("SELECT count(*) FROM device_token WHERE organisation = $1", org) == 0
