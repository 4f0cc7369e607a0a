"""Route-access rows of route planning's proposals (/planering, /planering/forslag,
/planering/akut), for coordinators and admins. The world gets an empty proposal. Posts send empty
forms: a proposal without a period, an acceptance naming no day and an urgent insertion naming no
order are refused (400); nothing is written."""

from __future__ import annotations

from datetime import date

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)

ROWS = {
    ("GET", "/planering"): ("/planering", PAGE),
    ("GET", "/planering/forslag"): ("/planering/forslag", PAGE),
    ("POST", "/planering/forslag"): ("/planering/forslag", REFUSED),
    ("GET", "/planering/forslag/{proposal_id:int}"): ("/planering/forslag/{plan_proposal}", PAGE),
    ("POST", "/planering/forslag/{proposal_id:int}/godkann"): ("/planering/forslag/{plan_proposal}/godkann", REFUSED),
    ("GET", "/planering/akut"): ("/planering/akut", PAGE),
    ("POST", "/planering/akut"): ("/planering/akut", REFUSED),
}


async def add_paths(world) -> None:
    from backend import db

    proposal = await db.fetchval(
        "INSERT INTO plan_proposal (organisation, created_by, first_day, last_day, technicians, figures) "
        "VALUES ($1, $2, $3, $3, $4, $5::jsonb) RETURNING id",
        world.organisation, world.staff["coordinator"], date.today(), [world.staff["technician"]],
        '{"proposal": {"km": 0, "hours": 0, "late": 0, "unplanned": 0, "visits": 0}, '
        '"current": {"km": 0, "hours": 0, "late": 0, "unplanned": 0, "visits": 0}, "days": {}}')
    world.paths["plan_proposal"] = str(proposal)
