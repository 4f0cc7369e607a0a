"""The reports' jobs: the KPI summary computed again each night and after a change of rate or
prices (facts.py), and a board report for a long period made in the background (board.py)."""

from __future__ import annotations

from backend.jobs import queue
from backend.organisations import service as organisations
from backend.reports import board, facts
from backend.workdays import today

REFRESH_TASK = "reports.refresh_kpi"
BOARD_TASK = "reports.board_report"


@queue.task(REFRESH_TASK, label="Räkna om nyckeltalen")
async def refresh_kpi(organisation_id: int) -> int:
    """One organisation's KPI summary, computed again."""
    return await facts.refresh(organisation_id, today())


@queue.periodic("reports.refresh_kpis", cron="40 2 * * *", label="Räkna om nyckeltalen (varje natt)")
async def refresh_kpis(timestamp: int) -> int:
    """Every organisation's KPI summary, each night (yesterday's orders in, the month turned)."""
    found = await organisations.organisation_slugs()
    for organisation in found:
        await facts.refresh(organisation["id"], today())
    return len(found)


@queue.task(BOARD_TASK, label="Skapa nämndrapport")
async def make_board_report(report_id: int, organisation_id: int | None = None) -> str:
    """A board report asked for on the report page: its PDF, kept until the next is made."""
    return await board.make(report_id)


async def request_refresh(organisation_id: int) -> None:
    """Queue a refresh of the organisation's summary (one waiting at a time)."""
    await queue.defer(REFRESH_TASK, queueing_lock=f"{REFRESH_TASK}:{organisation_id}", organisation_id=organisation_id)


async def request_board_report(report_id: int, organisation_id: int) -> int | None:
    """Queue the report's making; the job's id (the report page tells when it stopped)."""
    return await queue.defer(BOARD_TASK, report_id=report_id, organisation_id=organisation_id)
