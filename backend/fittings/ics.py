"""Private calendar feeds (ICS, RFC 5545) of a consultant's or prescriber's fittings.

A feed URL carries a random token; only its SHA-256 is stored, so a database leak
does not leak feeds. The feed names no patient: a booking reference, the product
area and the place, nothing more.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from backend import db
from backend.accounts import service as accounts
from backend.db import Sql, raw
from backend.fittings.availability import PLACE_LABELS, UTC
from backend.fittings.bookings import Booking, bookings_for_staff
from backend.fittings.tables import Place

FEED_HISTORY_DAYS = 180  # how far back a feed reaches


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create_feed_token(staff_user_id: int) -> str:
    """A new private feed token for the staff user; any older one stops working.

    Returned once, to be put in the feed URL; it cannot be read back later.
    """
    token = secrets.token_urlsafe(32)  # 256 bits
    async with db.transaction():
        staff_member = await accounts.staff_member(staff_user_id)
        await db.execute(
            "UPDATE calendar_feed_token SET revoked_at = now() WHERE staff_user = $1 AND revoked_at IS NULL",
            staff_user_id,
        )
        await db.execute(
            "INSERT INTO calendar_feed_token (organisation, staff_user, token_hash) VALUES ($1, $2, $3)",
            staff_member["organisation"] if staff_member else None, staff_user_id, _hash(token),
        )
    return token


async def revoke_feed_token(staff_user_id: int) -> None:
    await db.execute(
        "UPDATE calendar_feed_token SET revoked_at = now() WHERE staff_user = $1 AND revoked_at IS NULL",
        staff_user_id,
    )


async def staff_user_for_feed_token(token: str) -> int | None:
    """The active staff user a feed token belongs to, or None."""
    if not token or len(token) > 100:
        return None
    return await db.fetchval(Sql(
        """
        SELECT t.staff_user FROM calendar_feed_token t JOIN LATERAL (:staff) s ON true
         WHERE t.token_hash = :hash AND t.revoked_at IS NULL AND s.active
        """,
        staff=accounts.staff_row(raw("t.staff_user")), hash=_hash(token),
    ))


def summary(booking: Booking) -> str:
    """The event's title: reference, product area and place; never the patient."""
    return f"{booking.reference} Utprovning {booking.product_area_name}, {PLACE_LABELS[Place(booking.place)]}"


def booking_event(booking: Booking) -> Event:
    event = Event()
    event.add("uid", booking.uid)
    event.add("sequence", booking.sequence)
    event.add("dtstamp", booking.updated_at.astimezone(UTC))
    event.add("created", booking.created_at.astimezone(UTC))
    event.add("last-modified", booking.updated_at.astimezone(UTC))
    event.add("dtstart", booking.starts_at.astimezone(UTC))
    event.add("dtend", booking.ends_at.astimezone(UTC))
    event.add("summary", summary(booking))
    event.add("location", PLACE_LABELS[Place(booking.place)])
    event.add("status", "CANCELLED" if booking.status == "cancelled" else "CONFIRMED")
    event.add("transp", "OPAQUE" if booking.status == "booked" else "TRANSPARENT")
    return event


async def calendar_feed(staff_user_id: int, *, now: datetime | None = None) -> bytes:
    """The staff user's fittings, as consultant or prescriber, as an iCalendar file."""
    now = now or datetime.now(UTC)
    bookings = await bookings_for_staff(staff_user_id, since=now - timedelta(days=FEED_HISTORY_DAYS))
    calendar = Calendar()
    calendar.add("prodid", "-//Runda//Utprovningar//SV")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Runda: utprovningar")
    calendar.add("x-wr-timezone", "Europe/Stockholm")
    for booking in bookings:
        calendar.add_component(booking_event(booking))
    return calendar.to_ical()
