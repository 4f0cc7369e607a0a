"""Lines that cannot be imported are refused one by one, with their line number and a reason in
Swedish, and the rest goes in; a file that cannot be read at all is refused whole, and nothing of
it is kept."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from backend import db
from backend.imports import service as imports
from backend.imports.csvfile import FileRefused
from tests.integration.imports.support import imported
from tests.support.factories import add_device, add_patient, delete_world, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    world.code = await db.fetchval("SELECT code FROM cost_bearer WHERE id = $1", world.cost_bearer)
    yield world
    await delete_world(world)


def reasons(run_refusals: list[tuple[int, str]]) -> dict[int, str]:
    return dict(run_refusals)


async def dry_run(world, kind: str, content: bytes) -> tuple[dict, dict[int, str]]:
    run_id = await imports.dry_run(world.organisation, kind, f"{kind}.csv", content, actor_id=world.staff["admin"],
                                   actor_name="Test admin")
    return await imports.run(world.organisation, run_id), reasons(await imports.refused_lines(world.organisation, run_id))


async def test_a_windows_1252_patient_file_with_decimal_commas_and_bad_lines_refuses_just_those(world):
    header = "Personnummer;Förnamn;Efternamn;Skyddad identitet;Adress;Postnummer;Ort;Kommunkod;Vårdenhet;Telefon;Latitud;Longitud"
    lines = [
        header,
        f"194501019824;Åsa;Öberg;Nej;Storgatan 1;72210;Västerås;{world.code};Hemsjukvården Test;021-12 34 56;59,6099;16,5448",
        f"19500615-9917;Bo;Ek;Nej;Ringvägen 2;722 11;Västerås;{world.code};Hemsjukvården Test;;;",
        f"19381224-9849;Karin;;Nej;Ågatan 3;722 12;Västerås;{world.code};Hemsjukvården Test;;;",
        f"20100228-9856;Lisa;Ström;Ja;;;;{world.code};Okänd enhet;;;",
        f"19450101-9824;Åsa;Dubblett;Nej;;;;{world.code};Hemsjukvården Test;;;",
        f"500615-9916;Bo;Ek;Nej;;;;{world.code};Hemsjukvården Test;;59,61;öst",
        "",
        f"500615-9916;Bo;Ek;Ja;Kyrkbacken 4;725 91;Västerås;{world.code};vårdcentralen annan;;59,6;16,5",
        "20100228-9856;Lisa;Ström;Ja;;;;X99;Hemsjukvården Test;;;",
    ]
    content = "\r\n".join(lines).encode("cp1252")
    run, refused = await dry_run(world, "patients", content)
    assert run["notes"][0].startswith("Teckenkodning Windows-1252, fälten åtskilda med semikolon")
    assert (run["new_rows"], run["changed_rows"], run["refused_rows"]) == (2, 0, 6)
    assert sorted(refused) == [3, 4, 5, 6, 7, 10]
    assert "inte ett giltigt personnummer" in refused[3]
    assert refused[4] == "Efternamn saknas."
    assert refused[5] == "Vårdenhet: det finns ingen aktiv vårdenhet som heter Okänd enhet."
    assert refused[6] == "Samma personnummer finns redan på rad 2 i filen."
    assert refused[7].startswith("Longitud: öst är inte ett tal")
    assert refused[10].startswith("Kommunkod: det finns ingen aktiv kostnadsbärare med koden eller namnet X99")
    assert not any("19500615" in reason or "Karin" in reason for reason in refused.values())  # no personal data

    assert await db.fetchval("SELECT count(*) FROM patient WHERE organisation = $1", world.organisation) == 0
    await imports.confirm(world.organisation, run["id"])
    assert await imports.apply(run["id"]) == "applied"
    rows = {r["personal_number"]: r for r in await db.fetch(
        "SELECT * FROM patient WHERE organisation = $1", world.organisation)}
    assert set(rows) == {"19450101-9824", "19500615-9916"}
    asa, bo = rows["19450101-9824"], rows["19500615-9916"]
    assert (asa["given_name"], asa["family_name"], asa["postal_code"], asa["birth_year"], asa["sex"]) == (
        "Åsa", "Öberg", "722 10", 1945, "F")
    assert (asa["latitude"], asa["longitude"], asa["protected_identity"]) == (59.6099, 16.5448, False)
    assert (bo["care_unit"], bo["sex"], bo["protected_identity"], bo["street"]) == (
        world.other_care_unit, "M", True, "Kyrkbacken 4")


async def test_a_device_file_refuses_lines_the_register_would_refuse(world):
    await db.execute("INSERT INTO article (organisation, article_number, name, manufacturer) "
                     "VALUES ($1, '555001', 'Batteri', 'Permobil')", world.organisation)
    lines = [
        "Individnummer;Artikelnummer;Serienummer;UDI;Ägare;Status;I bruk sedan;Livslängd till;Senaste FU;"
        "FU-intervall (dagar);Nästa FU;Leverantör",
        f"a 100001;100200;PM123;;{world.code};I bruk;2024-03-01;;2025-03-03;182;;Permobil AB",
        "A100002;999999;;;;I förråd;2024-03-01;;;;;",
        "A100003;100200;;;;I förråd;2026-02-30;;;;;",
        "A100004;100200;;;;Trasig;2024-03-01;;;;;",
        "A100005;100200;;;Z77;I förråd;2024-03-01;;;;;",
        "A100006;100200;;;;I förråd;2024-03-01;;;ett år;;",
        "A-100007;100200;;;;I förråd;2024-03-01;;;;;",
        "A100001;100200;;;;I förråd;2024-03-01;;;;;",
        "A100008;555001;;;;I förråd;2024-03-01;;;;;",
        "A100009;100200;;;;;2024-03-01;2020-01-01;;;;",
        "A100010;100200;;;HMC;Utdömd;01/03/2024;;;;;",
        "A100011;100200;SN11;(01)07350012345678;;Kasserad;2021-05-04;;2025-01-10;;;",
    ]
    content = ("\ufeff" + "\n".join(lines)).encode("utf-8")
    run, refused = await dry_run(world, "devices", content)
    assert run["notes"][1] == "Kolumner som inte läses: Leverantör."
    assert (run["new_rows"], run["refused_rows"]) == (2, 10)
    assert refused == {
        3: "Artikelnumret 999999 finns inte i sortimentet. Importera artiklarna först.",
        4: "I bruk sedan: datumet 2026-02-30 finns inte.",
        5: "Status: trasig är ingen status Runda känner (I bruk, I förråd, Ur bruk, På reparation, "
           "Rekonditioneras, Utdömd).",
        6: "Ägare: det finns ingen aktiv kostnadsbärare med koden eller namnet Z77.",
        7: "FU-intervall (dagar): skriv ett helt antal dagar, 1–3650.",
        8: "Individnummer: Ett individnummer består av högst 20 bokstäver och siffror, till exempel A123456.",
        9: "Samma individnummer finns redan på rad 2 i filen.",
        10: "Artikeln 555001 är en reservdel (den saknar kategori) och kan inte vara ett hjälpmedel.",
        11: "Livslängden kan inte ta slut innan hjälpmedlet togs i bruk.",
        12: "I bruk sedan: skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-03-01, inte 01/03/2024.",
    }
    await imports.confirm(world.organisation, run["id"])
    assert await imports.apply(run["id"]) == "applied"
    devices = {r["individnummer"]: r for r in await db.fetch(
        "SELECT * FROM device WHERE organisation = $1", world.organisation)}
    assert set(devices) == {"A100001", "A100011"}
    first, condemned = devices["A100001"], devices["A100011"]
    assert (first["owner"], first["status"], first["serial_number"]) == (world.cost_bearer, "in_use", "PM123")
    assert first["expected_end_of_life"] == date(2029, 3, 1)  # the category's five years
    assert first["next_fu_date"] == date(2025, 3, 3) + timedelta(days=182)
    assert (condemned["status"], condemned["next_fu_date"], condemned["udi"]) == ("condemned", None,
                                                                                  "(01)07350012345678")
    # 182 days instead of the category's 365: an override of the inherited schedule, for that device only.
    overrides = await db.fetch("SELECT device, interval_days, overrides IS NOT NULL AS inherited FROM fu_schedule "
                               "WHERE organisation = $1 AND device IS NOT NULL", world.organisation)
    assert [tuple(r) for r in overrides] == [(first["id"], 182, True)]


async def test_a_file_leaving_out_columns_keeps_those_fields(world):
    device = await add_device(world, holder=None, individnummer="K000001")
    before = await db.fetchrow("SELECT * FROM device WHERE id = $1", device)
    content = "Individnummer;Artikelnummer;I bruk sedan\nK000001;100200;2023-03-01\n".encode()
    run, refused = await dry_run(world, "devices", content)
    assert (run["unchanged_rows"], run["changed_rows"], refused) == (1, 0, {})
    assert "lämnas som de är på befintliga rader: Serienummer, UDI, Ägare, Status" in run["notes"][1]
    content = "Individnummer;Artikelnummer;I bruk sedan;Serienummer\nK000001;100200;2023-03-01;NYTT-1\n".encode()
    run = await imported(world.organisation, "devices", content)
    assert (run["state"], run["changed_rows"]) == ("applied", 1)
    after = await db.fetchrow("SELECT * FROM device WHERE id = $1", device)
    assert after["serial_number"] == "NYTT-1"
    assert {k: v for k, v in after.items() if k != "serial_number"} == {
        k: v for k, v in before.items() if k != "serial_number"}


async def test_a_loan_file_lends_moves_and_refuses_by_the_rules_of_lending(world):
    first, second = await add_patient(world), await add_patient(world, given="Bo")
    numbers = {first: "19450101-9824", second: "19500615-9916"}  # the factory's are not real personnummer
    for patient, number in numbers.items():
        await db.execute("UPDATE patient SET personal_number = $2 WHERE id = $1", patient, number)
    await add_device(world, holder=first, individnummer="L000001")  # lent to `first` since 2023-03-01
    await add_device(world, holder=None, individnummer="L000002")
    condemned = await add_device(world, holder=None, individnummer="L000003")
    await db.execute("UPDATE device SET status = 'condemned' WHERE id = $1", condemned)
    future = (date.today() + timedelta(days=3)).isoformat()
    lines = ["Individnummer;Personnummer;Utlånad sedan",
             f"L000001;{numbers[second]};2025-06-01",
             f"L000002;{numbers[first]};2025-07-01",
             f"L000003;{numbers[first]};2025-07-01",
             f"L000004;{numbers[first]};2025-07-01",
             f"L000002;{numbers[second]};2025-07-02",
             "l 000002;19121212-1212;2025-07-01"]
    run, refused = await dry_run(world, "loans", "\n".join(lines).encode())
    assert (run["new_rows"], run["changed_rows"], run["refused_rows"]) == (1, 1, 4)
    assert refused == {4: "Hjälpmedlet är utdömt och kan inte lånas ut.",
                       5: "Individnumret L000004 finns inte. Importera hjälpmedlen först.",
                       6: "Samma individnummer finns redan på rad 3 i filen.",
                       7: "Samma individnummer finns redan på rad 3 i filen."}
    await imports.confirm(world.organisation, run["id"])
    assert await imports.apply(run["id"]) == "applied"
    loans = [tuple(r) for r in await db.fetch(
        "SELECT d.individnummer, l.patient, l.from_date, l.to_date FROM device_loan l JOIN device d ON d.id = l.device "
        "WHERE l.organisation = $1 ORDER BY d.individnummer, l.from_date", world.organisation)]
    assert loans == [("L000001", first, date(2023, 3, 1), date(2025, 6, 1)),
                     ("L000001", second, date(2025, 6, 1), None),
                     ("L000002", first, date(2025, 7, 1), None)]
    held = dict(await db.fetch("SELECT individnummer, holder FROM device WHERE organisation = $1", world.organisation))
    assert held == {"L000001": second, "L000002": first, "L000003": None}
    assert await db.fetchval("SELECT status FROM device WHERE individnummer = 'L000002' AND organisation = $1",
                             world.organisation) == "in_use"  # out of the depot

    lines = ["Individnummer;Personnummer;Utlånad sedan", f"L000001;{numbers[first]};2025-05-01",
             f"L000002;{numbers[first]};{future}", "L000002;19121212-1212;2025-07-01"]
    run, refused = await dry_run(world, "loans", "\n".join(lines).encode())
    assert refused == {2: "Hjälpmedlet är utlånat till en annan patient sedan 2025-06-01; ett nytt lån kan inte "
                          "börja före det.",
                       3: "Ett lån kan inte börja i framtiden.",
                       4: "Samma individnummer finns redan på rad 3 i filen."}


async def test_garbage_is_refused_whole_and_nothing_is_kept(world):
    rng = random.Random(5)
    garbage = bytes(rng.randrange(256) for _ in range(5 * 1024 * 1024))
    before = await db.fetchval("SELECT count(*) FROM import_run")
    for content in (garbage, garbage.replace(b"\x00", b"\x01"), b"\xef\xbb\xbf" + b"x;y;z\n1;2;3\n" * 1000, b"",
                    b"Individnummer;Artikelnummer\nA1;100200\n"):
        with pytest.raises(FileRefused) as refused:
            await imports.dry_run(world.organisation, "devices", "skräp.csv", content, actor_id=None, actor_name="x")
        assert refused.value.field == "file"
    assert "Filen är inte en textfil" in str((await _refusal(world, garbage)))
    assert "rubrikraden saknar kolumnerna Individnummer, Artikelnummer och I bruk sedan" in str(
        await _refusal(world, b"x;y;z\n1;2;3\n"))
    assert str(await _refusal(world, b"Individnummer;Artikelnummer\nA1;100200\n")) == \
        "Rubrikraden saknar kolumnen I bruk sedan."
    assert await db.fetchval("SELECT count(*) FROM import_run") == before


async def _refusal(world, content: bytes) -> FileRefused:
    try:
        await imports.dry_run(world.organisation, "devices", "f.csv", content, actor_id=None, actor_name="x")
    except FileRefused as exc:
        return exc
    raise AssertionError("not refused")


async def test_a_device_file_brings_manufacturing_date_and_lot_and_refuses_an_impossible_date(world):
    future = (date.today() + timedelta(days=10)).isoformat()
    content = "\r\n".join([
        "Individnummer;Artikelnummer;Serienummer;I bruk sedan;Tillverkningsdatum;Lot/batch",
        "M000001;100200;RX-1;2024-05-01;2024-02-01;LOT-9",
        f"M000002;100200;RX-2;2024-05-01;{future};LOT-9",
        "M000003;100200;RX-3;2024-05-01;2024-06-01;",
        "M000004;100200;RX-4;2024-05-01;;",
    ]).encode("utf-8")
    run, refused = await dry_run(world, "devices", content)
    assert sorted(refused) == [3, 4]
    assert refused[3] == "Tillverkningsdatum: Tillverkningsdatumet kan inte ligga i framtiden."
    assert "efter att hjälpmedlet togs i bruk" in refused[4]
    await imported(world.organisation, "devices", content)
    rows = {r["individnummer"]: r for r in await db.fetch(
        "SELECT individnummer, manufacturing_date, lot_number FROM device WHERE organisation = $1", world.organisation)}
    assert rows["M000001"]["manufacturing_date"] == date(2024, 2, 1) and rows["M000001"]["lot_number"] == "LOT-9"
    assert rows["M000004"]["manufacturing_date"] is None and rows["M000004"]["lot_number"] == ""
    # A file without the columns keeps them.
    await imported(world.organisation, "devices", b"Individnummer;Artikelnummer;I bruk sedan\r\nM000001;100200;2024-05-01")
    assert await db.fetchval("SELECT lot_number FROM device WHERE organisation = $1 AND individnummer = 'M000001'",
                             world.organisation) == "LOT-9"
