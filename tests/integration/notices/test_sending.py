"""Sending through the job queue: to the dev outbox by default, through the SMS gateway when one is
configured, a failing gateway retried by the queue with every attempt recorded, and a letter made
for printing. A real worker runs the jobs on the test database."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import date, time, timedelta

import pytest

from backend import db
from backend.notices import service, tasks
from tests.integration.notices.support import add_fu_visit, coordinator
from tests.support.factories import add_device, add_patient
from tests.support.jobs import run_jobs

TODAY = date.today()
PERIOD = service.ProposalFilter.default(TODAY)


@pytest.fixture(autouse=True)
def no_outbound_settings(monkeypatch):
    for name in ("RUNDA_DEV", "SMTP_HOST", "SMTP_FROM", "SMS_GATEWAY_URL", "SMS_GATEWAY_TOKEN"):
        monkeypatch.delenv(name, raising=False)


class Gateway:
    """An SMS gateway on a local port: answers each POST with the next status of `statuses` (then 200)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[bytes, dict]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"content-length: *(\d+)", head, re.IGNORECASE).group(1))
        self.received.append((head, json.loads(await reader.readexactly(length))))
        status = self.statuses.pop(0) if self.statuses else 200
        writer.write(f"HTTP/1.1 {status} Svar\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/sms"

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()


async def patient_who_wants(world, channel: str, **fields) -> tuple[int, int]:
    """A patient with a device and its generated FU visit in three weeks: (patient, order)."""
    patient = await add_patient(world, given=fields.pop("given", "Berit"), protected=fields.pop("protected", False))
    await db.execute("UPDATE patient SET notice_channel = $2, email = $3 WHERE id = $1", patient, channel,
                     fields.pop("email", ""))
    order = await add_fu_visit(world, await add_device(world, holder=patient), patient, days_ahead=21)
    return patient, order


async def notice_of(order: int):
    return await db.fetchrow("SELECT n.id, n.state, n.error, n.sent_at, m.channel, m.transport, m.recipient, m.subject, "
                             "m.body, m.state AS message_state, m.error AS message_error, m.attempts "
                             "FROM notice n LEFT JOIN outbound_message m ON m.notice = n.id WHERE n.work_order = $1",
                             order)


async def test_a_send_goes_through_the_queue_to_the_dev_outbox_and_letters_are_made_for_printing(world):
    _, by_sms = await patient_who_wants(world, "sms")
    _, by_email = await patient_who_wants(world, "email", email="berit@example.se")
    _, by_letter = await patient_who_wants(world, "letter")
    _, protected = await patient_who_wants(world, "letter", given="Skyddad", protected=True)
    await service.send_notices(coordinator(world), [by_sms, by_email, by_letter, protected], PERIOD, TODAY)
    await run_jobs()

    sms = await notice_of(by_sms)
    assert (sms["state"], sms["transport"], sms["message_state"], sms["recipient"]) == (
        "sent", "outbox", "delivered", "+46701112233")
    assert sms["sent_at"] is not None and "Berit" not in sms["body"] and len(sms["body"]) <= 160
    email = await notice_of(by_email)
    assert (email["state"], email["transport"], email["recipient"]) == ("sent", "outbox", "berit@example.se")
    assert email["subject"].startswith("Service av ditt hjälpmedel") and "Hej Berit!" in email["body"]
    letter = await notice_of(by_letter)
    assert (letter["state"], letter["transport"], letter["channel"]) == ("to_print", "print", "letter")
    assert "Björkvägen 12" in letter["recipient"]
    shielded = await notice_of(protected)
    assert (shielded["state"], shielded["recipient"]) == ("to_print", "Testkommun")
    assert "Björkvägen" not in shielded["body"] and "722 10" not in shielded["body"]
    assert "Skyddad Lindqvist" in shielded["body"]


async def test_a_configured_sms_gateway_gets_the_number_and_the_text(world, monkeypatch):
    _, order = await patient_who_wants(world, "sms")
    gateway = Gateway()
    async with gateway as url:
        monkeypatch.setenv("SMS_GATEWAY_URL", url)
        monkeypatch.setenv("SMS_GATEWAY_TOKEN", "hemlig-token")
        await service.send_notices(coordinator(world), [order], PERIOD, TODAY)
        await run_jobs()
    [(head, body)] = gateway.received
    assert b"authorization: bearer hemlig-token" in head.lower()
    assert body["to"] == "+46701112233" and "Ring 021-10 00 00" in body["text"]
    sent = await notice_of(order)
    assert (sent["state"], sent["transport"], sent["message_state"], sent["attempts"]) == (
        "sent", "sms_gateway", "delivered", 1)


async def test_a_failing_gateway_is_retried_by_the_queue_and_every_attempt_is_recorded(world, monkeypatch, caplog):
    _, order = await patient_who_wants(world, "sms")
    gateway = Gateway(503)
    async with gateway as url:
        monkeypatch.setenv("SMS_GATEWAY_URL", url)
        sent = await service.send_notices(coordinator(world), [order], PERIOD, TODAY)
        with caplog.at_level(logging.INFO):
            await run_jobs()
        failed = await notice_of(order)
        assert (failed["state"], failed["message_state"], failed["attempts"]) == ("failed", "failed", 1)
        assert failed["error"] == failed["message_error"] == "SMS-tjänsten svarade 503."
        job = await db.fetchrow("SELECT id, status, attempts, scheduled_at > now() AS later FROM procrastinate_jobs "
                                "WHERE task_name = $1 AND args->>'batch' = $2", service.SEND_TASK,
                                str(sent.batch))
        assert (job["status"], job["later"]) == ("todo", True)  # the queue tries again, later
        assert await db.fetchval("SELECT reason FROM job_failure WHERE job_id = $1", job["id"]) == \
            "1 av 1 aviseringar kunde inte skickas. Ett nytt försök görs."
        # The retry's time comes: the gateway is back.
        await db.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = $1", job["id"])
        await run_jobs()
    delivered = await notice_of(order)
    assert (delivered["state"], delivered["message_state"], delivered["attempts"]) == ("sent", "delivered", 2)
    assert len(gateway.received) == 2
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "+46701112233" not in logged and "070-111" not in logged and delivered["body"] not in logged


async def test_a_batch_sends_the_rest_when_one_message_fails_and_only_the_failed_one_is_tried_again(world, monkeypatch):
    _, first = await patient_who_wants(world, "sms")
    _, second = await patient_who_wants(world, "sms")
    gateway = Gateway(500)
    async with gateway as url:
        monkeypatch.setenv("SMS_GATEWAY_URL", url)
        sent = await service.send_notices(coordinator(world), [first, second], PERIOD, TODAY)
        with pytest.raises(Exception):
            await tasks.send_batch(batch=sent.batch)
        assert [(await notice_of(o))["state"] for o in (first, second)] == ["failed", "sent"]
        await tasks.send_batch(batch=sent.batch)
    assert [(await notice_of(o))["attempts"] for o in (first, second)] == [2, 1]
    assert len(gateway.received) == 3


async def test_an_unreachable_gateway_fails_the_attempt_with_a_reason(world, monkeypatch):
    _, order = await patient_who_wants(world, "sms")
    monkeypatch.setenv("SMS_GATEWAY_URL", "http://127.0.0.1:9/sms")  # the discard port: nothing answers
    sent = await service.send_notices(coordinator(world), [order], PERIOD, TODAY)
    with pytest.raises(Exception):
        await tasks.send_batch(batch=sent.batch)
    failed = await notice_of(order)
    assert failed["state"] == "failed" and failed["error"].startswith("SMS-tjänsten gick inte att nå")


async def test_a_visit_moved_before_its_notice_was_sent_is_not_told_of_at_the_old_time(world):
    _, order = await patient_who_wants(world, "sms")
    sent = await service.send_notices(coordinator(world), [order], PERIOD, TODAY)
    await db.execute("UPDATE work_order SET window_start = $2, window_end = $3 WHERE id = $1", order, time(12), time(14))
    await tasks.send_batch(batch=sent.batch)
    stale = await notice_of(order)
    assert stale["state"] == "stale" and stale["transport"] is None and "ändrats" in stale["error"]
    proposals, _ = await service.proposals(coordinator(world), PERIOD, 1, TODAY)
    assert [p["window_start"] for p in proposals] == [time(12)]
    assert TODAY + timedelta(days=21) == proposals[0]["planned_date"]
