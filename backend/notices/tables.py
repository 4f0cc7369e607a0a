"""Notices (aviseringar) and the messages they were sent as."""

from enum import Enum

from piccolo.columns import BigSerial, Boolean, Date, ForeignKey, Integer, Text, Time, Timestamptz, Varchar
from piccolo.table import Table

from backend.accounts.tables import StaffUser
from backend.organisations.tables import CostBearer, Organisation
from backend.patients.tables import Patient
from backend.workorders.tables import WorkOrder


class NoticeChannel(str, Enum):
    letter = "letter"
    sms = "sms"
    email = "email"
    phone = "phone"  # a person calls: manual handling


CHANNEL_LABELS = {
    NoticeChannel.letter: "Brev",
    NoticeChannel.sms: "SMS",
    NoticeChannel.email: "E-post",
    NoticeChannel.phone: "Telefon (manuellt)",
}


class NoticeState(str, Enum):
    queued = "queued"  # waiting for the sending job
    sent = "sent"  # the SMS or e-mail went out (or, in development, into the dev outbox)
    to_print = "to_print"  # the letter is made; someone prints and posts it
    printed = "printed"
    manual = "manual"  # a person must contact the cost bearer (or the patient)
    handled = "handled"  # the person did
    failed = "failed"  # the last attempt to send failed; the queue tries again
    stale = "stale"  # not sent: the visit changed (or was made or cancelled) before it went out


STATE_LABELS = {
    NoticeState.queued: "Köad",
    NoticeState.sent: "Skickad",
    NoticeState.to_print: "Att skriva ut",
    NoticeState.printed: "Utskriven",
    NoticeState.manual: "Att kontakta",
    NoticeState.handled: "Kontaktad",
    NoticeState.failed: "Misslyckades",
    NoticeState.stale: "Inte skickad: besöket ändrades",
}

RECIPIENT_LABELS = {"patient": "Patienten", "cost_bearer": "Kostnadsbäraren"}
ANSWER_LABELS = {"moved": "Tiden passade inte: ny tid", "call_back": "Patienten vill ringa upp"}


class Notice(Table, tablename="notice"):
    """One message proposed or sent about a work order, to the patient or the cost bearer."""

    organisation = ForeignKey(Organisation)
    work_order = ForeignKey(WorkOrder)
    patient = ForeignKey(Patient, null=True)
    cost_bearer = ForeignKey(CostBearer, null=True)
    recipient = Varchar(length=20)  # patient | cost_bearer
    channel = Varchar(length=10, choices=NoticeChannel)
    reason = Varchar(length=20)  # visit | unreachable
    note = Text()
    planned_date = Date(null=True)
    window_start = Time(null=True)
    window_end = Time(null=True)
    state = Varchar(length=20, choices=NoticeState)
    manual = Boolean(default=False)
    batch = Integer(null=True)
    error = Text()
    answer = Varchar(length=20, null=True)  # moved | call_back
    answer_note = Text()
    answered_at = Timestamptz(null=True)
    answered_by = ForeignKey(StaffUser, null=True)
    created_by = ForeignKey(StaffUser, null=True)
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True)
    handled_at = Timestamptz(null=True)
    handled_by = ForeignKey(StaffUser, null=True)


class OutboundMessage(Table, tablename="outbound_message"):
    """What was sent, or in development kept in the dev outbox instead: the record of each message."""

    id = BigSerial(primary_key=True)
    organisation = ForeignKey(Organisation)
    notice = ForeignKey(Notice, null=True)
    patient = ForeignKey(Patient, null=True)
    channel = Varchar(length=10)  # letter | sms | email
    transport = Varchar(length=20)  # outbox | smtp | sms_gateway | print
    recipient = Varchar(length=200)
    subject = Varchar(length=200)
    body = Text()
    state = Varchar(length=20)  # delivered | failed
    error = Text()
    attempts = Integer(default=1)
    created_at = Timestamptz()
    delivered_at = Timestamptz(null=True)
    failed_at = Timestamptz(null=True)
