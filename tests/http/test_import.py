"""The import pages over HTTP: an upload is dry-run and shown with its refused lines, nothing is
written until it is confirmed, the confirmed import is followed to the end and its report kept;
garbage and files over the limit are refused with a Swedish message and leave nothing behind."""

from __future__ import annotations

import asyncio
import random

import pytest

from backend import db
from backend.imports import service as imports
from tests.support.factories import delete_world, make_world
from tests.support.http import csrf, signed_in_client

ARTICLES = ("Artikelnummer;Benämning;Tillverkare;ISO-kod\r\n"
            "800001;Elrullstol M1;Permobil;122306\r\n"
            "800002;Elrullstol F5;Permobil;12 23 06\r\n"
            "800003;;Permobil;12 23 06\r\n"
            "800004;Lyftsele;Liko;99 99\r\n")


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def admin(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["admin"])
    yield client
    await client.aclose()


async def upload(client, content: bytes, kind: str = "articles", name: str = "artiklar.csv"):
    token = await csrf(client)
    return await client.post("/admin/import", data={"kind": kind, "_csrf_token": token},
                             files={"file": (name, content, "text/csv")})


async def count(table: str, world) -> int:
    return await db.fetchval(f"SELECT count(*) FROM {table} WHERE organisation = $1", world.organisation)


async def test_an_upload_is_dry_run_and_shows_its_refused_lines_and_nothing_is_written_until_confirmed(admin, world):
    before = await count("article", world)
    response = await upload(admin, ARTICLES.encode("cp1252"))
    assert response.status_code == 303
    page = await admin.get(response.headers["location"])
    assert page.status_code == 200
    assert "Provkörning" in page.text and "Bekräfta och importera 2 rader" in page.text
    assert '<td class="num">4</td><td>Benämning saknas.</td>' in page.text
    assert "Ingen hjälpmedelskategori har ISO-koden 99 99" in page.text
    assert "Windows-1252" in page.text
    assert await count("article", world) == before

    run_id = int(response.headers["location"].rsplit("/", 1)[1])
    report = await admin.get(f"/admin/import/{run_id}/rapport")
    assert report.headers["content-disposition"] == f'inline; filename="importrapport-{run_id}-articles.csv"'
    assert report.content.startswith("\ufeffRad;Orsak\r\n4;Benämning saknas.\r\n".encode())

    confirmed = await admin.post(f"/admin/import/{run_id}/bekrafta", data={"_csrf_token": await csrf(admin)})
    assert confirmed.status_code == 303
    for _ in range(200):  # the import runs in the background; the page polls its progress
        status = await admin.get(f"/admin/import/{run_id}/status", headers={"hx-request": "true"})
        if status.headers.get("hx-refresh") == "true":
            break
        assert 'role="status"' not in status.text and "<progress" in status.text
        await asyncio.sleep(0.05)
    assert status.headers.get("hx-refresh") == "true"  # done: htmx reloads the page with the result
    page = await admin.get(f"/admin/import/{run_id}")
    assert "Importen är klar" in page.text and "Importerad" in page.text
    assert await count("article", world) == before + 2
    again = await admin.post(f"/admin/import/{run_id}/bekrafta", data={"_csrf_token": await csrf(admin)})
    assert again.status_code == 400 and "Importen är redan genomförd." in again.text


async def test_five_megabytes_of_garbage_are_refused_with_a_swedish_message_and_nothing_is_kept(admin, world):
    rng = random.Random(3)
    garbage = bytes(rng.randrange(256) for _ in range(5 * 1024 * 1024))
    runs = await db.fetchval("SELECT count(*) FROM import_run")
    response = await upload(admin, garbage, kind="devices", name="hjalpmedel.csv")
    assert response.status_code == 400
    assert "Filen är inte en textfil" in response.text
    assert 'id="file-error"' in response.text  # next to the file field, and in the summary
    assert await db.fetchval("SELECT count(*) FROM import_run") == runs
    assert await count("device", world) == 0


async def test_an_upload_without_a_file_or_a_kind_is_refused_next_to_the_field(admin):
    response = await admin.post("/admin/import", data={"kind": "articles", "_csrf_token": await csrf(admin)})
    assert response.status_code == 400 and "Välj en fil att läsa in." in response.text
    response = await upload(admin, ARTICLES.encode(), kind="robots")
    assert response.status_code == 400 and "Välj vad filen innehåller." in response.text


async def test_a_file_over_the_limit_is_refused_from_its_announced_length_before_it_is_read(admin):
    sent = 0

    async def body():
        nonlocal sent
        for _ in range(60):
            sent += 1
            yield b"x" * (1024 * 1024)

    token = await csrf(admin)
    response = await admin.post(
        "/admin/import", content=body(),
        headers={"content-type": "multipart/form-data; boundary=b", "content-length": str(60 * 1024 * 1024),
                 "x-csrftoken": token})
    assert response.status_code == 413
    assert "En importfil får vara högst 50 MB" in response.text
    assert sent <= 1


async def test_another_organisations_run_is_not_there(admin, world):
    other = await make_world()
    try:
        run_id = await imports.dry_run(other.organisation, "articles", "a.csv", ARTICLES.encode(), actor_id=None,
                                       actor_name="x")
        for path in (f"/admin/import/{run_id}", f"/admin/import/{run_id}/status", f"/admin/import/{run_id}/rapport"):
            assert (await admin.get(path)).status_code == 404
        response = await admin.post(f"/admin/import/{run_id}/bekrafta", data={"_csrf_token": await csrf(admin)})
        assert response.status_code == 404
        assert (await imports.run(other.organisation, run_id))["state"] == "dry_run"
    finally:
        await delete_world(other)
