"""Sign-in, invitations, and the person's own passkeys."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template

from backend.accounts import idp, service
from backend.accounts.service import AccountError, Actor, InvitationUnusable, SignInRefused
from backend.accounts.tables import ROLE_LABELS, STAFF_OVERSIGHT, Role
from backend.auth import current_actor, is_loopback, requires, sign_in, signed_in
from backend.forms import INT4_MAX, INT4_MIN, FormError, readable
from backend.organisations import service as organisations
from backend.settings import Settings

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

START_PAGES = {
    Role.technician: "/min-dag",
    Role.prescriber: "/patienter",
    Role.coordinator: "/arbetsordrar",
    Role.admin: "/admin/inbjudningar",
    Role.consultant: "/utprovningar",
}


def settings_of(request: Request) -> Settings:
    return request.app.state["settings"]


def start_page(actor: Actor) -> str:
    return START_PAGES[actor.role]


def _json_error(message: str, status: int = 400) -> Response:
    return Response({"error": message}, status_code=status)


# The browser's HTTP cache may hold pages and photos with patient data: gone at sign-out.
# (The phone's day cache and outbox are cleared by the page first, after its warning; see outbox.js.)
SIGNED_OUT_HEADERS = {"clear-site-data": '"cache"'}


class SignInController(Controller):
    @get("/", opt={"public": True})
    async def home(self, request: Request) -> Redirect:
        actor = request.scope.get("user")
        return Redirect(start_page(actor) if actor else "/logga-in")

    @get("/logga-in", opt={"public": True, "rate_limited": True})
    async def sign_in_page(self, request: Request) -> Template | Redirect:
        actor = request.scope.get("user")
        if actor:
            return Redirect(start_page(actor))
        config = settings_of(request).oidc
        passkey, provider = await idp.sign_in_choices(idp_configured=config is not None)
        return Template("accounts/sign_in.html", context={
            "signed_out": "utloggad" in request.query_params, "passkey": passkey, "provider": provider,
            "provider_label": config.label if config else "",
            # After signing out of a session from the provider: signing out there too is offered.
            "provider_sign_out": bool(config) and "idp" in request.query_params,
        })

    @post("/logga-in/alternativ", opt={"public": True, "rate_limited": True})
    async def sign_in_options(self, request: Request) -> Response:
        options, challenge = service.authentication_options(rp_id=settings_of(request).rp_id)
        request.set_session({**request.session, "challenge": challenge.to_session()})
        return Response(content=options.encode(), media_type="application/json")

    @post("/logga-in/verifiera", opt={"public": True, "rate_limited": True})
    async def sign_in_verify(self, request: Request) -> Response:
        settings = settings_of(request)
        session = dict(request.session)
        challenge = service.Challenge.from_session(session.pop("challenge", None))
        request.set_session(session)  # the challenge is used up, whatever happens next
        try:
            credential = service.parse_credential(await request.body())
            actor = await service.complete_authentication(
                credential=credential, challenge=challenge, rp_id=settings.rp_id, origin=settings.public_origin,
                idp_configured=settings.oidc is not None,
            )
        except SignInRefused as exc:
            return _json_error(exc.message)
        sign_in(request, actor)
        request.set_session({**request.session, "method": "passkey"})
        return Response({"redirect": start_page(actor)})

    @post("/logga-ut", guards=[signed_in])
    async def sign_out(self, request: Request) -> Redirect:
        through_provider = request.session.get("method") == "idp" and settings_of(request).oidc is not None
        request.clear_session()
        # Signed in through the region's provider: the page offers to sign out there too.
        return Redirect("/logga-in?utloggad=1" + ("&idp=1" if through_provider else ""), headers=SIGNED_OUT_HEADERS)

    @post("/logga-ut/overallt", guards=[signed_in])
    async def sign_out_everywhere(self, request: Request) -> Redirect:
        await service.sign_out_everywhere(current_actor(request))
        request.clear_session()
        return Redirect("/logga-in?utloggad=1", headers=SIGNED_OUT_HEADERS)


class InvitationController(Controller):
    path = "/inbjudan"

    @get("/{token:str}", opt={"public": True, "rate_limited": True})
    async def invitation_page(self, request: Request, token: FromPath[str]) -> Template:
        settings = settings_of(request)
        try:
            invitation = await service.open_invitation(token)
        except InvitationUnusable as exc:
            return Template("accounts/invitation_unusable.html", context={"message": exc.message}, status_code=410)
        configured = settings.oidc is not None
        methods = await idp.policy_of(invitation.organisation, invitation.role)
        return Template(
            "accounts/invitation.html",
            context={"invitation": invitation, "token": token, "dev_sign_in": dev_sign_in_allowed(settings, request),
                     "passkey": idp.allows(methods, idp.PASSKEY, idp_configured=configured),
                     "provider": idp.allows(methods, idp.IDP, idp_configured=configured),
                     "provider_label": settings.oidc.label if settings.oidc else ""},
        )

    @post("/{token:str}/alternativ", opt={"public": True, "rate_limited": True})
    async def registration_options(self, request: Request, token: FromPath[str]) -> Response:
        try:
            invitation = await service.open_invitation(token)
        except InvitationUnusable as exc:
            return _json_error(exc.message, status=410)
        options, challenge = await service.registration_options(invitation, rp_id=settings_of(request).rp_id)
        request.set_session({**request.session, "challenge": challenge.to_session()})
        return Response(content=options.encode(), media_type="application/json")

    @post("/{token:str}/registrera", opt={"public": True, "rate_limited": True})
    async def register(self, request: Request, token: FromPath[str]) -> Response:
        settings = settings_of(request)
        session = dict(request.session)
        challenge = service.Challenge.from_session(session.pop("challenge", None))
        request.set_session(session)
        try:
            await service.open_invitation(token)  # an unusable invitation says so first
            credential = service.parse_credential(await request.body())
            actor = await service.complete_registration(
                token=token, credential=credential, challenge=challenge, rp_id=settings.rp_id,
                origin=settings.public_origin, nickname=str(credential.get("nickname") or ""),
                idp_configured=settings.oidc is not None,
            )
        except InvitationUnusable as exc:
            return _json_error(exc.message, status=410)
        except SignInRefused as exc:
            return _json_error(exc.message)
        sign_in(request, actor)
        request.set_session({**request.session, "method": "passkey"})
        return Response({"redirect": start_page(actor)})


def dev_sign_in_allowed(settings: Settings, request: Request) -> bool:
    """Development mode, a server on loopback, and a request from loopback: all three."""
    client = request.client.host if request.client else None
    return settings.development and settings.listens_on_loopback and is_loopback(client)


class DevSignInController(Controller):
    """Registered only in development on loopback; see dev_sign_in_allowed."""

    path = "/inbjudan"

    @post("/{token:str}/utan-passkey", opt={"public": True, "rate_limited": True})
    async def sign_in_without_passkey(self, request: Request, token: FromPath[str]) -> Response:
        if not dev_sign_in_allowed(settings_of(request), request):
            raise NotFoundException()
        try:
            actor = await service.dev_sign_in(token)
        except InvitationUnusable as exc:
            return Template("accounts/invitation_unusable.html", context={"message": exc.message}, status_code=410)
        sign_in(request, actor)
        return Redirect(start_page(actor))


class AccountController(Controller):
    path = "/konto"
    guards = [signed_in]

    async def _page(self, request: Request, *, error: AccountError | None = None, link: str | None = None,
                    notice: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        return Template(
            "accounts/account.html",
            context={"actor": actor, "passkeys": await service.list_passkeys(actor), "error": error,
                     "link": link, "notice": notice},
            status_code=status,
        )

    @get("/")
    async def account(self, request: Request) -> Template:
        return await self._page(request)

    @post("/passkeys/{passkey_id:int}/namn")
    async def rename(self, request: Request, passkey_id: FromPath[int], data: Form) -> Template:
        try:
            await service.rename_passkey(current_actor(request), passkey_id, str(data.get("nickname", "")))
        except AccountError as exc:
            return await self._page(request, error=exc, status=400)
        return await self._page(request, notice="Namnet är ändrat.")

    @post("/passkeys/{passkey_id:int}/ta-bort")
    async def remove(self, request: Request, passkey_id: FromPath[int]) -> Template:
        try:
            await service.remove_passkey(current_actor(request), passkey_id)
        except AccountError as exc:
            return await self._page(request, error=exc, status=400)
        return await self._page(request, notice="Passkeyn är borttagen.")

    @post("/ny-enhet")
    async def invite_own_device(self, request: Request) -> Template:
        token, _ = await service.invite_own_device(current_actor(request))
        link = f"{settings_of(request).public_origin}/inbjudan/{token}"
        return await self._page(request, link=link)


class InvitationAdminController(Controller):
    path = "/admin/inbjudningar"
    guards = [requires(*STAFF_OVERSIGHT)]

    async def _page(self, request: Request, *, form: dict | None = None, error: AccountError | None = None,
                    link: str | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        return Template(
            "accounts/invitations.html",
            context={
                "actor": actor,
                "invitations": await service.list_invitations(actor.organisation),
                "roles": [(r.value, ROLE_LABELS[r]) for r in service.invitable_roles(actor.role)],
                "care_units": await organisations.care_units(actor.organisation),
                "staff": await service.staff(actor.organisation),
                "form": form or {},
                "error": error,
                "link": link,
            },
            status_code=status,
        )

    @get("/")
    async def invitations(self, request: Request) -> Template:
        return await self._page(request)

    @post("/")
    async def create(self, request: Request, data: Form) -> Template:
        actor = current_actor(request)
        form = {k: str(v) for k, v in data.items() if k != "_csrf_token"}
        try:
            readable(form.get("name", ""), "name")
            staff_user_id = _optional_int(form.get("staff_user"), "staff_user")
            token, _ = await service.create_invitation(
                organisation_id=actor.organisation, name=form.get("name", ""), role=form.get("role", ""),
                care_unit_id=_optional_int(form.get("care_unit"), "care_unit"),
                staff_user_id=staff_user_id, invited_by=actor,
            )
        except (AccountError, FormError) as exc:
            return await self._page(request, form=form, error=exc, status=400)
        return await self._page(request, link=f"{settings_of(request).public_origin}/inbjudan/{token}")

    @post("/{invitation_id:int}/aterkalla")
    async def revoke(self, request: Request, invitation_id: FromPath[int]) -> Template:
        try:
            await service.revoke_invitation(current_actor(request).organisation, invitation_id)
        except AccountError as exc:
            return await self._page(request, error=exc, status=400)
        return await self._page(request)


def _optional_int(value: str | None, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        raise AccountError("Ogiltigt val.", field=field) from None
    if not INT4_MIN <= number <= INT4_MAX:  # beyond any id: no such choice
        raise AccountError("Ogiltigt val.", field=field)
    return number
