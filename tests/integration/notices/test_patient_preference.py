"""How a patient wants to be told of visits: kept on the patient with its change history."""

from __future__ import annotations

import pytest

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.patients import service as patients
from tests.integration.notices.support import coordinator


async def test_the_preference_and_address_are_kept_with_their_history(world):
    patient = world.patients[0]
    assert await db.fetchval("SELECT notice_channel FROM patient WHERE id = $1", patient) == "letter"
    assert await patients.set_notice_preference(coordinator(world), patient, "email", " astrid@example.se ") is True
    row = await db.fetchrow("SELECT notice_channel, email FROM patient WHERE id = $1", patient)
    assert dict(row) == {"notice_channel": "email", "email": "astrid@example.se"}
    assert await patients.set_notice_preference(coordinator(world), patient, "email", "astrid@example.se") is False
    [change] = await patients.notice_preference_history(world.organisation, patient)
    assert change.actor_name == "Test coordinator"
    assert change.fields == {"notice_channel": ("letter", "email"), "email": ("", "astrid@example.se")}


@pytest.mark.parametrize("channel, email, field", [("fax", "", "notice_channel"), ("email", "", "email"),
                                                   ("letter", "inte-en-adress", "email"),
                                                   ("sms", "a@b", "email")])
async def test_a_preference_that_cannot_be_kept_is_refused_and_nothing_changes(world, channel, email, field):
    with pytest.raises(patients.NoticePreferenceRefused) as refused:
        await patients.set_notice_preference(coordinator(world), world.patients[0], channel, email)
    assert refused.value.field == field
    assert await db.fetchval("SELECT notice_channel FROM patient WHERE id = $1", world.patients[0]) == "letter"
    assert await patients.notice_preference_history(world.organisation, world.patients[0]) == []


async def test_only_someone_who_may_see_the_patient_may_change_it(world):
    other_unit = Actor(id=world.staff["other_prescriber"], organisation=world.organisation, name="Olle Annan",
                       role=Role.prescriber, care_unit=world.other_care_unit)
    with pytest.raises(patients.PatientNotVisible):
        await patients.set_notice_preference(other_unit, world.patients[0], "sms", "")
