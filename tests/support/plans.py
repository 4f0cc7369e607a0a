"""Query plans of the daily pages: capture the SQL a request runs, EXPLAIN it, and find the scans
that read a whole large table.

`capturing_statements()` records every statement (text and arguments) the current task runs
through the pool, as `db.counting_queries` counts them. `find_full_scans` EXPLAINs each one with
every way of reading a table switched off except through an index condition (sequential scans,
and index scans that could run without one), so that even on a small test database the planner
reaches each table through an index whenever one can serve the statement: a Seq Scan (or an
index read whole) that remains on a table that grows with the region means no index can.
Whether the planner then *prefers* the index on the big database is the bench's question:
`explain_statements` and `summarise` run EXPLAIN (ANALYZE, BUFFERS) of the same statements
there, in a transaction rolled back.
"""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import AsyncIterator, Iterable

import asyncpg

from backend.piccolo_conf import DB

# The tables that grow with a region (its devices, patients, orders and their history) or with
# time (the access log, messages, sessions). At scale 35 each holds from tens of thousands to
# millions of rows, so a daily page must reach their rows through an index (by organisation at
# least). A partition counts as its partitioned table (audit_log_2026_12 is audit_log).
# Registers that stay small per region (staff_user ~80 at scale 1, care_unit, cost_bearer, article
# ~200, device_category, checklist_template, fu_schedule, product_area, ...) may be scanned: a few
# thousand rows at 35 regions.
LARGE_TABLES = frozenset({
    # the region's people and devices
    "patient", "device", "device_token", "device_loan", "device_label",
    # work and its history
    "work_order", "work_order_event", "checklist_answer", "time_entry", "part_used", "work_note",
    "work_photo", "mileage_entry", "route_day", "write_receipt", "sync_conflict",
    # fittings, faults, notices
    "fitting_booking", "fitting_booking_event", "fitting_resource_hold", "fault_report", "notice",
    "outbound_message",
    # derived per device / per order: the FU due list and its counts (15,000 and 6,000 rows a region
    # at scale 1), the KPI facts, months and splits
    "fu_due", "fu_due_count", "kpi_fact", "kpi_month", "kpi_split",
    # time: the access log (partitioned by month), changes, security events, plans, recalls
    "audit_log", "audit_log_use", "register_change", "security_event", "plan_proposal_visit",
    "recall_device",
    # sessions, rate-limit counters and idempotency keys
    "kv_store",
})

EXPLAINABLE = frozenset({"select", "with", "insert", "update", "delete", "merge", "values", "table"})


@dataclass(frozen=True)
class Statement:
    """One statement as the app ran it: its text and arguments."""

    query: str
    args: tuple = ()

    @property
    def kind(self) -> str:
        """The statement's first keyword, lower-case ("select", "insert", "begin", ...)."""
        text = re.sub(r"^(\s+|--[^\n]*\n?|/\*.*?\*/)+", "", self.query, flags=re.S)
        match = re.match(r"[A-Za-z]+", text)
        return match.group(0).lower() if match else ""

    @property
    def explainable(self) -> bool:
        return self.kind in EXPLAINABLE

    def short(self, length: int = 200) -> str:
        return " ".join(self.query.split())[:length]


@dataclass
class PlanNode:
    """One node of a plan; the `actual_*` and buffer figures only after ANALYZE."""

    node_type: str
    relation: str | None  # as the plan names it: a partition's own name
    table: str | None  # the table it belongs to: a partition's partitioned table
    index: str | None
    index_cond: str | None
    index_first_column: str | None  # the index's leading column (None for an expression)
    filter: str | None
    plan_rows: float
    total_cost: float
    depth: int
    actual_rows: float | None = None
    loops: float | None = None
    actual_total_ms: float | None = None
    rows_removed_by_filter: float | None = None
    shared_hit: int | None = None
    shared_read: int | None = None

    @property
    def buffers(self) -> int | None:
        if self.shared_hit is None:
            return None
        return (self.shared_hit or 0) + (self.shared_read or 0)

    def describe(self) -> str:
        parts = [self.node_type]
        if self.relation:
            parts.append(f"on {self.relation}")
        if self.index:
            parts.append(f"using {self.index}")
        if self.index_cond:
            parts.append(f"[{self.index_cond}]")
        if self.filter:
            parts.append(f"filter {self.filter}")
        return " ".join(parts)


