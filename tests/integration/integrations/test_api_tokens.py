"""API tokens: created with a name and a scope (the token shown once, only its hash kept),
revoked for good, each change in the token's history; a presented token finds its integration
(never a revoked one); and what an integration reads is logged under its token, not a person."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest

from backend import db
from backend.accounts.service import Actor, hash_token
from backend.accounts.tables import Role
from backend.audit.service import record_integration_reads, record_patient_reads
from backend.integrations import service
from backend.integrations.tables import TokenScope
from tests.support.factories import add_patient, delete_world, make_world


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world)
    world.admin = Actor(id=world.staff["admin"], organisation=world.organisation, name="Åsa Admin", role=Role.admin,
                        care_unit=None)
    yield world
    await delete_world(world)


async def tokens_of(world) -> int:
    return await db.fetchval("SELECT count(*) FROM api_token WHERE organisation = $1", world.organisation)


@pytest.mark.parametrize("name, scope, field", [
    ("", "read", "name"), ("   ", "write", "name"), ("x" * 101, "read", "name"), ("Web\x00Sesam", "read", "name"),
    ("webSesam", "admin", "scope"), ("webSesam", "", "scope"),
])
async def test_a_token_needs_a_name_and_a_scope_and_nothing_is_written_without(world, name, scope, field):
    before = await tokens_of(world)
    with pytest.raises(service.DomainError) as refused:
        await service.create_token(world.admin, name=name, scope=scope)
    assert refused.value.field == field
    assert await tokens_of(world) == before


async def test_only_the_tokens_hash_is_kept_and_the_token_finds_its_integration(world):
    token_id, token = await service.create_token(world.admin, name="  web   Sesam ", scope="write")
    row = await db.fetchrow("SELECT name, scope, token_hash, prefix, created_by FROM api_token WHERE id = $1", token_id)
    assert row["name"] == "web Sesam" and row["scope"] == "write" and row["created_by"] == world.staff["admin"]
    assert bytes(row["token_hash"]) == hash_token(token) and token not in bytes(row["token_hash"]).hex()
    assert token.startswith(row["prefix"]) and len(row["prefix"]) < len(token) // 3
    found = await service.authenticate(token)
    assert found is not None and found.api_token == token_id and found.organisation == world.organisation
    assert found.scope is TokenScope.write and found.may_write and found.name == "web Sesam"
    assert await service.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


async def test_what_is_no_token_is_refused_without_asking_the_database(world):
    for presented in ("", "runda_", "runda_" + "A" * 42, "runda_" + "!" * 43, "x" * 10_000, "runda_" + "A" * 43 + "\x00"):
        with db.counting_queries() as queries:
            assert await service.authenticate(presented) is None
            await asyncio.sleep(0)
        assert queries[0] == 0, presented[:20]


async def test_a_revoked_token_finds_nobody_and_cannot_be_revoked_twice(world):
    token_id, token = await service.create_token(world.admin, name="BI", scope="read")
    await service.revoke_token(world.admin, token_id)
    assert await service.authenticate(token) is None
    with pytest.raises(service.IntegrationError):
        await service.revoke_token(world.admin, token_id)
    revoked = await service.token(world.organisation, token_id)
    assert not revoked["active"] and revoked["revoked_by_name"] == "Test admin"
    history = await service.history(world.organisation, token_id)
    assert [(c.action, c.actor_name) for c in history] == [("deactivated", "Åsa Admin"), ("created", "Åsa Admin")]
    assert history[0].fields == {"status": ("active", "revoked")}
    assert history[1].fields["scope"] == (None, "read")


async def test_another_organisations_admin_cannot_see_or_revoke_a_token(world):
    other = await make_world("Region Annan")
    try:
        token_id, token = await service.create_token(world.admin, name="BI", scope="read")
        stranger = Actor(id=other.staff["admin"], organisation=other.organisation, name="Annan", role=Role.admin,
                         care_unit=None)
        with pytest.raises(service.TokenNotFound):
            await service.revoke_token(stranger, token_id)
        with pytest.raises(service.TokenNotFound):
            await service.token(other.organisation, token_id)
        assert token_id not in [t["id"] for t in await service.tokens(other.organisation)]
        assert await service.authenticate(token) is not None
    finally:
        await delete_world(other)


async def test_last_use_is_noted_to_the_minute(world):
    token_id, token = await service.create_token(world.admin, name="Poller", scope="read")
    first = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
    await service.authenticate(token, now=first)
    await service.authenticate(token, now=first + timedelta(seconds=30))
    assert (await service.token(world.organisation, token_id))["last_used_at"] == first
    later = first + timedelta(minutes=2)
    await service.authenticate(token, now=later)
    assert (await service.token(world.organisation, token_id))["last_used_at"] == later


async def test_an_integrations_reads_are_logged_under_its_token_and_never_a_person(world):
    token_id, token = await service.create_token(world.admin, name="Logg", scope="read")
    integration = await service.authenticate(token)
    await record_patient_reads(integration, [world.patient, world.patient], "device_card")
    await record_integration_reads(world.organisation, token_id, [world.patient], "api_test")
    rows = await db.fetch("SELECT staff_user, api_token, role, care_unit, what FROM audit_log WHERE api_token = $1 "
                          "ORDER BY id", token_id)
    assert [dict(r) for r in rows] == [
        {"staff_user": None, "api_token": token_id, "role": "integration", "care_unit": None, "what": "device_card"},
        {"staff_user": None, "api_token": token_id, "role": "integration", "care_unit": None, "what": "api_test"}]
    # A staff member's reads are logged as before.
    await record_patient_reads(world.admin, [world.patient], "patient_record")
    assert await db.fetchval("SELECT api_token FROM audit_log WHERE staff_user = $1", world.admin.id) is None


@pytest.mark.parametrize("staff_user, with_token", [(None, False), ("admin", True)])
async def test_an_access_log_row_names_exactly_one_reader(world, staff_user, with_token):
    token_id, _ = await service.create_token(world.admin, name="Check", scope="read")
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute(
            "INSERT INTO audit_log (organisation, staff_user, api_token, role, patient, what) "
            "VALUES ($1, $2, $3, 'admin', $4, 'test')",
            world.organisation, world.staff[staff_user] if staff_user else None, token_id if with_token else None,
            world.patient)
