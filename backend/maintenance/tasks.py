"""FU production's jobs: a generation run, the daily automatic generation, and keeping the due
list fresh (the rules are in generation.py and due.py)."""

from __future__ import annotations

from backend.jobs import queue
from backend.maintenance import due, generation
from backend.organisations import service as organisations
from backend.workdays import today

# The due list is computed again this often (and after every generation run, and on request).
REFRESH_CRON = "*/20 * * * *"


@queue.task(generation.TASK, label="Generera FU-arbetsordrar")
async def generate_fu(run_id: int, organisation_id: int | None = None) -> str:
    """One generation run, from where it stopped (a retried job goes on from the last batch done).
    `organisation_id` only says whose job it is (the jobs page shows it to that organisation's admins)."""
    try:
        return await generation.run(run_id, today=today())
    except generation.RunNotFound:
        return "gone"  # its organisation was deleted meanwhile: nothing to do


@queue.periodic("maintenance.auto_generate", cron="15 2 * * *", label="Generera FU automatiskt")
async def auto_generate(timestamp: int) -> int:
    """Each night: a run for every organisation that turned automatic generation on."""
    return len(await generation.start_automatic_runs(today()))


@queue.task(due.REFRESH_TASK, label="Räkna om en FU-förfallolista")
async def refresh_due_of(organisation_id: int) -> None:
    """One organisation's due list, computed again (after a generation run, say)."""
    await due.refresh(organisation_id, today=today())


@queue.periodic("maintenance.refresh_due", cron=REFRESH_CRON, label="Räkna om FU-förfallolistan")
async def refresh_due(timestamp: int) -> int:
    """Every organisation's due list, computed again."""
    found = await organisations.organisation_slugs()
    for organisation in found:
        await due.refresh(organisation["id"], today=today())
    return len(found)
