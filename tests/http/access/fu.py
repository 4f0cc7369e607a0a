"""Route-access rows of FU production (/fu: the due list, generation, a run's progress), for
coordinators and admins. The world gets a generation run (its job not queued). Posts send empty
forms: asking for the list to be computed again names no list seen (400), a run without a period is
refused (400), and automatic generation without a number of days is refused (400); nothing is written."""

from __future__ import annotations

from datetime import date, timedelta

PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=200, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=400, admin=400)

ROWS = {
    ("GET", "/fu"): ("/fu?vy=kalender&horisont=manad&sida=1", PAGE),
    ("POST", "/fu/rakna-om"): ("/fu/rakna-om", REFUSED),
    ("GET", "/fu/generera"): ("/fu/generera", PAGE),
    ("POST", "/fu/generera"): ("/fu/generera", REFUSED),
    ("POST", "/fu/generera/automatiskt"): ("/fu/generera/automatiskt", REFUSED),
    ("GET", "/fu/korningar/{run_id:int}"): ("/fu/korningar/{fu_run}", PAGE),
    ("GET", "/fu/korningar/{run_id:int}/status"): ("/fu/korningar/{fu_run}/status", PAGE),
}


async def add_paths(world) -> None:
    from backend.maintenance import generation

    today = date.today()
    run = await generation.create_run(world.organisation, generation.Period(today, today + timedelta(days=30)),
                                      actor_id=world.staff["coordinator"], actor_name="Test coordinator",
                                      defer=False)
    world.paths["fu_run"] = str(run)
