"""Route-access rows of the jobs page (/admin/jobb), for admins only. The world gets a job of its
organisation that has run and succeeded: running it again and cancelling it are both refused (400:
only a failed job runs again, only a queued one is cancelled), so the posts write nothing."""

from __future__ import annotations

ADMIN_PAGE = dict(anonymous=303, technician=403, consultant=403, prescriber=403, coordinator=403, admin=200)
REFUSED = dict(anonymous=401, technician=403, consultant=403, prescriber=403, coordinator=403, admin=400)

ROWS = {
    ("GET", "/admin/jobb"): ("/admin/jobb?sida=1", ADMIN_PAGE),
    ("GET", "/admin/jobb/{job_id:int}"): ("/admin/jobb/{job}", ADMIN_PAGE),
    ("POST", "/admin/jobb/{job_id:int}/forsok-igen"): ("/admin/jobb/{job}/forsok-igen", REFUSED),
    ("POST", "/admin/jobb/{job_id:int}/avbryt"): ("/admin/jobb/{job}/avbryt", REFUSED),
}


async def add_paths(world) -> None:
    from tests.support.jobs import finished_job

    world.paths["job"] = str(await finished_job("jobs.prune", organisation_id=world.organisation, timestamp=0))
