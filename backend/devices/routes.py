"""Finding a device by its individnummer, and its card."""

from __future__ import annotations

from functools import partial

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from backend.accounts.tables import Role
from backend.auth import current_actor, signed_in
from backend.devices import service
from backend.workorders import service as workorders


class DeviceController(Controller):
    path = "/enheter"
    guards = [signed_in]

    @get("/")
    async def find(self, individnummer: FromQuery[str | None] = None) -> Template | Redirect:
        if individnummer:
            wanted = service.normalise_individnummer(individnummer)
            if wanted.isalnum() and len(wanted) <= 20:
                return Redirect(f"/enheter/{wanted}")
            return Template("devices/find.html", context={"query": individnummer,
                            "error": "Ett individnummer består av bokstäver och siffror, till exempel A123456."},
                            status_code=400)
        return Template("devices/find.html", context={"query": "", "error": None})

    @get("/{individnummer:str}")
    async def card(self, request: Request, individnummer: FromPath[str]) -> Template | Redirect:
        actor = current_actor(request)
        try:
            card = await service.device_card(actor, individnummer,
                                             care_relation=partial(workorders.technician_relation, actor))
        except service.DeviceNotFound:
            # A replaced label still leads to its device, at its current number.
            current = await service.current_individnummer(actor.organisation, individnummer)
            if current is None:
                raise NotFoundException() from None
            return Redirect(f"/enheter/{current}")
        history = await workorders.device_history(card["device"]["id"])
        protocol_links = actor.role in (Role.technician, Role.coordinator, Role.admin)
        return Template("devices/card.html", context={**card, "history": history, "protocol_links": protocol_links})