@dataclass
class Explained:
    """A statement with its plan: the nodes, depth first, and the timings when analysed."""

    statement: Statement
    nodes: list[PlanNode] = field(default_factory=list)
    planning_ms: float | None = None
    execution_ms: float | None = None
    error: str | None = None
    plan: object = None  # the plan as PostgreSQL gave it (JSON)


@dataclass
class Finding:
    """A scan of a large table that no index serves."""

    statement: Statement
    node: PlanNode
    reason: str
    page: str = ""

    def __str__(self) -> str:
        where = f"{self.page}: " if self.page else ""
        return (f"{where}{self.reason} of {self.node.table} ({self.node.describe()})\n"
                f"    in: {self.statement.short()}")


# --- capture ---------------------------------------------------------------------------

_captured: ContextVar[list[Statement] | None] = ContextVar("runda_captured_statements", default=None)


def _capture(record: object) -> None:
    captured = _captured.get()
    if captured is None:
        return
    args = record.args
    if isinstance(args, tuple):
        captured.append(Statement(record.query, args))
    else:
        # executemany: an iterable of argument tuples (already consumed if it was a generator);
        # the first stands for all of them, they share one plan.
        rows = list(args) if isinstance(args, (list, tuple)) else []
        captured.append(Statement(record.query, tuple(rows[0]) if rows else ()))


async def install_capture(pool: asyncpg.Pool | None = None) -> None:
    """Put the capturing logger on every connection of the pool (DB.pool unless given).

    The pool has no list of its connections to offer, so every one of them is taken at once
    (which opens the missing ones) and given back. Installing again is harmless. Not from inside
    a transaction: the transaction holds one of the connections this waits for."""
    pool = pool or DB.pool
    if pool is None:
        raise RuntimeError("the pool is not started")
    connections = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        for connection in connections:
            connection.add_query_logger(_capture)
    finally:
        for connection in connections:
            await pool.release(connection)


@asynccontextmanager
async def capturing_statements() -> AsyncIterator[list[Statement]]:
    """`async with capturing_statements() as statements:` … every statement this task ran
    through the pool in the block, in order. Installs the logger on the pool first."""
    await install_capture()
    captured: list[Statement] = []
    token = _captured.set(captured)
    try:
        yield captured
        # asyncpg reports a statement just after it finished: one turn of the loop.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    finally:
        _captured.reset(token)


# --- explain -----------------------------------------------------------------------------

_roots: dict[str, str] = {}
_indexes: dict[str, tuple[str | None, str | None]] = {}


async def _table_of(connection: asyncpg.Connection, relation: str) -> str:
    """The partitioned table a partition belongs to (itself when it is none)."""
    if relation not in _roots:
        root = await connection.fetchval(
            "SELECT pg_partition_root(c.oid)::regclass::text FROM pg_class c "
            "WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace", relation)
        _roots[relation] = root or relation
    return _roots[relation]


async def _index(connection: asyncpg.Connection, index: str) -> tuple[str | None, str | None]:
    """The table (a partition's partitioned table) an index is on, and its leading column."""
    if index not in _indexes:
        row = await connection.fetchrow(
            "SELECT pg_partition_root(i.indrelid)::regclass::text AS root, a.attname FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
            "WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace", index)
        _indexes[index] = (row["root"], row["attname"]) if row else (None, None)
    return _indexes[index]


def _walk(plan: dict, depth: int = 0) -> Iterable[tuple[dict, int]]:
    yield plan, depth
    for child in plan.get("Plans", ()):
        yield from _walk(child, depth + 1)


async def _nodes(connection: asyncpg.Connection, plan: dict) -> list[PlanNode]:
    nodes = []
    for raw, depth in _walk(plan):
        relation = raw.get("Relation Name")
        index = raw.get("Index Name")
        table, first_column = await _index(connection, index) if index else (None, None)
        nodes.append(PlanNode(
            node_type=raw["Node Type"], relation=relation,
            table=await _table_of(connection, relation) if relation else table,
            index=index, index_cond=raw.get("Index Cond") or raw.get("Recheck Cond"),
            index_first_column=first_column,
            filter=raw.get("Filter"), plan_rows=raw.get("Plan Rows", 0), total_cost=raw.get("Total Cost", 0),
            depth=depth, actual_rows=raw.get("Actual Rows"), loops=raw.get("Actual Loops"),
            actual_total_ms=raw.get("Actual Total Time"), rows_removed_by_filter=raw.get("Rows Removed by Filter"),
            shared_hit=raw.get("Shared Hit Blocks"), shared_read=raw.get("Shared Read Blocks"),
        ))
    return nodes


