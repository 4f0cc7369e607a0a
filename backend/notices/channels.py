"""Who is told, and how a message leaves: the choice of recipient and channel from the patient's
preference, and one adapter per channel, chosen by settings (backend/settings.py OutboundSettings).

- E-mail goes through SMTP (aiosmtplib), SMS through an HTTP gateway (httpx: POST JSON
  {"to": "+4670…", "text": "…"} with a bearer token).
- Without its settings, and always in development, a channel is the dev outbox: the message is
  only recorded (outbound_message, read at /admin/utkorg) and nothing leaves the machine.
- Letters are never sent by Runda: they are made as a PDF for the coordinator to print.

An adapter raises SendFailed (Swedish, no personal data) when the far end does not take the
message; the sending job then fails and the queue tries again. Nothing here logs a recipient or
a message's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from backend.notices.errors import SendFailed
from backend.settings import OutboundSettings

# --- who is told, and how ------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    recipient: str  # patient | cost_bearer
    channel: str  # letter | sms | email | phone (a person calls: manual handling)
    manual: bool
    note: str = ""  # why not as the patient asked (Swedish, for the coordinator)


def mobile_number(phone: str | None) -> str | None:
    """A Swedish mobile number in international form (+4670…), or None when `phone` is not one."""
    digits = re.sub(r"[\s\-()]", "", phone or "")
    if digits.startswith("+46"):
        digits = "0" + digits[3:]
    elif digits.startswith("0046"):
        digits = "0" + digits[4:]
    if re.fullmatch(r"07[0-9]{8}", digits):
        return "+46" + digits[1:]
    return None


def route_for(*, preference: str, phone: str | None, email: str | None, has_address: bool,
              protected: bool) -> Route:
    """The patient's preferred channel when it can reach them; otherwise the cost bearer, by a
    person (manual handling). A letter to a protected identity goes to the cost bearer, never
    with an address of the patient on it."""
    if preference == "sms":
        if mobile_number(phone):
            return Route("patient", "sms", False)
        return Route("cost_bearer", "phone", True, "Patienten vill ha SMS men har inget mobilnummer.")
    if preference == "email":
        if email:
            return Route("patient", "email", False)
        return Route("cost_bearer", "phone", True, "Patienten vill ha e-post men har ingen e-postadress.")
    if preference == "letter":
        if protected:
            return Route("cost_bearer", "letter", False,
                         "Skyddade personuppgifter: brevet går till kostnadsbäraren, som lämnar det vidare.")
        if has_address:
            return Route("patient", "letter", False)
        return Route("cost_bearer", "phone", True, "Patienten vill ha brev men har ingen adress.")
    return Route("cost_bearer", "phone", True, "Patienten aviseras inte av Runda: kontakta kostnadsbäraren.")


# --- how a message leaves -------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    channel: str  # sms | email
    to: str  # +4670… or an e-mail address
    text: str
    subject: str = ""


class Adapter(Protocol):
    transport: str  # as outbound_message.transport records it

    async def send(self, message: Message) -> None: ...


class DevOutbox:
    """Keeps the message in Runda only (the record is the outbox): nothing leaves the machine."""

    transport = "outbox"

    async def send(self, message: Message) -> None:
        return None


@dataclass(frozen=True)
class Smtp:
    settings: OutboundSettings
    transport: str = "smtp"

    async def send(self, message: Message) -> None:
        import aiosmtplib

        mail = EmailMessage()
        mail["From"] = self.settings.smtp_from
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail.set_content(message.text)
        try:
            await aiosmtplib.send(
                mail, hostname=self.settings.smtp_host, port=self.settings.smtp_port,
                username=self.settings.smtp_user or None, password=self.settings.smtp_password or None,
                start_tls=self.settings.smtp_starttls, timeout=self.settings.send_timeout_seconds)
        except aiosmtplib.SMTPRecipientsRefused:
            raise SendFailed("E-postservern tog inte emot adressen.") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"E-postservern gick inte att nå ({type(exc).__name__}).") from None


@dataclass(frozen=True)
class SmsGateway:
    settings: OutboundSettings
    transport: str = "sms_gateway"

    async def send(self, message: Message) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.settings.sms_gateway_token}"} if self.settings.sms_gateway_token else {}
        try:
            async with httpx.AsyncClient(timeout=self.settings.send_timeout_seconds) as client:
                response = await client.post(self.settings.sms_gateway_url, json={"to": message.to, "text": message.text},
                                             headers=headers)
        except httpx.HTTPError as exc:
            raise SendFailed(f"SMS-tjänsten gick inte att nå ({type(exc).__name__}).") from None
        if not response.is_success:
            raise SendFailed(f"SMS-tjänsten svarade {response.status_code}.")


def adapters(settings: OutboundSettings) -> dict[str, Adapter]:
    """The adapter of each channel that leaves Runda: the dev outbox unless configured, and always
    in development."""
    outbox = DevOutbox()
    if settings.development:
        return {"sms": outbox, "email": outbox}
    return {"sms": SmsGateway(settings) if settings.sms_gateway_url else outbox,
            "email": Smtp(settings) if settings.smtp_host else outbox}
