"""The checklists register (/admin/checklistor): each category's lists with their versions, a
draft edited item by item, its preview as the technician's form, and publishing.

Every editor form works without script (a post, then the page again at the item); with htmx the
editor's part of the page is swapped in place.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import Role
from backend.auth import current_actor, requires
from backend.forms import INT4_MAX, INT4_MIN, Form, FormError, FormErrors, decimal, fields, integer, text
from backend.maintenance import service
from backend.maintenance.service import ChecklistError, ChecklistNotFound, ItemFields
from backend.web import is_htmx

NOTICES = {
    "skapad": "Checklistan är skapad som ett utkast. Lägg till punkterna och publicera.",
    "utkast": "Ett nytt utkast är gjort. Ändra det och publicera när det är klart.",
    "sparad": "Ändringen är sparad i utkastet.",
    "publicerad": "Versionen är publicerad. Arbetsordrar som skapas från och med nu använder den.",
    "slangd": "Utkastet är slängt.",
}

# The names of the change history's fields; an item's is its key ("item:<key>").
HISTORY_LABELS = {"category": "Kategori", "code": "Kod", "name": "Namn", "order": "Ordning",
                  "version": "Version", "from_version": "Utkast från version"}
DIRECTIONS = {"upp": "up", "ner": "down"}


def _existing(template_id: int) -> int:
    if not INT4_MIN <= template_id <= INT4_MAX:
        raise NotFoundException()
    return template_id


def _item_fields(form: dict) -> ItemFields:
    """The item form, its numbers read the Swedish way; every unreadable field at once."""
    errors, limits = [], {}
    for name in ("lower", "upper"):
        try:
            limits[name] = decimal(form, name, "Skriv gränsen som ett tal, till exempel 23,5.", required=False)
        except FormError as exc:
            errors.append((exc.field, exc.message))
    values = {}
    for name, limit in (("text", 400), ("kind", 20), ("unit", 20), ("standard", 200)):
        try:
            values[name] = text(form, name, limit)
        except FormError as exc:
            errors.append((exc.field, exc.message))
    if errors:
        raise FormErrors(errors)
    return ItemFields(text=values["text"], kind=values["kind"], safety_critical=bool(text(form, "safety_critical")),
                      unit=values["unit"], standard=values["standard"], **limits)


def _prefixed(error: Exception, prefix: str) -> FormErrors:
    """The error with its fields named as on the page, where each item's form has ids of its own."""
    return FormErrors([(f"{prefix}{field}" if field else None, message) for field, message in error.errors])


def _history_labels(history) -> dict:
    labels = dict(HISTORY_LABELS)
    for change in history:
        for name in change.fields:
            if name.startswith("item:"):
                labels[name] = "Punkt"
    return labels


