"""Route-access rows of the safety notices (/sakerhetsmeddelanden: coordinators and admins). The
world gets a notice naming one depot unit of its own (by lot). Posts send empty forms: a notice
with nothing filled in, a unit not chosen and closing while the unit is open are refused (400);
making the orders needs nothing more (303: the first makes the unit's order, the next none)."""

from __future__ import annotations

from datetime import date, timedelta

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)
DONE = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=303, admin=303)

NOTICE = "/sakerhetsmeddelanden/{recall}"
ROWS = {
    ("GET", "/sakerhetsmeddelanden"): ("/sakerhetsmeddelanden", PAGE),
    ("GET", "/sakerhetsmeddelanden/ny"): ("/sakerhetsmeddelanden/ny", PAGE),
    ("POST", "/sakerhetsmeddelanden/ny"): ("/sakerhetsmeddelanden/ny", REFUSED),
    ("GET", "/sakerhetsmeddelanden/{recall_id:int}"): (NOTICE + "?sida=1", PAGE),
    ("POST", "/sakerhetsmeddelanden/{recall_id:int}/arbetsordrar"): (NOTICE + "/arbetsordrar", DONE),
    ("POST", "/sakerhetsmeddelanden/{recall_id:int}/ej-hittad"): (NOTICE + "/ej-hittad", REFUSED),
    ("POST", "/sakerhetsmeddelanden/{recall_id:int}/stang"): (NOTICE + "/stang", REFUSED),
    ("GET", "/sakerhetsmeddelanden/{recall_id:int}/bekraftelse.pdf"): (NOTICE + "/bekraftelse.pdf", PAGE),
    ("GET", "/sakerhetsmeddelanden/{recall_id:int}/bekraftelse.csv"): (NOTICE + "/bekraftelse.csv", PAGE),
    ("GET", "/sakerhetsmeddelanden/{recall_id:int}/ordrar-status"): (NOTICE + "/ordrar-status", PAGE),
}


async def add_paths(world) -> None:
    from backend import db
    from backend.accounts.service import Actor
    from backend.accounts.tables import Role
    from backend.recalls import service as recalls
    from tests.support.factories import add_device

    unit = await add_device(world, holder=None, individnummer="RECALL01")
    world.devices.remove(unit)  # the notice's own: the other areas' paths use the world's devices
    await db.execute("UPDATE device SET lot_number = 'ACCESS-LOT' WHERE id = $1", unit)
    coordinator = Actor(id=world.staff["coordinator"], organisation=world.organisation, name="Test coordinator",
                        role=Role.coordinator, care_unit=None)
    world.paths["recall"] = str(await recalls.create_recall(coordinator, recalls.NoticeFields(
        title="Testmeddelande", manufacturer="Permobil", articles=(world.article,), action="check",
        deadline=date.today() + timedelta(days=30), lot_numbers=("ACCESS-LOT",)), date.today()))
