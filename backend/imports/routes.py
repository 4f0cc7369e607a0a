"""The import pages (admin): upload a file and see its dry run, confirm it and follow it while it is
applied (the page polls its progress with htmx every second), and download its report. The rules
are in service.py; the columns of each kind of file in kinds.py."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import Role
from backend.auth import current_actor, requires
from backend.errors import DomainError
from backend.forms import FormError, fields, text
from backend.imports import service
from backend.imports.kinds import KINDS
from backend.web import is_htmx, render_error

# The multipart envelope around the file (boundaries, the kind, the CSRF token) needs a little more.
MAX_REQUEST = service.MAX_BYTES + 64 * 1024
MEGABYTES = service.MAX_BYTES // (1024 * 1024)
KIND_CHOICES = [(kind.key, kind.label) for kind in KINDS.values()]


def _too_large(request: Request, _: Exception) -> Response:
    """Refused from the announced length, before the body is read."""
    return render_error(request, 413, "Filen är för stor",
                        f"En importfil får vara högst {MEGABYTES} MB. Dela upp filen i flera och läs in dem var för sig.",
                        "Ingenting har sparats.", {})


def _page(value: int) -> int:
    return max(1, min(value, 100_000))


class ImportController(Controller):
    path = "/admin/import"
    guards = [requires(Role.admin)]
    exception_handlers = {RequestEntityTooLarge: _too_large}

    async def _index(self, request: Request, *, page: int = 1, form: dict | None = None,
                     error: DomainError | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        found, more = await service.runs(actor.organisation, page)
        return Template("imports/index.html", context={
            "runs": found, "more": more, "page": page, "kinds": KIND_CHOICES, "form": form or {},
            "error": error, "megabytes": MEGABYTES, "columns": KINDS,
        }, status_code=status)

    @get("/")
    async def index(self, request: Request, sida: FromQuery[int] = 1) -> Template:
        return await self._index(request, page=_page(sida))

    @post("/", request_max_body_size=MAX_REQUEST)
    async def upload(self, request: Request) -> Template | Redirect:
        actor = current_actor(request)
        posted = (await request.form()).dict()
        form = fields({name: values[0] if len(values) == 1 else values for name, values in posted.items()})
        kind = ""
        try:
            kind = text(form, "kind", 20)
            upload = form.get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise FormError("Välj en fil att läsa in.", "file")
            content = await upload.read(service.MAX_BYTES + 1)
            run_id = await service.dry_run(actor.organisation, kind, upload.filename, content,
                                           actor_id=actor.id, actor_name=actor.name)
        except DomainError as exc:
            return await self._index(request, form={"kind": kind}, error=exc, status=400)
        return Redirect(f"/admin/import/{run_id}", status_code=303)

    async def _run(self, request: Request, run_id: int) -> dict:
        try:
            return await service.run(current_actor(request).organisation, run_id)
        except service.RunNotFound:
            raise NotFoundException() from None

    async def _run_page(self, request: Request, run_id: int, *, page: int = 1, error: DomainError | None = None,
                        status: int = 200) -> Template:
        actor = current_actor(request)
        run = await self._run(request, run_id)
        refused, more = await service.refusals(actor.organisation, run_id, page)
        return Template("imports/run.html", context={
            "run": run, "refused": refused, "more": more, "page": page, "error": error, "kind": KINDS[run["kind"]],
            "history": await service.history(actor.organisation, run_id), "history_labels": service.HISTORY_LABELS,
        }, status_code=status)

    @get("/{run_id:int}")
    async def show(self, request: Request, run_id: FromPath[int], sida: FromQuery[int] = 1) -> Template:
        return await self._run_page(request, run_id, page=_page(sida))

    @get("/{run_id:int}/status")
    async def progress(self, request: Request, run_id: FromPath[int]) -> Template:
        """The progress while the run is applied; once it is done, htmx reloads the whole page."""
        run = await self._run(request, run_id)
        headers = {"hx-refresh": "true"} if is_htmx(request) and not run["running"] else {}
        return Template("imports/_progress.html", context={"run": run}, headers=headers)

    @post("/{run_id:int}/bekrafta")
    async def confirm(self, request: Request, run_id: FromPath[int]) -> Template | Redirect:
        actor = current_actor(request)
        try:
            await service.confirm(actor.organisation, run_id)
        except service.RunNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._run_page(request, run_id, error=exc, status=400)
        service.start_in_background(run_id)
        return Redirect(f"/admin/import/{run_id}", status_code=303)

    @post("/{run_id:int}/kasta")
    async def discard(self, request: Request, run_id: FromPath[int]) -> Template | Redirect:
        actor = current_actor(request)
        try:
            await service.discard(actor.organisation, run_id)
        except service.RunNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._run_page(request, run_id, error=exc, status=400)
        return Redirect("/admin/import", status_code=303)

    @get("/{run_id:int}/rapport")
    async def report(self, request: Request, run_id: FromPath[int]) -> Response:
        try:
            name, body = await service.report_csv(current_actor(request).organisation, run_id)
        except service.RunNotFound:
            raise NotFoundException() from None
        # Plain text shown inline when the address is opened; the page's link downloads it under its
        # .csv name (`download`), and Excel opens it. (A text/csv answer is always a download in
        # Chromium, which the page audit, opening every address, cannot follow.)
        return Response(body, media_type="text/plain; charset=utf-8",
                        headers={"content-disposition": f'inline; filename="{name}"'})
