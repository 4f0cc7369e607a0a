"""The device register's pages (admin and coordinator): the list with search and filters, a new
device, and a device's register page: its fields, status, loans (lend and return), a new label,
and its history. The rules are in register.py and loans.py."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.deviations import service as deviations
from backend.devices import loans, register
from backend.devices.register import DeviceFields, DeviceFilter, LabelMoved
from backend.devices.service import DeviceNotFound
from backend.devices.tables import DEVICE_STATUS_LABELS, DeviceStatus
from backend.errors import DomainError
from backend.forms import INT4_MAX, Form, FormError, FormErrors, date_field, fields, integer, text
from backend.patients import service as patients
from backend.recalls import service as recalls
from backend.web import is_htmx
from backend.workdays import today

NOTICES = {
    "skapad": "Hjälpmedlet är registrerat.",
    "sparad": "Uppgifterna är sparade.",
    "oforandrad": "Inget var ändrat.",
    "status": "Statusen är ändrad.",
    "utlanad": "Hjälpmedlet är utlånat.",
    "aterlamnad": "Återlämningen är registrerad.",
    "etikett": "Hjälpmedlet har fått ett nytt individnummer. Det gamla numret leder hit.",
}

STATUS_CHOICES = [(s.value, DEVICE_STATUS_LABELS[s]) for s in DeviceStatus]
NEW_STATUS_CHOICES = [(value, label) for value, label in STATUS_CHOICES if value != DeviceStatus.in_use.value]


def _query_id(value: str | None) -> int | None:
    """A filter's id from the address, or None for anything that names no row."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and int(value) <= INT4_MAX else None


def _read(errors: list, read):
    """`read()`, or None with its refusal added to `errors`: a form shows every wrong field at once."""
    try:
        return read()
    except FormError as exc:
        errors.extend(exc.errors)
        return None


def _refuse(errors: list, form: dict, *, individnummer: bool = False) -> None:
    """Refuse the fields that could not be read, with what else is wrong with the typed ones."""
    if not errors:
        return
    unread = {field for field, _ in errors}
    typed = register.text_problems(
        individnummer=_read([], lambda: text(form, "individnummer", 40)) or "" if individnummer else None,
        serial_number=_read([], lambda: text(form, "serial_number", 200)) or "",
        udi=_read([], lambda: text(form, "udi", 400)) or "")
    errors = [*errors, *(problem for problem in typed if problem[0] not in unread)]
    raise FormErrors(errors) if len(errors) > 1 else FormError(errors[0][1], errors[0][0])


def _device_fields(form: dict, errors: list) -> DeviceFields | None:
    """The register fields of a device form; None (with `errors` added) when one cannot be read."""
    count = len(errors)
    article = _read(errors, lambda: integer(form, "article", "Välj artikel."))
    owner_text, owner = _read(errors, lambda: text(form, "owner", 20)), None
    if owner_text is not None and owner_text != register.HMC_OWNER:
        owner = _query_id(owner_text)
        if owner is None:
            errors.append(("owner", "Välj ägare: en kostnadsbärare eller hjälpmedelscentralen."))
    serial = _read(errors, lambda: text(form, "serial_number", 200)) or ""
    udi = _read(errors, lambda: text(form, "udi", 400)) or ""
    in_service = _read(errors, lambda: date_field(form, "in_service_date"))
    end = _read(errors, lambda: date_field(form, "expected_end_of_life", required=False))
    made = _read(errors, lambda: date_field(form, "manufacturing_date", required=False))
    lot = _read(errors, lambda: text(form, "lot_number", 200)) or ""
    if len(errors) > count:
        return None
    return DeviceFields(article=article, serial_number=serial, udi=udi, owner=owner, in_service_date=in_service,
                        expected_end_of_life=end, manufacturing_date=made, lot_number=lot)


def _article_options(articles: list[dict]) -> list[tuple[int, str]]:
    return [(a["id"], f"{a['article_number']} {a['name']} ({a['category_name']})"
                      + ("" if a["active"] else " – utgången")) for a in articles]


def _owner_options(owners: list[dict]) -> list[tuple[int | str, str]]:
    return [(register.HMC_OWNER, "Hjälpmedelscentralen"), *((o["id"], o["name"]) for o in owners)]


