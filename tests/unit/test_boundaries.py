"""One owner per table, and layers: the lines of backend/boundaries.py, held for every module."""

from __future__ import annotations

import pytest

from backend import boundaries as B
from tests.support.boundaries import (
    Module,
    imports,
    layer_violations,
    modules,
    ownership_violations,
    table_classes,
    tables_named,
)


def test_every_table_class_is_declared_by_the_domain_that_owns_it():
    for dotted, table in table_classes().items():
        assert table in B.TABLES, f"{table} ({dotted}) has no owner in backend/boundaries.py"
        assert dotted.split(".")[1] == B.TABLES[table], f"{dotted} is declared outside its owner"
    assert set(table_classes().values()) == set(B.TABLES)


def test_only_the_owning_domain_names_a_table():
    classes = table_classes()
    problems = [p for m in modules() for p in ownership_violations(m, classes)]
    assert problems == []


def test_no_import_runs_from_a_lower_layer_up():
    problems = [p for m in modules() for p in layer_violations(m)]
    assert problems == []


def test_every_backend_module_is_in_a_layer():
    units = {m.unit for m in modules() if m.unit}
    assert units <= set(B.BASE) | set(B.DOMAINS) | set(B.ROOTS)


# --- the checker itself --------------------------------------------------------------------

MISPLACED = '''
from backend import db

async def holder_name(device_id):
    return await db.fetchval(
        "SELECT p.given_name FROM device d JOIN patient p ON p.id = d.holder WHERE d.id = $1", device_id)
'''


def test_the_checker_finds_a_query_naming_another_domains_table():
    module = Module("backend.devices.service", "devices", MISPLACED)
    assert ownership_violations(module, {}) == ["backend.devices.service names table patient (owned by patients)"]
    assert ownership_violations(Module("backend.patients.service", "patients", MISPLACED), {}) == [
        "backend.patients.service names table device (owned by devices)"]


@pytest.mark.parametrize("sql, expected", [
    ("SELECT 1 FROM work_order w", {"work_order"}),
    ("INSERT INTO work_order_event (kind) VALUES ($1)", {"work_order_event"}),
    ("UPDATE device d SET status = $2 FROM device old", {"device"}),
    ("DELETE FROM write_receipt WHERE created_at < now()", {"write_receipt"}),
    ("SELECT x FROM a LEFT JOIN care_unit u ON true", {"care_unit"}),
    ("SELECT extract(year FROM received_at) FROM unknown_thing", set()),
    ("the device was taken from the patient", set()),
])
def test_the_checker_reads_sql_in_strings(sql, expected):
    assert tables_named(f"x = {sql!r}") == expected


def test_the_checker_reads_f_strings_and_copies():
    source = 'x = f"SELECT 1 FROM patient p WHERE {cond}"\nawait conn.copy_records_to_table("device", records=r)'
    assert tables_named(source) == {"patient", "device"}


def test_the_checker_finds_another_domains_table_class_in_a_query():
    source = "from backend.accounts.tables import StaffUser\nStaffUser.select()"
    module = Module("backend.fittings.booking", "fittings", source)
    assert ownership_violations(module, {"backend.accounts.tables.StaffUser": "staff_user"}) == [
        "backend.fittings.booking imports the table class backend.accounts.tables.StaffUser (owned by accounts)"]


def test_the_checker_finds_imports_that_run_up():
    upward = Module("backend.devices.service", "devices", "from backend.workorders.service import x")
    assert layer_violations(upward) == [
        "backend.devices.service imports backend.workorders.service from a layer above or beside it"]
    base = Module("backend.auth", "auth", "def f():\n    from backend.accounts.service import load_actor")
    assert layer_violations(base) == ["backend.auth (base) imports the domain module backend.accounts.service"]
    routes = Module("backend.devices.routes", "devices", "from backend.workorders import service")
    assert layer_violations(routes) == []
    down = Module("backend.workorders.service", "workorders", "from backend.devices.service import x")
    assert layer_violations(down) == []
    sideways = Module("backend.reports.routes", "reports", "from backend.workorders.routes import today")
    assert layer_violations(sideways) == [
        "backend.reports.routes imports backend.workorders.routes, another domain's routes"]


def test_relative_imports_are_resolved():
    assert "backend.workorders.service" in imports("from ..workorders import service", "backend.devices.service")
