"""The catalogue registers (admins and coordinators): device categories at /admin/kategorier and
articles at /admin/artiklar, each with its FU schedules (their pages: schedule_routes.py)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from backend.accounts.tables import STAFF_OVERSIGHT
from backend.auth import current_actor, requires
from backend.changes import service as changes
from backend.devices import catalogue, schedules
from backend.devices.catalogue import ArticleNotFound, CategoryNotFound
from backend.devices import schedule_routes as schedule_pages
from backend.devices.schedule_routes import SCHEDULE_LABELS, YES_NO, done, notice_for, optional_int
from backend.devices.schedules import OwnerNotFound
from backend.errors import DomainError
from backend.faults.categories import guide_for
from backend.forms import INT4_MAX, Form, fields, text
from backend.maintenance import service as maintenance

CATEGORY_LABELS = {"name": "Namn", "iso_code": "ISO 9999-kod", "expected_life_years": "Förväntad livslängd (år)",
                   "self_checks": "Egenkontroller"}
ARTICLE_LABELS = {"article_number": "Artikelnummer", "name": "Benämning", "manufacturer": "Tillverkare",
                  "category": "Kategori", "expected_life_years": "Förväntad livslängd (år)", "active": "Aktiv"}
SPARE_PARTS = "reservdelar"  # the article list's filter for articles without a category
LIFE_MESSAGE = "Skriv livslängden i hela år."


def _page(sida: int) -> int:
    return max(1, min(sida, 1000))


def _search(q: str | None) -> str:
    """A search as typed, without the characters nobody types (control characters)."""
    return "".join(ch for ch in (q or "") if ch.isprintable())[:100]


# --- categories ----------------------------------------------------------------------------------

class CategoryController(Controller):
    path = "/admin/kategorier"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def index(self, request: Request, q: FromQuery[str | None] = None, sida: FromQuery[int] = 1) -> Template:
        query, page = _search(q), _page(sida)
        found = await catalogue.categories(current_actor(request).organisation, query=query, page=page)
        return Template("devices/catalogue_categories.html", context={
            "categories": found, "q": query, "page": page, "page_size": catalogue.PAGE_SIZE,
            "total": found[0]["total"] if found else 0})

    async def _page(self, request: Request, category_id: int | None, *, error: DomainError | None = None,
                    form: dict | None = None, failed: str | None = None, notice: str | None = None,
                    status: int = 200) -> Template:
        actor = current_actor(request)
        context: dict = {"category": None, "error": error, "failed": failed, "notice": notice,
                         "labels": CATEGORY_LABELS, "schedule_labels": SCHEDULE_LABELS}
        if category_id is not None:
            try:
                category = await catalogue.category(actor.organisation, category_id)
                owner = await schedules.category_owner(actor.organisation, category_id)
            except (CategoryNotFound, OwnerNotFound):
                raise NotFoundException() from None
            values = {**category, "self_checks": "\n".join(category["self_checks"])}
            context.update(
                category=category, owner=owner, owner_href=f"/admin/kategorier/{category_id}",
                schedules=await schedules.schedules_of(owner),
                **schedule_pages.checklists(await maintenance.checklist_choices(category_id)),
                history=await changes.history(actor.organisation, catalogue.CATEGORY, category_id),
                builtin_checks=guide_for(category["code"]).checks,
                form=form if failed == "category" else values,
                schedule_form=form if failed == "schedule" else {})
        else:
            context.update(form=form or {}, builtin_checks=guide_for(None).checks)
        return Template("devices/catalogue_category.html", context=context, status_code=status)

    @staticmethod
    def _input(form: dict) -> dict:
        checks = [" ".join(line.split()) for line in text(form, "self_checks", 20_000).splitlines()]
        return dict(name=text(form, "name", 1000), iso_code=text(form, "iso_code", 100),
                    expected_life_years=optional_int(form, "expected_life_years", LIFE_MESSAGE),
                    self_checks=[c for c in checks if c])

    @get("/ny")
    async def new(self, request: Request) -> Template:
        return await self._page(request, None)

    @post("/ny")
    async def create(self, request: Request, data: Form) -> Response:
        form = fields(data)
        try:
            category_id = await catalogue.create_category(current_actor(request), **self._input(form))
        except DomainError as exc:
            return await self._page(request, None, error=exc, form=form, failed="category", status=400)
        return done(f"/admin/kategorier/{category_id}", "skapad")

    @get("/{category_id:int}")
    async def show(self, request: Request, category_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, category_id, notice=notice_for(klart))

    @post("/{category_id:int}")
    async def save(self, request: Request, category_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        try:
            changed = await catalogue.update_category(current_actor(request), category_id, **self._input(form))
        except CategoryNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, category_id, error=exc, form=form, failed="category", status=400)
        return done(f"/admin/kategorier/{category_id}", "sparad" if changed else "oforandrad")

    async def _owner(self, request: Request, category_id: int) -> schedules.Owner:
        try:
            return await schedules.category_owner(current_actor(request).organisation, category_id)
        except OwnerNotFound:
            raise NotFoundException() from None

    @post("/{category_id:int}/fu")
    async def add_schedule(self, request: Request, category_id: FromPath[int], data: Form) -> Response:
        owner, form = await self._owner(request, category_id), fields(data)
        try:
            await schedules.add_schedule(current_actor(request), owner, **schedule_pages.schedule_input(form),
                                         checklist_codes=await schedule_pages.checklist_codes(owner))
        except DomainError as exc:
            return await self._page(request, category_id, error=exc, form=form, failed="schedule", status=400)
        return done(f"/admin/kategorier/{category_id}", "schema-tillagt")

    @get("/{category_id:int}/fu/{schedule_id:int}")
    async def schedule(self, request: Request, category_id: FromPath[int], schedule_id: FromPath[int],
                       klart: FromQuery[str | None] = None) -> Template:
        owner = await self._owner(request, category_id)
        return await schedule_pages.schedule_page(request, owner, f"/admin/kategorier/{category_id}", schedule_id,
                                                  notice=notice_for(klart))

    @post("/{category_id:int}/fu/{schedule_id:int}")
    async def save_schedule(self, request: Request, category_id: FromPath[int], schedule_id: FromPath[int],
                            data: Form) -> Response:
        owner = await self._owner(request, category_id)
        return await schedule_pages.save_schedule(request, owner, f"/admin/kategorier/{category_id}", schedule_id, data)

    @post("/{category_id:int}/fu/{schedule_id:int}/inaktivera")
    async def deactivate_schedule(self, request: Request, category_id: FromPath[int],
                                  schedule_id: FromPath[int]) -> Response:
        owner = await self._owner(request, category_id)
        return await schedule_pages.schedule_active(request, owner, f"/admin/kategorier/{category_id}", schedule_id,
                                                    False)

    @post("/{category_id:int}/fu/{schedule_id:int}/aktivera")
    async def reactivate_schedule(self, request: Request, category_id: FromPath[int],
                                  schedule_id: FromPath[int]) -> Response:
        owner = await self._owner(request, category_id)
        return await schedule_pages.schedule_active(request, owner, f"/admin/kategorier/{category_id}", schedule_id,
                                                    True)


# --- articles ------------------------------------------------------------------------------------

class ArticleController(Controller):
    path = "/admin/artiklar"
    guards = [requires(*STAFF_OVERSIGHT)]

    @get("/")
    async def index(self, request: Request, q: FromQuery[str | None] = None, kategori: FromQuery[str | None] = None,
                   sida: FromQuery[int] = 1) -> Template:
        actor = current_actor(request)
        query, page = _search(q), _page(sida)
        category_id = int(kategori) if kategori and kategori.isascii() and kategori.isdigit() \
            and int(kategori) <= INT4_MAX else None
        found = await catalogue.articles(actor.organisation, query=query, category_id=category_id,
                                         spare_parts=kategori == SPARE_PARTS, page=page)
        chosen = SPARE_PARTS if kategori == SPARE_PARTS else category_id
        return Template("devices/catalogue_articles.html", context={
            "articles": found, "q": query, "kategori": chosen, "page": page, "page_size": catalogue.PAGE_SIZE,
            "total": found[0]["total"] if found else 0, "spare_parts": SPARE_PARTS,
            "categories": await catalogue.category_choices(actor.organisation)})

    async def _page(self, request: Request, article_id: int | None, *, error: DomainError | None = None,
                    form: dict | None = None, failed: str | None = None, notice: str | None = None,
                    status: int = 200) -> Template:
        actor = current_actor(request)
        categories = await catalogue.category_choices(actor.organisation)
        context: dict = {"article": None, "categories": categories, "error": error, "failed": failed,
                         "notice": notice, "labels": ARTICLE_LABELS, "schedule_labels": SCHEDULE_LABELS}
        if article_id is not None:
            try:
                article = await catalogue.article(actor.organisation, article_id)
                owner = await schedules.article_owner(actor.organisation, article_id)
            except (ArticleNotFound, OwnerNotFound):
                raise NotFoundException() from None
            context.update(
                article=article, owner=owner, owner_href=f"/admin/artiklar/{article_id}",
                schedules=await schedules.schedules_of(owner),
                **schedule_pages.checklists(await maintenance.checklist_choices(article["category"])),
                history=await changes.history(actor.organisation, catalogue.ARTICLE, article_id),
                history_values={"category": dict(categories), "active": YES_NO},
                form=form if failed == "article" else article,
                schedule_form=form if failed == "schedule" else {})
        else:
            context.update(form=form or {})
        return Template("devices/catalogue_article.html", context=context, status_code=status)

    @staticmethod
    def _input(form: dict) -> dict:
        return dict(article_number=text(form, "article_number", 1000), name=text(form, "name", 1000),
                    manufacturer=text(form, "manufacturer", 1000),
                    category_id=optional_int(form, "category", "Välj en kategori i listan."),
                    expected_life_years=optional_int(form, "expected_life_years", LIFE_MESSAGE))

    @get("/ny")
    async def new(self, request: Request) -> Template:
        return await self._page(request, None)

    @post("/ny")
    async def create(self, request: Request, data: Form) -> Response:
        form = fields(data)
        try:
            article_id = await catalogue.create_article(current_actor(request), **self._input(form))
        except DomainError as exc:
            return await self._page(request, None, error=exc, form=form, failed="article", status=400)
        return done(f"/admin/artiklar/{article_id}", "skapad")

    @get("/{article_id:int}")
    async def show(self, request: Request, article_id: FromPath[int], klart: FromQuery[str | None] = None) -> Template:
        return await self._page(request, article_id, notice=notice_for(klart))

    @post("/{article_id:int}")
    async def save(self, request: Request, article_id: FromPath[int], data: Form) -> Response:
        form = fields(data)
        try:
            changed = await catalogue.update_article(current_actor(request), article_id, **self._input(form))
        except ArticleNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, article_id, error=exc, form=form, failed="article", status=400)
        return done(f"/admin/artiklar/{article_id}", "sparad" if changed else "oforandrad")

    async def _active(self, request: Request, article_id: int, active: bool) -> Response:
        try:
            await catalogue.set_article_active(current_actor(request), article_id, active)
        except ArticleNotFound:
            raise NotFoundException() from None
        return done(f"/admin/artiklar/{article_id}", "aktiverad" if active else "inaktiverad")

    @post("/{article_id:int}/inaktivera")
    async def deactivate(self, request: Request, article_id: FromPath[int]) -> Response:
        return await self._active(request, article_id, False)

    @post("/{article_id:int}/aktivera")
    async def reactivate(self, request: Request, article_id: FromPath[int]) -> Response:
        return await self._active(request, article_id, True)

    @post("/{article_id:int}/ta-bort")
    async def delete(self, request: Request, article_id: FromPath[int]) -> Response:
        try:
            await catalogue.delete_article(current_actor(request), article_id)
        except ArticleNotFound:
            raise NotFoundException() from None
        except DomainError as exc:
            return await self._page(request, article_id, error=exc, failed="delete", status=400)
        return done("/admin/artiklar", "borttagen")

    async def _owner(self, request: Request, article_id: int) -> schedules.Owner:
        try:
            return await schedules.article_owner(current_actor(request).organisation, article_id)
        except OwnerNotFound:
            raise NotFoundException() from None

    @post("/{article_id:int}/fu")
    async def add_schedule(self, request: Request, article_id: FromPath[int], data: Form) -> Response:
        owner, form = await self._owner(request, article_id), fields(data)
        try:
            await schedules.add_schedule(current_actor(request), owner, **schedule_pages.schedule_input(form),
                                         checklist_codes=await schedule_pages.checklist_codes(owner))
        except DomainError as exc:
            return await self._page(request, article_id, error=exc, form=form, failed="schedule", status=400)
        return done(f"/admin/artiklar/{article_id}", "schema-tillagt")

    @get("/{article_id:int}/fu/{schedule_id:int}")
    async def schedule(self, request: Request, article_id: FromPath[int], schedule_id: FromPath[int],
                       klart: FromQuery[str | None] = None) -> Template:
        owner = await self._owner(request, article_id)
        return await schedule_pages.schedule_page(request, owner, f"/admin/artiklar/{article_id}", schedule_id,
                                                  notice=notice_for(klart))

    @post("/{article_id:int}/fu/{schedule_id:int}")
    async def save_schedule(self, request: Request, article_id: FromPath[int], schedule_id: FromPath[int],
                            data: Form) -> Response:
        owner = await self._owner(request, article_id)
        return await schedule_pages.save_schedule(request, owner, f"/admin/artiklar/{article_id}", schedule_id, data)

    @post("/{article_id:int}/fu/{schedule_id:int}/inaktivera")
    async def deactivate_schedule(self, request: Request, article_id: FromPath[int],
                                  schedule_id: FromPath[int]) -> Response:
        owner = await self._owner(request, article_id)
        return await schedule_pages.schedule_active(request, owner, f"/admin/artiklar/{article_id}", schedule_id,
                                                    False)

    @post("/{article_id:int}/fu/{schedule_id:int}/aktivera")
    async def reactivate_schedule(self, request: Request, article_id: FromPath[int],
                                  schedule_id: FromPath[int]) -> Response:
        owner = await self._owner(request, article_id)
        return await schedule_pages.schedule_active(request, owner, f"/admin/artiklar/{article_id}", schedule_id,
                                                    True)