class DeviceRegisterController(Controller):
    path = "/admin/hjalpmedel"
    guards = [requires(*STAFF_OVERSIGHT)]

    # --- the list ----------------------------------------------------------------------------------

    @get("/")
    async def devices(self, request: Request, sok: FromQuery[str | None] = None,
                      status: FromQuery[str | None] = None, kategori: FromQuery[str | None] = None,
                      artikel: FromQuery[str | None] = None, agare: FromQuery[str | None] = None,
                      var: FromQuery[str | None] = None, sida: FromQuery[int] = 1) -> Template:
        actor = current_actor(request)
        wanted = DeviceFilter(search=sok or "", status=status, category=_query_id(kategori),
                              article=_query_id(artikel), owner=agare, placement=var).cleaned()
        page = max(1, min(sida, 100_000))
        found, more = await register.find_devices(actor, wanted, page)
        return Template("devices/register_list.html", context={
            "devices": found, "more": more, "page": page, "filter": wanted,
            "statuses": STATUS_CHOICES, "placements": list(register.PLACEMENTS.items()),
            "categories": [(c["id"], c["name"]) for c in await register.category_choices(actor.organisation)],
            "articles": _article_options(await register.article_choices(actor.organisation, inactive=True)),
            "owners": _owner_options(await register.owner_choices(actor.organisation)),
        })

    # --- a new device ------------------------------------------------------------------------------

    async def _new_page(self, request: Request, form: dict, error: DomainError | None = None,
                        status: int = 200) -> Template:
        actor = current_actor(request)
        return Template("devices/register_new.html", context={
            "form": form, "error": error, "statuses": NEW_STATUS_CHOICES,
            "articles": _article_options(await register.article_choices(actor.organisation)),
            "owners": _owner_options(await register.owner_choices(actor.organisation)),
        }, status_code=status)

    @get("/ny")
    async def new_device(self, request: Request) -> Template:
        return await self._new_page(request, {"status": DeviceStatus.in_depot.value, "owner": register.HMC_OWNER,
                                              "in_service_date": today().isoformat()})

    @post("/ny")
    async def create_device(self, request: Request, data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)
        errors: list = []
        number = _read(errors, lambda: text(form, "individnummer", 40))
        status = _read(errors, lambda: text(form, "status", 40))
        device_fields = _device_fields(form, errors)
        try:
            _refuse(errors, form, individnummer=True)
            new_id = await register.create_device(actor, number, device_fields, status)
        except DomainError as exc:
            return await self._new_page(request, form, exc, status=400)
        created = await register.device_number(actor.organisation, new_id)
        return Redirect(f"/admin/hjalpmedel/{created}?klart=skapad", status_code=303)

    # --- a device's register page --------------------------------------------------------------------

    async def _device_page(self, request: Request, individnummer: str, *, error: DomainError | None = None,
                           form: dict | None = None, status: int = 200, notice: str | None = None,
                           found_patients: list[dict] | None = None, patient_query: str = "") -> Response:
        actor = current_actor(request)
        try:
            device = await register.register_device(actor, individnummer)
        except LabelMoved as moved:
            return Redirect(f"/admin/hjalpmedel/{moved.current}")
        except DeviceNotFound:
            raise NotFoundException() from None
        defaults = {
            "article": device["article"], "serial_number": device["serial_number"], "udi": device["udi"],
            "owner": device["owner"] or register.HMC_OWNER, "in_service_date": device["in_service_date"].isoformat(),
            "expected_end_of_life": device["expected_end_of_life"].isoformat(), "status": device["status"],
            "manufacturing_date": device["manufacturing_date"].isoformat() if device["manufacturing_date"] else "",
            "lot_number": device["lot_number"],
            "from_date": today().isoformat(), "to_date": today().isoformat(),
            "return_status": DeviceStatus.reconditioning.value,
        }
        context = {
            "device": device, "form": {**defaults, **(form or {})}, "error": error, "notice": notice,
            "found_patients": found_patients, "patient_query": patient_query,
        }
        if is_htmx(request) and found_patients is not None:
            # The patient search answers with the lending form alone, swapped into the page.
            return Template("devices/register_lend.html", context={**context, "fragment": True}, status_code=status)
        context.update({
            "statuses": STATUS_CHOICES, "return_choices": loans.RETURN_CHOICES,
            "lendable": device["status"] not in {s.value for s in loans.NOT_LENDABLE},
            "articles": _article_options(await register.article_choices(actor.organisation,
                                                                        including=device["article"])),
            "owners": _owner_options(await register.owner_choices(actor.organisation, including=device["owner"])),
            "loans": await loans.device_loans(actor, device["id"]),
            "old_labels": await register.old_labels(device["id"]),
            "history": await register.history(actor.organisation, device["id"]),
            # What the safety work says of the device (the domains above the register own them).
            "deviations": await deviations.for_device(actor.organisation, device["id"]),
            "recalls": await recalls.for_device(actor.organisation, device["id"]),
            "history_labels": register.HISTORY_LABELS, "history_values": register.HISTORY_VALUES,
        })
        return Template("devices/register_device.html", context=context, status_code=status)

    @get("/{individnummer:str}")
    async def device(self, request: Request, individnummer: FromPath[str],
                     klart: FromQuery[str | None] = None) -> Response:
        return await self._device_page(request, individnummer, notice=NOTICES.get(klart or ""))

    async def _act(self, request: Request, individnummer: str, form: dict, action, done: str | None = None,
                   on_refusal=None) -> Response:
        """Run `action(device_id)`; a refusal re-renders the page (400) with the form as sent (and
        what `on_refusal()` adds to it)."""
        actor = current_actor(request)
        try:
            device_id = await register.device_id(actor.organisation, individnummer)
        except DeviceNotFound:
            raise NotFoundException() from None
        try:
            result = await action(device_id)
        except DeviceNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            page = await on_refusal() if on_refusal else {}
            return await self._device_page(request, individnummer, error=exc, form=form, status=400, **page)
        if done is None:
            done = result
        number = await register.device_number(actor.organisation, device_id)
        return Redirect(f"/admin/hjalpmedel/{number}?klart={done}", status_code=303)

    @post("/{individnummer:str}")
    async def save(self, request: Request, individnummer: FromPath[str], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)

        async def action(device_id: int) -> str:
            errors: list = []
            device_fields = _device_fields(form, errors)
            _refuse(errors, form)
            changed = await register.update_device(actor, device_id, device_fields)
            return "sparad" if changed else "oforandrad"

        return await self._act(request, individnummer, form, action)

    @post("/{individnummer:str}/status")
    async def set_status(self, request: Request, individnummer: FromPath[str], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)

        async def action(device_id: int) -> None:
            await register.change_status(actor, device_id, text(form, "status", 40))

        return await self._act(request, individnummer, form, action, "status")

    @post("/{individnummer:str}/lana-ut/sok", status_code=200)
    async def find_patient(self, request: Request, individnummer: FromPath[str], data: Form) -> Response:
        """Patients to lend to, by name or personnummer (in the body, never the address)."""
        form = fields(data)
        actor = current_actor(request)
        try:
            query = text(form, "patient_query", 100)
            if len(query) < 2:
                raise FormError("Skriv minst två tecken av namnet, eller ett personnummer.", "patient_query")
        except FormError as exc:
            return await self._device_page(request, individnummer, error=exc, form=form, status=400,
                                           found_patients=[], patient_query="")
        found = await patients.search_patients(actor, query)
        return await self._device_page(request, individnummer, form=form, found_patients=found, patient_query=query)

    @post("/{individnummer:str}/lana-ut")
    async def lend(self, request: Request, individnummer: FromPath[str], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)

        async def action(device_id: int) -> None:
            patient = integer(form, "patient", "Välj en patient ur sökresultatet.")
            await loans.lend(actor, device_id, patient, date_field(form, "from_date"), today=today())

        async def search_again() -> dict:
            # A refused loan shows the same search again, so the choice can be made anew.
            query = _read([], lambda: text(form, "patient_query", 100)) or ""
            found = await patients.search_patients(actor, query) if len(query) >= 2 else None
            return {"found_patients": found, "patient_query": query}

        return await self._act(request, individnummer, form, action, "utlanad", on_refusal=search_again)

    @post("/{individnummer:str}/aterlamna")
    async def end_loan(self, request: Request, individnummer: FromPath[str], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)

        async def action(device_id: int) -> None:
            await loans.end_loan(actor, device_id, date_field(form, "to_date"), text(form, "return_status", 40),
                                 today=today())

        return await self._act(request, individnummer, form, action, "aterlamnad")

    @post("/{individnummer:str}/ny-etikett")
    async def replace_label(self, request: Request, individnummer: FromPath[str], data: Form) -> Response:
        form = fields(data)
        actor = current_actor(request)

        async def action(device_id: int) -> None:
            await register.replace_label(actor, device_id, text(form, "new_individnummer", 40))

        return await self._act(request, individnummer, form, action, "etikett")
