"""Sign-in through the region's identity provider (OpenID Connect): start, the provider's answer,
signing out there too; and the admins' page for how each role signs in.

Without OIDC settings the provider's routes answer 404 and the sign-in page offers passkeys only.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from backend.accounts import idp, oidc
from backend.accounts.routes import _optional_int, start_page
from backend.accounts.service import InvitationUnusable, open_invitation
from backend.accounts.tables import ROLE_LABELS, Role
from backend.auth import current_actor, requires, sign_in
from backend.forms import FormError
from backend.organisations import service as organisations
from backend.settings import OidcSettings, Settings

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

CALLBACK = "/logga-in/idp/klar"
FLOW_KEY = "oidc"


def _settings(request: Request) -> Settings:
    return request.app.state["settings"]


def _config(request: Request) -> OidcSettings:
    config = _settings(request).oidc
    if config is None:
        raise NotFoundException()
    return config


def _refusal(request: Request, message: str, *, status: int, unknown: bool = False,
             unreachable: bool = False) -> Template:
    return Template("accounts/idp_refused.html", status_code=status, context={
        "message": message, "unknown": unknown, "unreachable": unreachable,
        "label": _config(request).label,
    })


UNREACHABLE = "Regionens inloggningstjänst svarar inte just nu. Försök igen om en stund."
FAILED = "Inloggningen via regionen kunde inte slutföras. Börja om från inloggningssidan."


class IdpSignInController(Controller):
    """The authorization code flow: /logga-in/idp sends the browser to the provider, which sends
    it back to /logga-in/idp/klar with a code; GET both, as the protocol has them."""

    async def _begin(self, request: Request, invitation: str | None = None) -> Redirect | Template:
        config = _config(request)
        try:
            url, flow = await oidc.begin(config, _settings(request).public_origin + CALLBACK)
        except oidc.OidcRefused as exc:
            await idp.record_event(exc.kind, "the identity provider could not be reached at sign-in")
            if exc.unreachable:
                return _refusal(request, UNREACHABLE, status=503, unreachable=True)
            return _refusal(request, FAILED, status=502)
        if invitation:
            flow["invitation"] = invitation
        request.set_session({**request.session, FLOW_KEY: flow})
        return Redirect(url)

    @get("/logga-in/idp", opt={"public": True, "rate_limited": True})
    async def start(self, request: Request) -> Redirect | Template:
        return await self._begin(request)

    @get("/inbjudan/{token:str}/idp", opt={"public": True, "rate_limited": True})
    async def start_from_invitation(self, request: Request, token: FromPath[str]) -> Redirect | Template:
        _config(request)
        try:
            await open_invitation(token)
        except InvitationUnusable as exc:
            return Template("accounts/invitation_unusable.html", context={"message": exc.message}, status_code=410)
        return await self._begin(request, invitation=token)

    @get(CALLBACK, opt={"public": True, "rate_limited": True})
    async def callback(self, request: Request) -> Redirect | Template:
        config = _config(request)
        session = dict(request.session)
        flow = session.pop(FLOW_KEY, None)
        request.set_session(session)  # the flow is used up, whatever happens next
        params = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
        try:
            actor, identity = await idp.sign_in_through_provider(config, flow if isinstance(flow, dict) else None,
                                                                 params)
        except oidc.OidcRefused as exc:
            if exc.unreachable:
                return _refusal(request, UNREACHABLE, status=503, unreachable=True)
            return _refusal(request, FAILED, status=400)
        except InvitationUnusable as exc:
            return Template("accounts/invitation_unusable.html", context={"message": exc.message}, status_code=410)
        except idp.IdpRefused as exc:
            return _refusal(request, exc.message, status=403, unknown=exc.unknown)
        sign_in(request, actor)
        # How and when the provider authenticated the person, for the session's record.
        request.set_session({**request.session, "method": "idp", "auth_time": identity.auth_time,
                             "amr": list(identity.amr)})
        return Redirect(start_page(actor))

    @get("/logga-ut/idp", opt={"public": True})
    async def sign_out_at_provider(self, request: Request) -> Redirect:
        """RP-initiated logout, offered after Runda's own sign-out (POST /logga-ut)."""
        config = _config(request)
        url = await oidc.end_session_url(config, _settings(request).public_origin + "/logga-in?utloggad=1")
        return Redirect(url or "/logga-in?utloggad=1")


class SignInPolicyController(Controller):
    """Admins: how each role signs in, and (with OIDC_AUTO_CREATE) commission -> role mapping."""

    path = "/admin/inloggning"
    guards = [requires(Role.admin)]

    async def _page(self, request: Request, *, error: Exception | None = None, notice: str | None = None,
                    form: dict | None = None, status: int = 200) -> Template:
        actor = current_actor(request)
        config = _settings(request).oidc
        return Template("accounts/sign_in_policy.html", status_code=status, context={
            "actor": actor, "policies": await idp.policies(actor.organisation),
            "choices": list(idp.POLICY_LABELS.items()), "configured": config is not None,
            "auto_create": bool(config and config.auto_create), "label": config.label if config else "",
            "mappings": await idp.role_mappings(actor.organisation),
            "roles": [(r.value, ROLE_LABELS[r]) for r in Role if r is not Role.admin],
            "care_units": await organisations.care_units(actor.organisation),
            "error": error, "notice": notice, "form": form or {},
        })

    @get("/")
    async def page(self, request: Request) -> Template:
        return await self._page(request)

    @post("/")
    async def save(self, request: Request, data: Form) -> Template:
        choices = {role.value: str(data.get(f"policy_{role.value}", "")) for role in Role}
        try:
            await idp.set_policies(current_actor(request), choices, idp_configured=_settings(request).oidc is not None)
        except idp.AccountError as exc:
            return await self._page(request, error=exc, status=400)
        return await self._page(request, notice="Inloggningssätten är sparade.")

    @post("/kopplingar")
    async def add_mapping(self, request: Request, data: Form) -> Template:
        form = {k: str(v) for k, v in data.items() if k != "_csrf_token"}
        try:
            care_unit = _optional_id(form.get("care_unit"))
            await idp.add_role_mapping(current_actor(request), form.get("claim_value", ""), form.get("role", ""),
                                       care_unit)
        except (idp.AccountError, FormError) as exc:
            return await self._page(request, error=exc, form=form, status=400)
        return await self._page(request, notice="Kopplingen är tillagd.")

    @post("/kopplingar/{mapping_id:int}/ta-bort")
    async def remove_mapping(self, request: Request, mapping_id: FromPath[int]) -> Template:
        try:
            await idp.remove_role_mapping(current_actor(request), mapping_id)
        except idp.AccountError as exc:
            return await self._page(request, error=exc, status=400)
        return await self._page(request, notice="Kopplingen är borttagen.")


def _optional_id(value: str | None) -> int | None:
    return _optional_int(value, "care_unit")
