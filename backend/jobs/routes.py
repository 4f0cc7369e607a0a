"""The jobs page (admins): the background queue's jobs by state and task, one job's attempts and
why they failed, and running a failed job again or cancelling a queued one. The rules are in
service.py."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from backend.accounts.tables import Role
from backend.auth import current_actor, requires
from backend.errors import DomainError
from backend.jobs import service

BASE = "/admin/jobb"
NOTICES = {
    "igen": "Jobbet är köat igen och körs så snart en arbetsprocess är ledig.",
    "avbrutet": "Jobbet är avbrutet och kommer inte att köras.",
}
# procrastinate's ids are bigint; a larger number names no job.
MAX_ID = 2**63 - 1


def _job_id(value: int) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFoundException()
    return value


class JobController(Controller):
    path = BASE
    guards = [requires(Role.admin)]

    @get("/")
    async def index(self, request: Request, status: FromQuery[str] = "", uppgift: FromQuery[str] = "",
                    sida: FromQuery[int] = 1) -> Template:
        actor = current_actor(request)
        summary = await service.overview(actor.organisation)
        state = status if status in service.STATES else ""
        task = uppgift if uppgift in dict(summary["tasks"]) else ""
        page = max(1, min(sida, 10_000))
        jobs, more = await service.list_jobs(actor.organisation, status=state or None, task=task or None, page=page)
        return Template("jobs/list.html", context={
            "jobs": jobs, "more": more, "page": page, "status": state, "task": task, "states": service.STATES,
            "counts": summary["counts"], "tasks": summary["tasks"],
        })

    async def _page(self, request: Request, job_id: int, *, error: DomainError | None = None,
                    notice: str | None = None, status: int = 200) -> Template:
        try:
            job = await service.job(current_actor(request).organisation, _job_id(job_id))
        except service.JobNotFound:
            raise NotFoundException() from None
        return Template("jobs/job.html", context={"job": job, "error": error, "notice": NOTICES.get(notice or "")},
                        status_code=status)

    @get("/{job_id:int}")
    async def job(self, request: Request, job_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, job_id, notice=klart)

    @post("/{job_id:int}/forsok-igen")
    async def retry(self, request: Request, job_id: FromPath[int]) -> Template | Redirect:
        actor = current_actor(request)
        try:
            await service.retry(actor.organisation, _job_id(job_id), staff_user_id=actor.id)
        except service.JobNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, job_id, error=exc, status=400)
        return Redirect(f"{BASE}/{job_id}?klart=igen", status_code=303)

    @post("/{job_id:int}/avbryt")
    async def cancel(self, request: Request, job_id: FromPath[int]) -> Template | Redirect:
        actor = current_actor(request)
        try:
            await service.cancel(actor.organisation, _job_id(job_id), staff_user_id=actor.id)
        except service.JobNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, job_id, error=exc, status=400)
        return Redirect(f"{BASE}/{job_id}?klart=avbrutet", status_code=303)
