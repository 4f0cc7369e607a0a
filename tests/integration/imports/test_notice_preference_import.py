"""A patient file may say how each patient is told of visits (Avisering: Brev, SMS, E-post, Ingen)
and give an e-mail address: kept as the register's page keeps them, with the same refusals; an
empty Avisering cell leaves a patient's preference as it is."""

from __future__ import annotations

import pytest

from backend import db
from backend.imports import service as imports
from tests.support.factories import delete_world, make_world

HEADER = "Personnummer;Förnamn;Efternamn;Kommunkod;Vårdenhet;Avisering;E-post"


@pytest.fixture
async def world(database):
    world = await make_world()
    world.code = await db.fetchval("SELECT code FROM cost_bearer WHERE id = $1", world.cost_bearer)
    yield world
    await delete_world(world)


async def import_lines(world, *lines: str) -> tuple[dict, dict[int, str]]:
    content = "\r\n".join([HEADER, *lines]).encode("utf-8")
    run_id = await imports.dry_run(world.organisation, "patients", "patienter.csv", content,
                                   actor_id=world.staff["admin"], actor_name="Test admin")
    run = await imports.run(world.organisation, run_id)
    refused = dict(await imports.refused_lines(world.organisation, run_id))
    await imports.confirm(world.organisation, run_id)
    assert await imports.apply(run_id) == "applied"
    return run, refused


async def preferences(world) -> dict[str, tuple[str, str]]:
    return {r["personal_number"]: (r["notice_channel"], r["email"]) for r in await db.fetch(
        "SELECT personal_number, notice_channel, email FROM patient WHERE organisation = $1", world.organisation)}


async def test_each_line_keeps_its_channel_and_address_and_bad_ones_are_refused(world):
    unit = "Hemsjukvården Test"
    run, refused = await import_lines(
        world,
        f"19450101-9808;Åsa;Öberg;{world.code};{unit};SMS;",
        f"19500615-9809;Bo;Ek;{world.code};{unit};e-post;bo.ek@exempel.se",
        f"19381224-9807;Karin;Berg;{world.code};{unit};;",
        f"19410213-9807;Siv;Karlsson;{world.code};{unit};E-post;",
        f"19301118-9804;Elsa;Lindberg;{world.code};{unit};Duva;",
        f"19520303-9804;Eva;Ström;{world.code};{unit};Brev;inte-en-adress",
        f"19600707-9806;Nils;Holm;{world.code};{unit};Ingen;",
    )
    assert sorted(refused) == [5, 6, 7]
    assert refused[5] == "E-post: Ange en e-postadress för avisering med e-post."
    assert refused[6] == "Avisering: skriv Brev, SMS, E-post eller Ingen, inte duva."
    assert refused[7] == "E-post: Skriv e-postadressen som namn@exempel.se."
    assert await preferences(world) == {
        "19450101-9808": ("sms", ""), "19500615-9809": ("email", "bo.ek@exempel.se"),
        "19381224-9807": ("letter", ""), "19600707-9806": ("none", "")}


async def test_an_empty_cell_keeps_the_preference_and_e_mail_is_never_left_without_an_address(world):
    unit = "Hemsjukvården Test"
    await import_lines(world, f"19500615-9809;Bo;Ek;{world.code};{unit};E-post;bo.ek@exempel.se",
                       f"19450101-9808;Åsa;Öberg;{world.code};{unit};SMS;")
    run, refused = await import_lines(
        world,
        f"19500615-9809;Bo;Ek;{world.code};{unit};;",  # keeps e-mail, but the address would go
        f"19450101-9808;Åsa;Öberg;{world.code};{unit};;asa@exempel.se",  # keeps SMS, gains an address
    )
    assert refused == {2: "Avisering med e-post behöver en e-postadress: fyll i kolumnen E-post eller välj ett annat sätt."}
    assert await preferences(world) == {"19500615-9809": ("email", "bo.ek@exempel.se"),
                                        "19450101-9808": ("sms", "asa@exempel.se")}