# Only bitmap scans left, and a bitmap scan needs an index condition. Sequential scans alone are not
# enough: on a small table the planner then reads a whole index instead, for its order (a merge
# join, ORDER BY id) or to hash it, where at scale it would look rows up by a condition it has.
INDEX_CONDITIONS_ONLY = ("SET LOCAL enable_seqscan = off", "SET LOCAL enable_indexscan = off",
                         "SET LOCAL enable_indexonlyscan = off")


async def explain(statement: Statement, *, analyze: bool = False, index_conditions_only: bool = False,
                  connection: asyncpg.Connection | None = None) -> Explained:
    """EXPLAIN one statement with its arguments, in a transaction that is rolled back (so even
    ANALYZE of an INSERT or UPDATE leaves nothing behind). `index_conditions_only` lets the
    planner read a table only through an index condition: a Seq Scan, or an Index Scan without a
    condition, that remains means no index can serve the statement."""
    if not statement.explainable:
        return Explained(statement, error=f"not explainable ({statement.kind or 'empty'})")
    if connection is None:
        async with DB.pool.acquire() as acquired:
            return await explain(statement, analyze=analyze, index_conditions_only=index_conditions_only,
                                 connection=acquired)
    options = "FORMAT JSON, ANALYZE, BUFFERS" if analyze else "FORMAT JSON"
    transaction = connection.transaction()
    await transaction.start()
    try:
        if index_conditions_only:
            for setting in INDEX_CONDITIONS_ONLY:
                await connection.execute(setting)
        raw = await connection.fetchval(f"EXPLAIN ({options}) {statement.query}", *statement.args)
    except asyncpg.PostgresError as exc:
        return Explained(statement, error=f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    finally:
        await transaction.rollback()
    result = json.loads(raw)[0] if isinstance(raw, str) else raw[0]
    return Explained(statement, nodes=await _nodes(connection, result["Plan"]),
                     planning_ms=result.get("Planning Time"), execution_ms=result.get("Execution Time"),
                     plan=result)


async def explain_statements(statements: Iterable[Statement], analyze: bool = True) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) each explainable statement on the pool's database, one after
    the other on one connection, each in a transaction rolled back. For the bench at scale 35:
    capture the statements of a page in-process, then hand them here and to `summarise`.

    A write that cannot run twice (the booking it made has its reference now: a unique or exclusion
    violation) is explained without ANALYZE instead, `not_analysed` saying why it has no times.

    Each result: statement, nodes (PlanNode), planning_ms, execution_ms, error, plan (JSON),
    not_analysed (why a plan has no times, else None)."""
    results = []
    async with DB.pool.acquire() as connection:
        for statement in statements:
            if not statement.explainable:
                continue
            e = await explain(statement, analyze=analyze, connection=connection)
            not_analysed = None
            if analyze and e.error and "ViolationError" in e.error:
                plain = await explain(statement, connection=connection)
                if plain.error is None:
                    e, not_analysed = plain, f"explained without ANALYZE, it cannot run again: {e.error}"
            results.append({"statement": e.statement, "nodes": e.nodes, "planning_ms": e.planning_ms,
                            "execution_ms": e.execution_ms, "error": e.error, "plan": e.plan,
                            "not_analysed": not_analysed})
    return results


def summarise(explained: list[dict], *, page: str = "", out=print, min_rows: int = 1000) -> None:
    """For each statement, the slowest first: its time and buffers, its slowest node (own time,
    rows, buffers), and the scans of large tables that read at least `min_rows` rows: whole
    (WHOLE TABLE: a sequential scan, an index read without a condition, a skip scan) or through
    an index condition too weak for the statement (FILTERED: most of the rows read, dropped)."""
    if page:
        out(f"== {page}: {len(explained)} statements, "
            f"{sum(e['execution_ms'] or 0 for e in explained):.1f} ms executing in all")
    for e in sorted(explained, key=lambda e: -(e["execution_ms"] or 0)):
        statement: Statement = e["statement"]
        if e["error"]:
            out(f"  [error] {e['error']}\n    {statement.short(160)}")
            continue
        nodes: list[PlanNode] = e["nodes"]
        if e.get("not_analysed"):
            out(f"  [no times] {e['not_analysed'][:160]}\n    {statement.short(160)}")
            continue
        buffers = sum(n.buffers or 0 for n in nodes if n.depth == 0)
        out(f"  {e['execution_ms'] or 0:8.2f} ms (plan {e['planning_ms'] or 0:.2f} ms, {buffers} buffers)  "
            f"{statement.short(160)}")
        slowest = _slowest(nodes)
        if slowest is not None:
            node, own = slowest
            out(f"      slowest: {node.describe()[:160]}: {own:.2f} ms own, {node.actual_rows:g} rows x "
                f"{node.loops:g} loops, removed by filter {node.rows_removed_by_filter or 0:g}, "
                f"buffers hit {node.shared_hit} read {node.shared_read}")
        for finding in full_scans(statement, nodes, skip_scans=True):
            if rows_read(finding.node) is None or rows_read(finding.node) >= min_rows:
                out(f"      WHOLE TABLE: {finding.reason} of {finding.node.table} "
                    f"({finding.node.relation or finding.node.index}), {rows_read(finding.node) or 0:g} rows read")
        for node in nodes:
            removed = (node.rows_removed_by_filter or 0) * (node.loops or 1)
            if (node.table in LARGE_TABLES and node.node_type not in ("Seq Scan", "Parallel Seq Scan")
                    and removed >= min_rows and removed > 10 * (node.actual_rows or 0) * (node.loops or 1)):
                out(f"      FILTERED: {node.describe()[:200]}: {removed:g} rows read and dropped, "
                    f"{(node.actual_rows or 0) * (node.loops or 1):g} kept")


def rows_read(node: PlanNode) -> float | None:
    """The rows a scan went through (kept and filtered out, every loop); None before ANALYZE."""
    if node.actual_rows is None:
        return None
    return (node.actual_rows + (node.rows_removed_by_filter or 0)) * (node.loops or 1)


def _slowest(nodes: list[PlanNode]) -> tuple[PlanNode, float] | None:
    """The node with the most time of its own (its total less its children's)."""
    best = None
    for i, node in enumerate(nodes):
        if node.actual_total_ms is None:
            continue
        own = node.actual_total_ms * (node.loops or 1)
        for child in nodes[i + 1:]:
            if child.depth <= node.depth:
                break
            if child.depth == node.depth + 1 and child.actual_total_ms is not None:
                own -= child.actual_total_ms * (child.loops or 1)
        if best is None or own > best[1]:
            best = (node, max(own, 0.0))
    return best


# --- the check -----------------------------------------------------------------------------

def full_scans(statement: Statement, nodes: list[PlanNode], large: frozenset[str] = LARGE_TABLES, *,
               skip_scans: bool = False) -> list[Finding]:
    """The nodes that read a large table whole: a (parallel) sequential scan, or an index scan with
    no condition on the index (every row of the table, in the index's order).

    With `skip_scans`, also an index scan whose condition leaves out the index's first column:
    PostgreSQL 18 skips through every value of that column, which is cheap for the organisation
    (35 values) and the whole index, near enough, for the patient. Only a plan on the big
    database tells which: on a small one the planner picks among such indexes by a hair (an
    empty partition's indexes all cost the same), so the test leaves them to the bench."""
    findings = []
    for node in nodes:
        if node.table not in large:
            continue
        if node.node_type in ("Seq Scan", "Parallel Seq Scan"):
            findings.append(Finding(statement, node, "sequential scan"))
        elif node.node_type in ("Index Scan", "Index Only Scan") and not node.index_cond:
            findings.append(Finding(statement, node, "full index scan (no index condition)"))
        elif (skip_scans and node.node_type in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
              and node.index_cond
              and node.index_first_column
              and not re.search(rf"\b{re.escape(node.index_first_column)}\b", node.index_cond)):
            findings.append(Finding(statement, node, f"skip scan of {node.index} (no condition on its first "
                                                     f"column, {node.index_first_column})"))
    return findings


async def find_full_scans(statements: Iterable[Statement], page: str = "", large: frozenset[str] = LARGE_TABLES,
                          connection: asyncpg.Connection | None = None) -> tuple[list[Finding], list[Explained]]:
    """EXPLAIN each explainable statement with tables readable only through index conditions; the
    whole-table reads of large tables that remain, and every statement's explanation (errors
    included). On `connection` when given (inside its transaction), else on one from the pool."""
    if connection is None:
        async with DB.pool.acquire() as acquired:
            return await find_full_scans(statements, page, large, acquired)
    findings: list[Finding] = []
    explained: list[Explained] = []
    for statement in statements:
        if not statement.explainable:
            continue
        e = await explain(statement, index_conditions_only=True, connection=connection)
        explained.append(e)
        for finding in full_scans(statement, e.nodes, large):
            finding.page = page
            findings.append(finding)
    return findings, explained
