"""Shared by the HTTP tests: the module's technician, signed in (each module makes its own
module-scoped `world`)."""

from __future__ import annotations

import pytest

from tests.support.http import signed_in_client


@pytest.fixture(scope="module")
async def technician(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["technician"])
    yield client
    await client.aclose()
