"""Conflicts on the web: the coordinator's list and decision page (/konflikter), the technician's
own (/besok/konflikter), and the kept photo for both. The two sides share their pages and
differ in whose conflicts they list, their URLs and their words."""

from __future__ import annotations

from typing import Awaitable, Callable

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import Role
from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.forms import Form, FormError, fields, integer, text
from backend.maintenance import service as maintenance
from backend.sync import service as sync
from backend.visits import conflicts
from backend.visits.conflicts import ConflictError, ConflictNotFound
from backend.visits.service import ACTION_LABELS

NOTICES = {
    "tillampad": "Ändringen är tillämpad på arbetsordern.",
    "avfardad": "Ändringen är avfärdad. Allt som skickades finns kvar sparat med konflikten.",
    "slappt": "Du har släppt ändringen. Den finns kvar sparad, men tillämpas inte.",
}


class _ConflictPages(Controller):
    """The list, one conflict side by side with the order now, and resolving it: the pages both
    sides share. Each side (a subclass) names its URL, who may use it, and how it dismisses."""

    side: str  # "coordinator" or "technician"
    base: str  # where this side's conflict pages live (the controller's path)

    @get("/")
    async def conflicts(self, request: Request) -> Template:
        actor = current_actor(request)
        found = (await conflicts.technicians_open_conflicts(actor) if self.side == "technician"
                 else await conflicts.open_conflicts(actor.organisation))
        return Template("sync/conflicts.html", context={
            "conflicts": found, "side": self.side, "base": self.base, "limit": sync.LIST_LIMIT})

    @get("/{conflict_id:int}")
    async def conflict(self, request: Request, conflict_id: FromPath[int],
                       klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, conflict_id, notice=NOTICES.get(klart or ""))

    @post("/{conflict_id:int}/tillampa")
    async def apply(self, request: Request, conflict_id: FromPath[int], data: Form) -> Response:
        form, actor = fields(data), current_actor(request)
        return await self._resolve(request, conflict_id, form, lambda: conflicts.apply_conflict(
            actor, conflict_id, seen_version=integer(form, "version", "Ladda om sidan och försök igen."),
            note=text(form, "apply_note", 2000)), "tillampad")

    async def _page(self, request: Request, conflict_id: int, *, error: FormError | None = None,
                    form: dict | None = None, status: int = 200, notice: str | None = None) -> Template:
        try:
            data = await conflicts.conflict_page(current_actor(request), conflict_id)
        except ConflictNotFound:
            raise NotFoundException() from None
        return Template("sync/conflict.html", context={
            **data, "side": self.side, "base": self.base, "error": error, "form": form or {}, "notice": notice,
            "answer_labels": maintenance.ANSWER_LABELS, "decision_labels": maintenance.DECISION_LABELS,
            "action_labels": ACTION_LABELS,
        }, status_code=status)

    async def _resolve(self, request: Request, conflict_id: int, form: dict,
                       resolve: Callable[[], Awaitable[object]], done: str) -> Response:
        try:
            await resolve()
        except ConflictNotFound:
            raise NotFoundException() from None
        except ConflictError as exc:
            return await self._page(request, conflict_id, error=FormError(exc.message, exc.field), form=form,
                                    status=exc.status)
        except FormError as exc:
            return await self._page(request, conflict_id, error=exc, form=form, status=400)
        return Redirect(f"{self.base}/{conflict_id}?klart={done}", status_code=303)

    async def _dismiss(self, request: Request, conflict_id: int, data: dict, done: str) -> Response:
        form, actor = fields(data), current_actor(request)
        return await self._resolve(request, conflict_id, form, lambda: conflicts.dismiss_conflict(
            actor, conflict_id, text(form, "note", 2000)), done)


class ConflictController(_ConflictPages):
    """The coordinator's conflicts: every open one in the organisation."""

    path = base = "/konflikter"
    guards = [requires(*STAFF_OVERSIGHT)]
    side = "coordinator"

    @post("/{conflict_id:int}/avfarda")
    async def dismiss(self, request: Request, conflict_id: FromPath[int], data: Form) -> Response:
        return await self._dismiss(request, conflict_id, data, "avfardad")


class TechnicianConflictController(_ConflictPages):
    """A technician's own conflicts, on every order. Plain posts, not through the outbox: a
    resolution is a decision made online, looking at the order as it is now."""

    path = base = "/besok/konflikter"
    guards = [requires(Role.technician)]
    side = "technician"

    @post("/{conflict_id:int}/slapp")
    async def let_go(self, request: Request, conflict_id: FromPath[int], data: Form) -> Response:
        return await self._dismiss(request, conflict_id, data, "slappt")


class KeptPhotoController(Controller):
    """The photo kept with a conflict: for coordinators, admins and the technician who took it."""

    path = "/konflikter"
    guards = [requires(Role.technician, *STAFF_OVERSIGHT)]

    @get("/{conflict_id:int}/foto")
    async def photo(self, request: Request, conflict_id: FromPath[int]) -> Response:
        try:
            photo = await conflicts.kept_photo(current_actor(request), conflict_id)
        except ConflictNotFound:
            raise NotFoundException() from None
        # It may show a patient's home: never in a shared cache.
        return Response(photo.content, media_type=photo.content_type,
                        headers={"cache-control": "private, max-age=3600"})
