"""A world of its own for each notices test: the organisation, its people, one patient holding one
device, and the coordinator who tells patients of their visits."""

from __future__ import annotations

import pytest

from tests.support.factories import add_device, add_patient, delete_world, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    patient = await add_patient(world)
    await add_device(world, holder=patient)
    yield world
    await delete_world(world)