class ChecklistController(Controller):
    path = "/admin/checklistor"
    guards = [requires(Role.coordinator, Role.admin)]

    # --- the list, and a new list -------------------------------------------------------------

    async def _lists(self, request: Request, *, q: str = "", page: int = 1, form: dict | None = None,
                     error: FormError | ChecklistError | None = None, notice: str | None = None,
                     status: int = 200) -> Template:
        actor = current_actor(request)
        found = await service.overview(actor.organisation, query=q, page=page)
        return Template("maintenance/checklists.html", context={
            **found, "q": q, "page": page, "form": form or {"code": "fu"}, "error": error, "notice": notice,
            "category_options": [(c["id"], c["name"]) for c in found["all_categories"]],
        }, status_code=status)

    @get("/")
    async def lists(self, request: Request, q: FromQuery[str] = "", sida: FromQuery[int] = 1,
                    klart: FromQuery[str | None] = None) -> Template:
        try:
            query = text({"q": q}, "q", 100)
        except FormError:
            query = ""
        return await self._lists(request, q=query, page=max(1, min(sida, 1000)), notice=NOTICES.get(klart or ""))

    @post("/")
    async def create(self, request: Request, data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        try:
            category = integer(form, "category", "Välj en hjälpmedelskategori.") if text(form, "category") else None
            template_id = await service.create_checklist(
                actor, category_id=category, code=text(form, "code", 100), name=text(form, "name", 400))
        except (FormError, ChecklistError) as exc:
            return await self._lists(request, form=form, error=exc, status=400)
        return Redirect(f"/admin/checklistor/{template_id}?klart=skapad", status_code=303)

    # --- one version ------------------------------------------------------------------------------

    async def _context(self, request: Request, template_id: int) -> dict:
        actor = current_actor(request)
        try:
            page = await service.version_page(actor.organisation, _existing(template_id))
        except ChecklistNotFound:
            raise NotFoundException() from None
        checklist = page.checklist
        published = [v for v in page.versions if v["published_at"] is not None]
        return {
            "page": page, "checklist": checklist, "category": page.category, "revision": page.revision,
            "versions": page.versions, "newest": published[-1]["id"] if published else None,
            "draft": next((v for v in page.versions if v["published_at"] is None), None),
            "history": page.history, "history_labels": _history_labels(page.history),
            "kinds": service.KINDS, "units": list(service.UNITS), "max_items": service.MAX_ITEMS,
            "item_values": {i.key: service.form_values(i) for i in checklist.items},
        }

    async def _version_page(self, request: Request, template_id: int, *, error: Exception | None = None,
                            form: dict | None = None, failed: str | None = None, notice: str | None = None,
                            status: int = 200) -> Response:
        context = await self._context(request, template_id)
        context.update(error=error, form=form or {}, failed=failed, notice=notice)
        if context["checklist"].draft:
            name = "maintenance/_draft.html" if is_htmx(request) else "maintenance/draft.html"
        elif is_htmx(request):  # published meanwhile: the editor's part is gone, so the whole page
            return Response(b"", headers={"hx-redirect": f"/admin/checklistor/{template_id}"})
        else:
            name = "maintenance/version.html"
        return Template(name, context=context, status_code=status)

    @get("/{template_id:int}")
    async def version(self, request: Request, template_id: FromPath[int],
                      klart: FromQuery[str | None] = None) -> Response:
        return await self._version_page(request, template_id, notice=NOTICES.get(klart or ""))

    @get("/{template_id:int}/forhandsvisning")
    async def preview(self, request: Request, template_id: FromPath[int]) -> Template:
        """The version exactly as the technician's form shows it, with nothing to fill in."""
        context = await self._context(request, template_id)
        checklist = context["checklist"]
        context.update(
            o={"id": 0, "recording": True}, state=service.state_from(checklist, [], []), form={}, failed=None,
            errs={}, answer_labels=service.ANSWER_LABELS, decision_labels=service.DECISION_LABELS)
        return Template("maintenance/preview.html", context=context)

    # --- changing a draft ---------------------------------------------------------------------

    async def _change(self, request: Request, template_id: int, form: dict, change, *, prefix: str = "",
                      done: str = "sparad", anchor: str = "") -> Response:
        """Run a change of the draft; then the page again (or, for htmx, the editor's part), or
        the refusal next to its field with what was typed kept."""
        template_id = _existing(template_id)
        try:
            result = await change()
        except ChecklistNotFound:
            raise NotFoundException() from None
        except (FormError, ChecklistError) as exc:
            return await self._version_page(request, template_id, error=_prefixed(exc, prefix), form=form,
                                            failed=prefix, status=400)
        if is_htmx(request):
            return await self._version_page(request, template_id, notice=NOTICES[done])
        if callable(anchor):
            anchor = anchor(result)
        return Redirect(f"/admin/checklistor/{template_id}?klart={done}{anchor}", status_code=303)

    @post("/{template_id:int}/namn")
    async def rename(self, request: Request, template_id: FromPath[int], data: Form) -> Response:
        form, actor = fields(data), current_actor(request)
        return await self._change(request, template_id, form, lambda: service.rename_draft(
            actor, template_id, text(form, "seen", 40), text(form, "name", 400)), prefix="namn-")

    @post("/{template_id:int}/punkter")
    async def add(self, request: Request, template_id: FromPath[int], data: Form) -> Response:
        form, actor = fields(data), current_actor(request)
        return await self._change(request, template_id, form, lambda: service.add_item(
            actor, template_id, text(form, "seen", 40), _item_fields(form)), prefix="ny-",
            anchor=lambda key: f"#punkt-{key}")

    @post("/{template_id:int}/punkter/{key:str}")
    async def change(self, request: Request, template_id: FromPath[int], key: FromPath[str], data: Form) -> Response:
        form, actor = fields(data), current_actor(request)
        return await self._change(request, template_id, form, lambda: service.change_item(
            actor, template_id, text(form, "seen", 40), key, _item_fields(form)), prefix=f"p-{key}-",
            anchor=f"#punkt-{key}")

    @post("/{template_id:int}/punkter/{key:str}/flytta")
    async def move(self, request: Request, template_id: FromPath[int], key: FromPath[str], data: Form) -> Response:
        form, actor = fields(data), current_actor(request)
        return await self._change(request, template_id, form, lambda: service.move_item(
            actor, template_id, text(form, "seen", 40), key, DIRECTIONS.get(text(form, "direction", 10), "")),
            anchor=f"#punkt-{key}")

    @post("/{template_id:int}/punkter/{key:str}/ta-bort")
    async def remove(self, request: Request, template_id: FromPath[int], key: FromPath[str], data: Form) -> Response:
        form, actor = fields(data), current_actor(request)
        return await self._change(request, template_id, form, lambda: service.remove_item(
            actor, template_id, text(form, "seen", 40), key), anchor="#punkter")

    @post("/{template_id:int}/publicera")
    async def publish(self, request: Request, template_id: FromPath[int], data: Form) -> Response:
        form, actor = fields(data), current_actor(request)
        template_id = _existing(template_id)
        try:
            await service.publish_draft(actor, template_id, text(form, "seen", 40))
        except ChecklistNotFound:
            raise NotFoundException() from None
        except (FormError, ChecklistError) as exc:
            return await self._version_page(request, template_id, error=exc, status=400)
        return Redirect(f"/admin/checklistor/{template_id}?klart=publicerad", status_code=303)

    @post("/{template_id:int}/nytt-utkast")
    async def new_draft(self, request: Request, template_id: FromPath[int]) -> Response:
        actor = current_actor(request)
        template_id = _existing(template_id)
        try:
            draft_id = await service.start_draft(actor, template_id)
        except ChecklistNotFound:
            raise NotFoundException() from None
        except ChecklistError as exc:
            return await self._version_page(request, template_id, error=exc, status=400)
        return Redirect(f"/admin/checklistor/{draft_id}?klart=utkast", status_code=303)

    @post("/{template_id:int}/ta-bort")
    async def discard(self, request: Request, template_id: FromPath[int], data: Form) -> Response:
        form, actor = fields(data), current_actor(request)
        template_id = _existing(template_id)
        try:
            await service.discard_draft(actor, template_id, text(form, "seen", 40))
        except ChecklistNotFound:
            raise NotFoundException() from None
        except (FormError, ChecklistError) as exc:
            return await self._version_page(request, template_id, error=exc, status=400)
        return Redirect("/admin/checklistor?klart=slangd", status_code=303)
