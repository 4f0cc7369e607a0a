"""`runda import KIND FILE [--dry-run]`: the same dry run and import as the page, from a shell, with
every refused line printed; and `runda export-import-files` writing the registers as import files."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from backend import db
from tests.support.factories import delete_world, make_world

ARTICLES = ("Artikelnummer;Benämning;Tillverkare;ISO-kod\n"
            "910001;Elrullstol X;Permobil;12 23 06\n"
            "910002;;Permobil;12 23 06\n")


@pytest.fixture
async def world(database):
    world = await make_world()
    world.slug = await db.fetchval("SELECT slug FROM organisation WHERE id = $1", world.organisation)
    yield world
    await delete_world(world)


def runda(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"RUNDA_DEV", "SECRET_KEY"}}
    env.update(DATABASE_URL=database_url, SECRET_KEY="k" * 40)
    return subprocess.run([sys.executable, "-m", "backend", *args], env=env, capture_output=True, text=True,
                          timeout=120)


async def test_a_dry_run_writes_nothing_and_an_import_applies_the_good_lines(world, database, tmp_path):
    path = tmp_path / "artiklar.csv"
    path.write_bytes(ARTICLES.encode("cp1252"))
    before = await db.fetchval("SELECT count(*) FROM article WHERE organisation = $1", world.organisation)
    result = await _run(database, "import", "articles", str(path), "--dry-run", "--organisation", world.slug)
    assert result.returncode == 0, result.stderr
    assert "1 nya, 0 ändrade, 0 oförändrade, 1 avvisade" in result.stdout
    assert "  rad 3: Benämning saknas." in result.stdout
    assert await db.fetchval("SELECT count(*) FROM article WHERE organisation = $1", world.organisation) == before

    result = await _run(database, "import", "articles", str(path), "--organisation", world.slug)
    assert result.returncode == 0, result.stderr
    assert "runda: imported artiklar.csv" in result.stdout
    assert await db.fetchval("SELECT count(*) FROM article WHERE organisation = $1", world.organisation) == before + 1

    (tmp_path / "skrap.csv").write_bytes(b"\x00\x01\x02" * 100)
    result = await _run(database, "import", "devices", str(tmp_path / "skrap.csv"), "--organisation", world.slug)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "runda: error: Filen är inte en textfil. Välj en CSV-fil exporterad från " \
                                    "verksamhetssystemet."

    result = await _run(database, "export-import-files", str(tmp_path / "ut"), "--organisation", world.slug)
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "ut" / "artiklar.csv").read_bytes().decode("utf-8-sig")
    assert written.splitlines()[0] == "Artikelnummer;Benämning;Tillverkare;ISO-kod"
    assert "910001;Elrullstol X;Permobil;12 23 06" in written


async def _run(database_url: str, *args: str) -> subprocess.CompletedProcess:
    import asyncio

    return await asyncio.to_thread(runda, database_url, *args)
