"""`make bench`: load against the real server on demo data, beside a no-database baseline.

Starts `runda serve` on its own embedded database (.runda/bench, loaded once per scale),
signs in as the demo technician, and drives each scenario with wrk. The server (and
its PostgreSQL) run pinned to core 0 and wrk to core 1 where `taskset` is available.
Every figure is printed beside the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
LUA_REPORT = """
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT requests=%d seconds=%.3f rps=%.1f p50=%.2f p95=%.2f p99=%.2f errors=%d non2xx=%d\\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
  io.write(string.format("ERRORS connect=%d read=%d write=%d timeout=%d max_ms=%.1f\\n", summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout, latency.max / 1000))
end
"""


@dataclass
class Result:
    name: str
    what: str
    rps: float
    p50: float
    p95: float
    p99: float
    requests: int
    errors: int
    non2xx: int


def bench_data_dir(scale: float) -> Path:
    """The bench's own database, reused while the demo generator and migrations are unchanged."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted([*(ROOT / "backend" / "demo").glob("*.py"), *(ROOT / "migrations").glob("*.py")]):
        digest.update(path.read_bytes())
    name = f"bench-scale-{scale:g}-{digest.hexdigest()[:8]}"
    for old in (ROOT / ".runda").glob(f"bench-scale-{scale:g}*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return ROOT / ".runda" / name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PIN = True


def pinned(core: int, command: list[str]) -> list[str]:
    if PIN and shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(core), *command]
    return command


def runda(env: dict[str, str], *args: str, echo: bool = False) -> str:
    """Run a `runda` command; with echo, its output is shown as it comes (a long demo load's progress)."""
    if not echo:
        result = subprocess.run([sys.executable, "-m", "backend", *args], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"bench: `runda {' '.join(args)}` failed: {result.stderr.strip()}")
        return result.stdout
    process = subprocess.Popen([sys.executable, "-m", "backend", *args], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        print(f"  {line.rstrip()}", flush=True)
    if process.wait() != 0:
        sys.exit(f"bench: `runda {' '.join(args)}` failed")
    return "".join(lines)


def explain_pages(env: dict[str, str]) -> None:
    """Every daily page requested once in this process as the first region's people, each statement it
    ran EXPLAINed with ANALYZE and BUFFERS, and the statements printed slowest first with the node
    that took longest and any large table read but mostly dropped. Rows the POSTs write are marked
    and stay small (a booking, a checklist, a fault report)."""
    import asyncio

    from backend import db
    from backend.app import create_app
    from backend.settings import Settings
    from tests.support.daily_pages import explain_daily_pages, signed_in_region

    async def run() -> None:
        # The pages are asked in this process at the test client's address (passkeys are bound to it).
        from tests.support.http import BASE_URL

        settings = Settings.from_env({**env, "PUBLIC_ORIGIN": BASE_URL})
        db.configure(env["DATABASE_URL"], settings.database.command())
        await db.start_pool()
        try:
            organisation = await db.fetchval("SELECT id FROM organisation WHERE slug = 'vastmanland'")
            async with signed_in_region(create_app(settings), organisation) as region:
                await explain_daily_pages(region)
        finally:
            await db.close_pool()

    print("bench: EXPLAIN (ANALYZE, BUFFERS) of every daily page's statements ...", flush=True)
    try:
        asyncio.run(run())
    except Exception as exc:  # the measurements that follow are worth having without it
        print(f"bench: the EXPLAIN pass stopped: {exc.__class__.__name__}: {exc}", flush=True)


def runda_sql(env: dict[str, str], sql: str) -> None:
    """One statement on the bench's database, outside a transaction (VACUUM)."""
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(env["DATABASE_URL"])
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"bench: the server exited: {server.stderr.read() if server.stderr else ''}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    sys.exit("bench: the server did not start within 60 s")


def post_script(path: str, body: str, think_ms: int = 0) -> str:
    delay = (f"delay = function() return math.random({think_ms // 2}, {think_ms * 3 // 2}) end"
             if think_ms else "")
    return f"""
wrk.method = "POST"
wrk.body = "{body}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
request = function()
  return wrk.format(nil, "{path}")
end
{delay}
"""


def sign_in_as(base: str, link: str) -> str:
    """A session cookie header for the person the invitation is for (development sign-in)."""
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        token = link.rsplit("/", 1)[1]
        client.get(f"/inbjudan/{token}")
        response = client.post(f"/inbjudan/{token}/utan-passkey", data={"_csrf_token": client.cookies["runda_csrf"]})
        if response.status_code not in (302, 303):
            sys.exit(f"bench: development sign-in failed with {response.status_code}")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def run_wrk(name: str, what: str, base: str, script: str, *, cookie: str | None, duration: int,
            connections: int, headers: tuple[str, ...] = (), pin: bool = True) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script + LUA_REPORT)
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration}s", "-s", lua.name]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run(pinned(1, command + [base]) if pin else command + [base], capture_output=True,
                            text=True).stdout
    os.unlink(lua.name)
    match = re.search(r"RESULT (.*)", output)
    if not match:
        sys.exit(f"bench: wrk gave no result for {name}:\n{output}")
    values = dict(item.split("=") for item in match.group(1).split())
    if int(values["errors"]):
        kinds = re.search(r"ERRORS (.*)", output)
        print(f"bench: {name}: socket errors ({kinds.group(1) if kinds else 'kind unknown'})")
    return Result(name, what, float(values["rps"]), float(values["p50"]), float(values["p95"]), float(values["p99"]),
                  int(values["requests"]), int(values["errors"]), int(values["non2xx"]))


WARM_UP_SECONDS = 3


def warm_up(name: str, base: str, script: str, cookie: str | None, args: argparse.Namespace, pin: bool = True) -> None:
    """A few unmeasured seconds of a read-only scenario first: a server that has been up a while has
    its connections' type caches, the planner's cached statements and the pages' data in memory,
    where a scenario that starts cold would count the first requests' misses in its p95 and p99."""
    print(f"bench: {name}, warming up ({WARM_UP_SECONDS} s) ...", flush=True)
    run_wrk(f"{name} (warm-up)", "", base, script, cookie=cookie, duration=WARM_UP_SECONDS,
            connections=args.connections, pin=pin)


def paths_script(paths: list[str], think_ms: int = 0) -> str:
    """Requests to random paths; with think time, each connection is a person who waits
    think_ms (±50 %) between clicks, instead of firing as fast as the server answers."""
    quoted = ",".join(f'"{p}"' for p in paths)
    delay = (f"delay = function() return math.random({think_ms // 2}, {think_ms * 3 // 2}) end"
             if think_ms else "")
    return f"""
local paths = {{{quoted}}}
math.randomseed(1)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
{delay}
"""


def _storm_changes(text: str) -> int:
    value = int(text)
    if not 2 <= value <= 999:  # minutes and quantities count up within a queue; a quantity is at most 999
        raise argparse.ArgumentTypeError("must be from 2 to 999")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description="Runda load benchmark")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="the demo's scale; above 1 (N regions), every daily page is measured at scale 1 too "
                             "and both are printed side by side")
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=50, help="concurrent users")
    parser.add_argument("--think-ms", type=int, default=1000,
                        help="mean pause between one user's requests in the 'users' runs")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--no-pin", action="store_true", help="let server, database and wrk share both cores")
    parser.add_argument("--explain", action="store_true",
                        help="also EXPLAIN (ANALYZE, BUFFERS) every statement of every daily page at the (largest) "
                             "scale and print each page's statements, slowest first (tests/support/daily_pages.py)")
    parser.add_argument("--no-processes", dest="processes", action="store_false",
                        help="leave out the day and visit pages with --workers 1 beside --workers 2")
    parser.add_argument("--storm-phones", type=int, default=200,
                        help="reconnect storm: phones replaying their outbox at once (0: no storm)")
    parser.add_argument("--storm-changes", type=_storm_changes, default=50,
                        help="reconnect storm: queued changes per phone (2 to 999)")
    parser.add_argument("--skip-import", action="store_true", help="leave out the import of the region's devices")
    parser.add_argument("--log-reads-per-day", type=int, default=LOG_READS_PER_DAY,
                        help="access-log search: generated reads per day over five years (0: no log search)")
    parser.add_argument("--only-import", action="store_true", help="only the import of the region's devices")
    parser.add_argument("--only-routing", action="store_true", help="only route planning's optimised-vs-naive week")
    parser.add_argument("--only-log-search", action="store_true", help="only the baseline and the access-log search")
    args = parser.parse_args()
    global PIN
    PIN = not args.no_pin
    if not shutil.which("wrk") and not args.only_import and not args.only_routing:
        sys.exit("bench: wrk is not installed (apt-get install wrk)")

    # Above scale 1 the run compares: every daily page at scale 1 and at the scale asked for, side by
    # side; the rest (log search, storm, processes, batch work) runs once, at the larger scale.
    scales = [1.0, args.scale] if args.scale > 1 else [args.scale]
    by_scale: dict[float, list[Result]] = {}
    batch: list[str] = []
    for scale in scales:
        last = scale == scales[-1]
        with bench_server(scale, args) as (env, base, server):
            if args.only_import:
                print("\n".join(describe_import(import_devices(env))))
                return
            if args.only_routing:
                plan_a_week(env)
                return
            if args.only_log_search:
                results = [run_wrk(f"baseline ({mode})", "GET /offline: full middleware and the base template, no "
                                   "database", base, paths_script(["/offline"], think), cookie=None,
                                   duration=args.duration, connections=args.connections)
                           for mode, think in (("users", args.think_ms), ("saturation", 0))]
                failed = report(results + log_search(env, base, args), args)
                if failed:
                    sys.exit(f"bench: errors or non-2xx answers in: {', '.join(failed)}")
                return
            if last and args.explain:
                explain_pages(env)
            results, found = scenarios(env, base, args)
            results += report_faults(env, base, args)
            if last:
                if args.log_reads_per_day > 0:
                    results += log_search(env, base, args)
                if args.storm_phones > 0:
                    results.append(reconnect_storm(env, base, args))
                if args.processes:
                    results += processes(env, args, found, server)
                batch = [] if args.skip_import else describe_import(import_devices(env))
                batch += describe_generation(generate_year_of_fu(env))
                batch += describe_routing(plan_a_week(env))
        by_scale[scale] = results
    failed = []
    for scale in scales:
        failed += report(by_scale[scale], args, batch if scale == scales[-1] else None, scale)
    if len(scales) > 1:
        compare(by_scale[scales[0]], by_scale[scales[-1]], scales[0], scales[-1], args)
    if failed:
        sys.exit(f"bench: errors or non-2xx answers in: {', '.join(failed)}")


@contextmanager
def bench_server(scale: float, args: argparse.Namespace):
    """The demo at `scale` on its own embedded database (loaded once, kept while the demo generator and
    migrations are unchanged) and `runda serve` on it, pinned beside its PostgreSQL on core 0."""
    from backend import db

    data_dir = bench_data_dir(scale)
    port = free_port()
    env = dict(os.environ)
    env.update(RUNDA_DEV="1", RUNDA_DATA_DIR=str(data_dir), PORT=str(port), HOST="127.0.0.1",
               PUBLIC_ORIGIN=f"http://localhost:{port}", LOG_LEVEL="WARNING")
    base = f"http://localhost:{port}"
    # PostgreSQL inherits this process's core while it starts: it shares core 0 with the server.
    all_cores = os.sched_getaffinity(0)
    if PIN and len(all_cores) > 1:
        os.sched_setaffinity(0, {min(all_cores)})
    with db.embedded_server(data_dir) as url:
        os.sched_setaffinity(0, all_cores)
        env["DATABASE_URL"] = url
        print(f"bench: preparing the demo at scale {scale:g} in {data_dir.relative_to(ROOT)} ...", flush=True)
        runda(env, "migrate")
        started = time.monotonic()
        # A load (once per demo generator and migrations) may use both cores, as `runda demo` alone does.
        database_cores(env, all_cores)
        try:
            loaded = runda(env, "demo", "--scale", f"{scale:g}", "--if-empty", echo=True)
        finally:
            if PIN and len(all_cores) > 1:
                database_cores(env, {min(all_cores)})
        if "demo loaded" in loaded:
            print(f"bench: demo at scale {scale:g} loaded in {time.monotonic() - started:.0f} s", flush=True)
        vacuumed = data_dir / "vacuumed"
        if not vacuumed.exists():
            # What autovacuum does to freshly loaded tables in the first hour (visibility maps, hint
            # bits, statistics), done before measuring instead of on the server's core during it.
            print("bench: vacuuming the loaded demo once (as autovacuum would, before the runs) ...", flush=True)
            started = time.monotonic()
            database_cores(env, all_cores)
            try:
                runda_sql(env, "VACUUM (ANALYZE)")
            finally:
                if PIN and len(all_cores) > 1:
                    database_cores(env, {min(all_cores)})
            vacuumed.write_text(time.strftime("%Y-%m-%d %H:%M:%S"))
            print(f"bench: vacuumed in {time.monotonic() - started:.0f} s", flush=True)
        if args.only_import or args.only_routing:
            yield env, base, None
            return
        server = subprocess.Popen(pinned(0, [sys.executable, "-m", "backend", "serve", "--workers", str(args.workers)]),
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_until_up(base, server)
            yield env, base, server
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def scenarios(env: dict[str, str], base: str, args: argparse.Namespace) -> list[Result]:
    from backend import db
    from backend.cli import _run_with_pool

    async def facts() -> dict:
        # The first region's people (Västmanland, the same data at every scale), so the pages compare.
        technician = await db.fetchval("SELECT min(id) FROM staff_user WHERE role = 'technician'")
        rng = random.Random(1)
        devices = [r["individnummer"] for r in await db.fetch(
            "SELECT individnummer FROM device WHERE organisation = (SELECT organisation FROM staff_user "
            "WHERE id = $1) ORDER BY id", technician)]
        prescriber = await db.fetchrow(
            "SELECT id, care_unit FROM staff_user WHERE role = 'prescriber' ORDER BY id LIMIT 1")
        patient = await db.fetchval("SELECT min(id) FROM patient WHERE care_unit = $1", prescriber["care_unit"])
        prescriber_org = await db.fetchval("SELECT organisation FROM staff_user WHERE id = $1", prescriber["id"])
        area = await db.fetchval(
            "SELECT a FROM availability_template, unnest(product_areas) a WHERE place = 'hmc' AND organisation = $1 "
            "GROUP BY a ORDER BY count(*) DESC LIMIT 1", prescriber_org)
        busy_day = await db.fetchval(
            "SELECT min(planned_date) FROM work_order WHERE assignee = $1 AND planned_date >= current_date",
            technician)
        visits = [r["id"] for r in await db.fetch(
            "SELECT id FROM work_order WHERE assignee = $1 AND planned_date = $2", technician, busy_day)]
        fus = await db.fetch(
            """
            SELECT DISTINCT ON (w.id) w.id, t.items
            FROM work_order w JOIN device d ON d.id = w.device JOIN article a ON a.id = d.article
            JOIN checklist_template t ON t.category = a.category
            WHERE w.assignee = $1 AND w.planned_date >= $2 AND w.type = 'maintenance' AND w.status = 'planned'
            ORDER BY w.id, t.version DESC
            """, technician, busy_day)
        import json

        fu_items = {r["id"]: json.loads(r["items"]) if isinstance(r["items"], str) else r["items"] for r in fus}
        coordinator = await db.fetchrow("SELECT id, organisation FROM staff_user WHERE role = 'coordinator' AND active "
                                        "ORDER BY id LIMIT 1")
        fu_filters = [f"kommun={r['id']}" for r in await db.fetch(
            "SELECT id FROM cost_bearer WHERE organisation = $1 ORDER BY id LIMIT 5", coordinator["organisation"])]
        fu_filters += [f"kategori={r['id']}" for r in await db.fetch(
            "SELECT id FROM device_category WHERE organisation = $1 ORDER BY id LIMIT 5", coordinator["organisation"])]
        board_technicians = [r["id"] for r in await db.fetch(
            "SELECT id FROM staff_user WHERE organisation = $1 AND role = 'technician' AND active ORDER BY id LIMIT 5",
            coordinator["organisation"])]
        return {"board_technicians": board_technicians,
                "technician": technician, "devices": rng.sample(devices, min(2000, len(devices))),
                "day": busy_day, "prescriber": prescriber["id"], "patient": patient, "area": area,
                "visits": visits, "fu_items": fu_items, "coordinator": coordinator["id"], "fu_filters": fu_filters}

    found = _run_with_pool(env["DATABASE_URL"], facts)
    link = runda(env, "invite", "--staff-user", str(found["technician"])).strip()
    cookie = sign_in_as(base, link)

    common = dict(duration=args.duration, connections=args.connections)
    plan = [
        # Not /logga-in: it is rate-limited per address (counted in PostgreSQL), so wrk would mostly see 429s.
        ("baseline", "GET /offline: full middleware and the base template, no database", ["/offline"], None),
        ("device card", "GET /enheter/<random of 2000 devices>: device, history, scope check",
         [f"/enheter/{d}" for d in found["devices"]], cookie),
        ("technician day", f"GET /min-dag?dag={found['day']}: the demo technician's visits with patients, "
         "audit rows written", [f"/min-dag?dag={found['day']}"], cookie),
        ("visit page", f"GET /besok/<one of the day's {len(found['visits'])} visits>: order, patient, device history, "
         "record, checklist, parts list, audit row", [f"/besok/{v}" for v in found["visits"]], cookie),
    ]
    coordinator_cookie = sign_in_as(base, runda(env, "invite", "--staff-user", str(found["coordinator"])).strip())
    httpx.get(f"{base}/fu", headers={"Cookie": coordinator_cookie}, timeout=120)  # the list's first computation
    fu_paths = ["/fu", "/fu?horisont=3-manader", "/fu?horisont=3-manader&sida=2", "/fu?vy=fore-ny-brukare",
                "/fu?status=forfallen"] + [f"/fu?horisont=3-manader&{f}" for f in found["fu_filters"]]
    plan.append(("FU due list", f"GET /fu?<{len(fu_paths)} views and filters>: a coordinator's FU due list (counts by "
                 "category and status, a page of devices each with its order now, the backlog's trend)", fu_paths,
                 coordinator_cookie))
    board_paths = ["/arbetsordrar", "/arbetsordrar?sida=2", "/arbetsordrar?status=new", "/arbetsordrar?status=planned",
                   "/arbetsordrar?type=repair_on_site", "/arbetsordrar?type=maintenance&sida=3"]
    board_paths += [f"/arbetsordrar/planering?tekniker={t}&dag={found['day']}" for t in found["board_technicians"]]
    plan.append(("coordinator's board", f"GET /arbetsordrar?<filters, pages> and /arbetsordrar/planering?<"
                 f"{len(found['board_technicians'])} technicians' day>: the open orders with counts and conflicts, "
                 "a technician's day as the coordinator plans it", board_paths, coordinator_cookie))
    plan.append(("planning pages", "GET /planering, /planering/forslag, /planering/akut: route planning's hub, the "
                 "proposals' form with the recent ones, the open urgent repairs",
                 ["/planering", "/planering/forslag", "/planering/akut"], coordinator_cookie))
    plan.append(("KPI dashboard", "GET /oversikt: every KPI this month and the last 12 against its target, from the "
                 "refreshed summary, and devices by category", ["/oversikt"], coordinator_cookie))
    plan.append(("KPI split", "GET /oversikt/kpi/reparation?fordelning=<municipality|age|sex>: the repair KPI's 12 "
                 "months, split with small cells suppressed, its filter choices and charts",
                 [f"/oversikt/kpi/reparation?fordelning={d}" for d in ("kommun", "alder", "kon")], coordinator_cookie))
    prescriber_cookie = sign_in_as(base, runda(env, "invite", "--staff-user", str(found["prescriber"])).strip())
    csrf = dict(part.split("=", 1) for part in prescriber_cookie.split("; "))["runda_csrf"]
    today = time.strftime("%Y-%m-%d")
    search_body = (f"product_area={found['area']}&place=hmc&referral_date={today}&patient={found['patient']}"
                   f"&_csrf_token={csrf}")
    results = []
    for name, what, paths, with_cookie in plan:
        warm_up(name, base, paths_script(paths, 0), with_cookie, args)
        for mode, think in (("users", args.think_ms), ("saturation", 0)):
            print(f"bench: {name}, {mode}, {args.duration} s with {args.connections} connections ...", flush=True)
            results.append(run_wrk(f"{name} ({mode})", what, base, paths_script(paths, think),
                                   cookie=with_cookie, **common))
    warm_up("slot search", base, post_script("/utprovningar/boka/tider", search_body), prescriber_cookie, args)
    for mode, think in (("users", args.think_ms), ("saturation", 0)):
        print(f"bench: slot search, {mode}, {args.duration} s with {args.connections} connections ...", flush=True)
        results.append(run_wrk(f"slot search ({mode})", "POST /utprovningar/boka/tider: the 8 earliest free "
                               "fitting times for a product area, from templates, bookings, exceptions, holidays",
                               base, post_script("/utprovningar/boka/tider", search_body, think),
                               cookie=prescriber_cookie, **common))
    results.append(book_fittings(env, base, found, prescriber_cookie, csrf, today))
    technician_csrf = dict(part.split("=", 1) for part in cookie.split("; "))["runda_csrf"]
    fus = found["fu_items"]
    try:
        for mode, think in (("users", args.think_ms), ("saturation", 0)):
            print(f"bench: checklist submit, {mode}, {args.duration} s with {args.connections} connections ...",
                  flush=True)
            results.append(run_wrk(
                f"checklist submit ({mode})", f"POST /besok/<FU>/checklista: the whole checklist of one of the "
                f"technician's {len(fus)} FU visits, every item answered and stored as a new row",
                base, checklist_script(fus, technician_csrf, think), cookie=cookie, **common))
    finally:
        async def remove_bench_answers() -> None:
            await db.execute(f"DELETE FROM checklist_answer WHERE comment LIKE '{BENCH_COMMENT}%'")

        _run_with_pool(env["DATABASE_URL"], remove_bench_answers)
    results += api_lists(env, base, found, args)
    return results, {**found, "cookie": cookie}


def database_cores(env: dict[str, str], cores: set[int]) -> None:
    """Move the bench's PostgreSQL (postmaster and every backend; new backends inherit) to `cores`."""
    import psutil

    pid = int((Path(env["RUNDA_DATA_DIR"]) / "pgdata" / "postmaster.pid").read_text().split()[0])
    postmaster = psutil.Process(pid)
    for process in [postmaster, *postmaster.children(recursive=True)]:
        try:
            process.cpu_affinity(sorted(cores))
        except psutil.Error:
            pass  # a backend that ended meanwhile


def processes(env: dict[str, str], args: argparse.Namespace, found: dict, server: subprocess.Popen) -> list[Result]:
    """The technician's day and visit pages at saturation served by one web process and by two, each
    beside the no-database baseline: the server, PostgreSQL and wrk share both cores in these runs (a
    second process needs a second core), so they compare with each other, not with the pinned runs."""
    results = []
    cores = os.sched_getaffinity(0)
    database_cores(env, cores)
    try:
        for workers in (1, 2):
            port = free_port()
            own = dict(env, PORT=str(port), PUBLIC_ORIGIN=f"http://localhost:{port}")
            base = f"http://localhost:{port}"
            web = subprocess.Popen([sys.executable, "-m", "backend", "serve", "--workers", str(workers)], env=own,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                wait_until_up(base, web)
                cookie = sign_in_as(base, runda(own, "invite", "--staff-user", str(found["technician"])).strip())
                plan = [("baseline", ["/offline"], None), ("technician day", [f"/min-dag?dag={found['day']}"], cookie),
                        ("visit page", [f"/besok/{v}" for v in found["visits"]], cookie)]
                for name, paths, with_cookie in plan:
                    label = f"{name} ({workers} process{'es' if workers > 1 else ''})"
                    warm_up(label, base, paths_script(paths, 0), with_cookie, args, pin=False)
                    print(f"bench: {label}, saturation on both cores, {args.duration} s ...", flush=True)
                    results.append(run_wrk(label, "", base, paths_script(paths, 0), cookie=with_cookie,
                                           duration=args.duration, connections=args.connections, pin=False))
            finally:
                web.send_signal(signal.SIGTERM)
                web.wait(timeout=30)
    finally:
        if PIN and len(cores) > 1:
            database_cores(env, {min(cores)})
    return results


API_TOKENS = 200  # each token may make 300 calls a minute: enough of them that the limit stays out of the way


def api_lists(env: dict[str, str], base: str, found: dict, args: argparse.Namespace) -> list[Result]:
    """An integration paging through the device list of /api/v1 (a BI tool's nightly read), with
    read tokens made for the run and revoked after it."""
    from backend import db
    from backend.accounts import service as accounts
    from backend.cli import _run_with_pool
    from backend.integrations import service as integrations

    async def tokens() -> tuple[list[str], int]:
        admin_id = await db.fetchval("SELECT min(id) FROM staff_user WHERE role = 'admin' AND active")
        admin = await accounts.load_actor(admin_id, time.time(), absolute_hours=1)
        made = [await integrations.create_token(admin, name=f"Benchmark {n}", scope="read")
                for n in range(API_TOKENS)]
        pages = await db.fetchval("SELECT count(*) FROM device WHERE organisation = $1", admin.organisation)
        return [token for _, token in made], pages

    made, devices = _run_with_pool(env["DATABASE_URL"], tokens)
    pages = max(1, min(200, devices // 50))
    quoted = ",".join(f'"{t}"' for t in made)
    results = []
    try:
        for mode, think in (("users", args.think_ms), ("saturation", 0)):
            delay = (f"delay = function() return math.random({think // 2}, {think * 3 // 2}) end" if think else "")
            script = f"""
local tokens = {{{quoted}}}
math.randomseed(1)
request = function()
  local headers = {{}}
  headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  return wrk.format("GET", "/api/v1/devices?page=" .. math.random({pages}), headers)
end
{delay}
"""
            print(f"bench: API device list, {mode}, {args.duration} s with {args.connections} connections ...",
                  flush=True)
            results.append(run_wrk(f"API device list ({mode})", f"GET /api/v1/devices?page=<1..{pages}>: a page of "
                                   "devices as JSON with holders, token checked, access-log rows written",
                                   base, script, cookie=None, duration=args.duration, connections=args.connections))
    finally:
        async def revoke_tokens() -> None:
            # Revoked, not deleted: the calls they made are in the access log, which keeps them.
            await db.execute("UPDATE api_token SET revoked_at = now(), revoked_by = created_by WHERE name LIKE 'Benchmark %' "
                             "AND revoked_at IS NULL")

        _run_with_pool(env["DATABASE_URL"], revoke_tokens)
    return results


BENCH_COMMENT = "bench-"


def checklist_script(fus: dict[int, list[dict]], csrf: str, think_ms: int = 0) -> str:
    """Each request submits the whole checklist of a random FU visit: every item passed, with
    a measurement inside its limits and a comment that changes every time, so every item
    is stored as a new row (the most a submit can write)."""
    entries = []
    for order, items in fus.items():
        fields = []
        for item in items:
            name = f"item-{item['key']}"
            fields.append(f"{name}=pass")
            m = item.get("measurement")
            if m:
                fields.append(f"{name}-value={(m['min'] + m['max']) / 2:g}")
        keys = ",".join(f'"{item["key"]}"' for item in items)
        entries.append(f'{{"/besok/{order}/checklista", "{"&".join(fields)}&_csrf_token={csrf}", {{{keys}}}}}')
    delay = (f"delay = function() return math.random({think_ms // 2}, {think_ms * 3 // 2}) end"
             if think_ms else "")
    return f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local visits = {{{",".join(entries)}}}
local n = 0
math.randomseed(2)
request = function()
  n = n + 1
  local visit = visits[math.random(#visits)]
  local body = visit[2]
  for _, key in ipairs(visit[3]) do
    body = body .. "&item-" .. key .. "-comment={BENCH_COMMENT}" .. n
  end
  return wrk.format(nil, visit[1], nil, body)
end
{delay}
"""


BENCH_MARKER = "Benchmark-bokning"


def book_fittings(env: dict[str, str], base: str, found: dict, cookie: str, csrf: str, today: str,
                  concurrency: int = 20) -> Result:
    """Book every free slot of the coming weeks through the real form, `concurrency` at a
    time, then check that each accepted booking exists exactly once; then remove them."""
    import asyncio
    from datetime import date

    from backend import db
    from backend.cli import _run_with_pool
    from backend.fittings import service

    async def free_slots() -> list:
        organisation = await db.fetchval("SELECT organisation FROM staff_user WHERE id = $1", found["prescriber"])
        return await service.find_slots(organisation, found["area"], "hmc", referral_date=date.today(), limit=400)

    slots = _run_with_pool(env["DATABASE_URL"], free_slots)
    print(f"bench: booking {len(slots)} free fitting slots, {concurrency} at a time ...", flush=True)
    latencies: list[float] = []
    outcomes: dict[int, int] = {}

    async def drive() -> float:
        queue: asyncio.Queue = asyncio.Queue()
        for slot in slots:
            queue.put_nowait(slot)
        async with httpx.AsyncClient(base_url=base, headers={"Cookie": cookie}, timeout=30) as client:
            async def worker() -> None:
                while not queue.empty():
                    slot = queue.get_nowait()
                    form = {"product_area": found["area"], "place": "hmc", "referral_date": today,
                            "patient": found["patient"], "slot": f"{slot.consultant_id}_{int(slot.starts_at.timestamp())}",
                            "problem": BENCH_MARKER, "goal": "Mätning", "_csrf_token": csrf}
                    started = time.perf_counter()
                    response = await client.post("/utprovningar/boka/bekrafta", data=form)
                    latencies.append((time.perf_counter() - started) * 1000)
                    outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started

    seconds = asyncio.run(drive())

    async def verify_and_clean() -> tuple[int, int]:
        stored = await db.fetchval("SELECT count(*) FROM fitting_booking WHERE problem = $1", BENCH_MARKER)
        doubles = await db.fetchval(
            "SELECT count(*) FROM (SELECT consultant, starts_at FROM fitting_booking WHERE status = 'booked' "
            "GROUP BY consultant, starts_at HAVING count(*) > 1) d")
        await db.execute("DELETE FROM fitting_booking WHERE problem = $1", BENCH_MARKER)
        return stored, doubles

    stored, doubles = _run_with_pool(env["DATABASE_URL"], verify_and_clean)
    accepted = outcomes.get(303, 0)
    if stored != accepted or doubles:
        sys.exit(f"bench: booking check failed: {accepted} accepted, {stored} stored, {doubles} double bookings")
    print(f"bench: {accepted} bookings accepted and stored exactly once, {outcomes.get(409, 0)} refused as taken, "
          "no double bookings; removed again", flush=True)
    return measured("booking (saturation)", f"POST /utprovningar/boka/bekrafta: {len(slots)} bookings, "
                    f"{concurrency} concurrent, exactly-once checked", latencies, seconds, errors=0,
                    non2xx=sum(n for status, n in outcomes.items() if status not in (303, 409)))


def measured(name: str, what: str, latencies: list[float], seconds: float, *, errors: int, non2xx: int) -> Result:
    """A scenario driven from Python: requests per second and percentiles of the latencies (ms)."""
    latencies = sorted(latencies)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else 0.0

    return Result(name, what, len(latencies) / seconds if seconds else 0, pct(50), pct(95), pct(99),
                  len(latencies), errors, non2xx)


def reconnect_storm(env: dict[str, str], base: str, args: argparse.Namespace) -> Result:
    """Every phone back online at once replays its outbox (see storm.py); exactly-once checked."""
    from tests.load.storm import run_storm

    phones, changes = args.storm_phones, args.storm_changes
    print(f"bench: reconnect storm, {phones} phones each replaying {changes} queued changes at once ...", flush=True)
    all_cores = os.sched_getaffinity(0)
    if PIN and len(all_cores) > 1:
        os.sched_setaffinity(0, {1})  # the phones run where wrk runs, beside the server's core
    try:
        storm = run_storm(env["DATABASE_URL"], base, phones, changes)
    finally:
        os.sched_setaffinity(0, all_cores)
    if storm.missing or storm.extra or storm.failures:
        sys.exit(f"bench: reconnect storm check failed: {storm.missing} row(s) missing, {storm.extra} too many "
                 f"(doubles or conflicts), failed deliveries: {dict(storm.failures) or 'none'}")
    print(f"bench: {storm.changes} changes applied in {storm.seconds:.1f} s ({storm.changes / storm.seconds:.0f} "
          "changes/s), each stored exactly once (receipt, row, event), no conflicts; removed again", flush=True)
    return measured("reconnect storm (saturation)", f"{phones} phones × {changes} queued changes at once: a start, "
                    "notes, time, parts, checklist answers; keyed POSTs with Accept: application/json, in order per "
                    "phone, each phone its own technician and visit; exactly-once checked", storm.latencies,
                    storm.seconds, errors=0, non2xx=0)


FAULT_MARKER = "Benchmark-felanmälan"


def fault_report_script(tokens: list[str], think_ms: int = 0) -> str:
    """The public report form as a phone sends it (multipart, an empty file field), through a
    random device's sticker, with a fresh submission nonce, answers of its own and its own client address each time
    (X-Forwarded-For from loopback, which the server trusts as from its proxy)."""
    quoted = ",".join(f'"{t}"' for t in tokens)
    fields = [("problems", "other"), ("description", FAULT_MARKER),
              ("where_on_device", "Vänster sida"), ("usable", "partly"), ("can_bring_in", "no"),
              ("needs_replacement", "no"), ("location", "usual"), ("contact_name", "Bench Mätsson"),
              ("contact_phone", "070-174 06 50"), ("webbplats", "")]
    parts = "".join(f'part("{name}", "{value}") .. ' for name, value in fields)
    delay = (f"delay = function() return math.random({think_ms // 2}, {think_ms * 3 // 2}) end"
             if think_ms else "")
    return f"""
local tokens = {{{quoted}}}
local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local boundary = "----RundaBenchBoundary"
local function part(name, value)
  return "--" .. boundary .. "\\r\\nContent-Disposition: form-data; name=\\"" .. name .. "\\"\\r\\n\\r\\n" .. value .. "\\r\\n"
end
local empty_file = "--" .. boundary .. "\\r\\nContent-Disposition: form-data; name=\\"photo\\"; filename=\\"\\"\\r\\n"
  .. "Content-Type: application/octet-stream\\r\\n\\r\\n\\r\\n"
math.randomseed(os.time())
request = function()
  local nonce = {{}}
  for i = 1, 22 do
    local k = math.random(#chars)
    nonce[i] = chars:sub(k, k)
  end
  -- Answers of its own (call times): the same answers twice within half an hour are one case.
  local body = {parts}part("call_times", "Vardagar " .. table.concat(nonce)) .. part("submission", table.concat(nonce)) .. empty_file .. "--" .. boundary .. "--\\r\\n"
  local headers = {{}}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
  headers["X-Forwarded-For"] = "127." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format("POST", "/f/" .. tokens[math.random(#tokens)] .. "/anmal", headers, body)
end
{delay}
"""


def report_faults(env: dict[str, str], base: str, args: argparse.Namespace) -> list[Result]:
    """Public fault reports through random stickers; each accepted one is stored exactly once,
    then the reports (and their rate-limit counters) are removed again."""
    from backend import db
    from backend.cli import _run_with_pool

    async def tokens() -> list[str]:
        rows = await db.fetch("SELECT t.token FROM device_token t JOIN device d ON d.id = t.device "
                              "WHERE t.replaced_at IS NULL AND d.status = 'in_use' ORDER BY t.id")
        return random.Random(1).sample([r["token"] for r in rows], min(2000, len(rows)))

    stickers = _run_with_pool(env["DATABASE_URL"], tokens)
    results = []
    for mode, think in (("users", args.think_ms), ("saturation", 0)):
        print(f"bench: public fault report, {mode}, {args.duration} s with {args.connections} connections ...",
              flush=True)
        results.append(run_wrk(f"fault report ({mode})", "POST /f/<token>/anmal: the public report form "
                               "(multipart) through a random one of 2000 stickers, checked, stored once, "
                               "rate-limited per address and per sticker in PostgreSQL", base,
                               fault_report_script(stickers, think), cookie=None,
                               duration=args.duration, connections=args.connections))

    async def verify_and_clean() -> tuple[int, int]:
        stored = await db.fetchval("SELECT count(*) FROM fault_report WHERE description = $1", FAULT_MARKER)
        doubles = await db.fetchval("SELECT count(*) FROM (SELECT submission_key FROM fault_report "
                                    "GROUP BY submission_key HAVING count(*) > 1) d")
        await db.execute("DELETE FROM fault_report WHERE description = $1", FAULT_MARKER)
        await db.execute("DELETE FROM kv_store WHERE namespace = 'rate_limit' "
                         "AND (key LIKE 'fault-report::%' OR expires_at <= now() + interval '1 minute')")
        return stored, doubles

    stored, doubles = _run_with_pool(env["DATABASE_URL"], verify_and_clean)
    answered = sum(r.requests - r.errors - r.non2xx for r in results)
    # wrk stops counting at the end of a run while the last requests (one per connection) may still be stored.
    in_flight = len(results) * args.connections
    if doubles or not answered <= stored <= answered + in_flight:
        sys.exit(f"bench: fault report check failed: {answered} answered, {stored} stored, {doubles} doubles")
    print(f"bench: {stored} fault reports stored for {answered} answered requests (and up to {in_flight} in "
          "flight when wrk stopped), none twice; removed again", flush=True)
    return results


IMPORT_BUDGET_SECONDS = 30  # ARCHITECTURE.md: importing 80,000 devices


def import_devices(env: dict[str, str]) -> dict:
    """The import of the whole region's devices (80,000 at scale 1), as `runda import` and the import
    page run it: the region's articles and devices written as import files, then imported into an
    empty organisation that has the region's cost bearers, care units and categories. The device
    file's dry run and its apply (one transaction: COPY into staging, merge, FU intervals) are timed,
    and a second dry run of the same file (all unchanged). The organisation is removed afterwards."""
    from backend import db
    from backend.cli import _run_with_pool

    async def work() -> dict:
        from backend.demo.service import delete_organisation
        from backend.imports import service as imports
        from backend.imports.files import export_files
        from tests.integration.imports.support import empty_copy, imported

        source = await db.fetchval("SELECT id FROM organisation WHERE slug = 'vastmanland'")
        files = await export_files(source)
        target = await empty_copy(source, "Bench: import")
        try:
            await imported(target, "articles", files["artiklar.csv"])
            content = files["hjalpmedel.csv"]
            started = time.perf_counter()
            run_id = await imports.dry_run(target, "devices", "hjalpmedel.csv", content, actor_id=None,
                                           actor_name="bench")
            dry_run = time.perf_counter() - started
            await imports.confirm(target, run_id)
            started = time.perf_counter()
            state = await imports.apply(run_id)
            applied = time.perf_counter() - started
            run = await imports.run(target, run_id)
            if state != "applied" or run["refused_rows"]:
                sys.exit(f"bench: the device import did not apply cleanly: {state}, {run['refused_rows']} refused, "
                         f"{run['error']}")
            started = time.perf_counter()
            again = await imports.run(target, await imports.dry_run(target, "devices", "hjalpmedel.csv", content,
                                                                    actor_id=None, actor_name="bench"))
            second = time.perf_counter() - started
            if again["new_rows"] or again["changed_rows"]:
                sys.exit("bench: a second import of the same device file would change rows")
            figures = {"devices": run["new_rows"], "megabytes": len(content) / 1e6, "dry_run": dry_run,
                       "applied": applied, "second": second}
            print(f"bench: {describe_import(figures)[0]}; removing the imported organisation ...", flush=True)
            return figures
        finally:
            await delete_organisation(target)

    print("bench: import of the region's devices into an empty organisation (dry run, apply) ...", flush=True)
    return _run_with_pool(env["DATABASE_URL"], work)


FU_BUDGET_SECONDS = 20  # ARCHITECTURE.md: a year of FU for a region generated


def generate_year_of_fu(env: dict[str, str]) -> dict:
    """Generate a year of FU for the whole region (what falls due from today on), as a coordinator's
    run does it in the job queue's worker: generation.run timed directly, then checked for doubles.
    The orders, their events, the run and the due list it asked for are removed afterwards and the
    order counter put back."""
    from backend import db
    from backend.cli import _run_with_pool

    async def work() -> dict:
        from datetime import timedelta

        from backend.maintenance import generation
        from backend.workdays import today

        organisation = await db.fetchval("SELECT id FROM organisation WHERE slug = 'vastmanland'")
        last_order = await db.fetchval("SELECT coalesce(max(id), 0) FROM work_order")
        counters = await db.fetch("SELECT year, last_number FROM work_order_counter WHERE organisation = $1",
                                  organisation)
        day = today()
        run_id = await generation.create_run(organisation, generation.Period(day, day + timedelta(days=364)),
                                             actor_id=None, actor_name="Benchmark", defer=False)
        try:
            started = time.perf_counter()
            await generation.run(run_id, today=day)
            seconds = time.perf_counter() - started
            run = await generation.run_page(organisation, run_id)
            doubles = await db.fetchval(
                "SELECT count(*) FROM (SELECT 1 FROM work_order WHERE organisation = $1 AND fu_schedule IS NOT NULL "
                "AND status <> 'cancelled' GROUP BY device, fu_schedule, fu_due_date HAVING count(*) > 1) d",
                organisation)
        finally:
            async with db.transaction():
                made = "SELECT id FROM work_order WHERE id > $1 AND organisation = $2 AND channel = 'generated'"
                await db.execute(f"DELETE FROM work_order_event WHERE work_order IN ({made})", last_order, organisation)
                await db.execute(f"DELETE FROM work_order WHERE id IN ({made})", last_order, organisation)
                await db.execute("DELETE FROM fu_generation WHERE id = $1", run_id)
                await db.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'maintenance.refresh_due_of'")
                await db.execute("DELETE FROM work_order_counter WHERE organisation = $1", organisation)
                for counter in counters:
                    await db.execute("INSERT INTO work_order_counter (organisation, year, last_number) "
                                     "VALUES ($1, $2, $3)", organisation, counter["year"], counter["last_number"])
                await db.execute("DELETE FROM fu_due WHERE organisation = $1", organisation)
                await db.execute("DELETE FROM fu_due_state WHERE organisation = $1", organisation)
        if run["state"] != "done" or doubles:
            sys.exit(f"bench: FU generation did not finish cleanly: {run['state']}, {doubles} doubles")
        figures = {"seconds": seconds, "devices": run["done_devices"], "created": run["created"],
                   "existing": run["existing"]}
        print(f"bench: {describe_generation(figures)[0]}; removed again", flush=True)
        return figures

    print("bench: a year of FU for the whole region (generation run) ...", flush=True)
    return _run_with_pool(env["DATABASE_URL"], work)


ROUTING_BUDGET_SECONDS = 10  # ARCHITECTURE.md: a week's plan for 10 technicians solved < 10 s ...
ROUTING_SAVING = 0.15  # ... with at least 15 % less driving than a naive plan
ROUTING_TECHNICIANS, ROUTING_DAYS, ROUTING_VISITS_A_DAY = 10, 5, 8
ROUTING_SOLVE_SECONDS = 7.0  # the search's time limit; building the model and the matrix come on top


def plan_a_week(env: dict[str, str]) -> dict:
    """Route planning on the demo region: 10 technicians x next week's 5 days with ~8 visits each
    from the real FU and repair backlog (the most urgent first, as the planner ranks them), the
    optimised plan against the naive one (orders by due date, each to a technician of the
    patient's municipality, visited in due-date order) on the same distance model, both walked by
    the same schedule.walk_day. Nothing is written."""
    from backend import db
    from backend.cli import _run_with_pool

    async def work() -> dict:
        from dataclasses import replace
        from datetime import timedelta

        from backend.accounts import areas
        from backend.routing import distances, proposals, solver
        from backend.routing.model import Problem
        from backend.workdays import today

        organisation = await db.fetchval("SELECT id FROM organisation WHERE slug = 'vastmanland'")
        technicians = [r["id"] for r in await db.fetch(
            "SELECT id FROM staff_user WHERE organisation = $1 AND role = 'technician' AND active ORDER BY id LIMIT $2",
            organisation, ROUTING_TECHNICIANS)]
        day = today()
        monday = day + timedelta(days=7 - day.weekday())
        days = [monday + timedelta(days=i) for i in range(ROUTING_DAYS)]
        started = time.perf_counter()
        problem, unplannable = await proposals.problem_for(organisation, technicians, days)
        wanted = ROUTING_TECHNICIANS * ROUTING_DAYS * ROUTING_VISITS_A_DAY
        # Free the week: the backlog's visits, none of them locked to a time already.
        chosen = sorted((v for v in problem.visits if v.locked is None),
                        key=lambda v: (-v.priority, v.due or monday + timedelta(days=365), v.order_id))[:wanted]
        problem = Problem(problem.days, problem.technicians, tuple(replace(v, days=None) for v in chosen))
        m = await distances.matrix(solver.places_of(problem))
        loaded = time.perf_counter() - started
        by_bearer = await areas.technicians_by_cost_bearer(organisation)
        bearers = {r["id"]: r["cost_bearer"] for r in await db.fetch(
            "SELECT w.id, p.cost_bearer FROM work_order w JOIN patient p ON p.id = w.patient WHERE w.id = ANY($1::int[])",
            [v.order_id for v in problem.visits])}
        technicians_for = {o: [t for t in by_bearer.get(b, []) if t in technicians] for o, b in bearers.items()}
        naive = solver.naive_plan(problem, m, technicians_for=technicians_for)
        # The same work: the visits the naive plan found room for, planned by the solver.
        placed = {s.order_id for r in naive.routes for s in r.stops}
        same = Problem(problem.days, problem.technicians, tuple(v for v in problem.visits if v.order_id in placed))
        started = time.perf_counter()
        best = solver.solve(same, m, time_limit_s=ROUTING_SOLVE_SECONDS)
        seconds = time.perf_counter() - started
        walked, _ = solver.walk_days(same, solver.days_of(best), m)
        # And all of the week's visits: how much more the solver finds room for.
        started = time.perf_counter()
        everything = solver.solve(problem, m, time_limit_s=ROUTING_SOLVE_SECONDS)
        seconds_all = time.perf_counter() - started
        walked_all, _ = solver.walk_days(problem, solver.days_of(everything), m)
        return {"visits": len(problem.visits), "technicians": len(problem.technicians), "days": len(problem.days),
                "unplannable": len(unplannable), "load_seconds": loaded, "seconds": seconds,
                "seconds_all": seconds_all, "source": m.source,
                "optimised": proposals.figures(replace(walked, unplanned=best.unplanned)),
                "optimised_all": proposals.figures(replace(walked_all, unplanned=everything.unplanned)),
                "naive": proposals.figures(naive)}

    print("bench: route planning, 10 technicians x 5 days, optimised against naive ...", flush=True)
    figures = _run_with_pool(env["DATABASE_URL"], work)
    print("\n".join(describe_routing(figures)), flush=True)
    return figures


def describe_routing(f: dict) -> list[str]:
    o, n, a = f["optimised"], f["naive"], f["optimised_all"]
    saving = 1 - o["km"] / n["km"] if n["km"] else 0.0
    met = ("met" if max(f["seconds"], f["seconds_all"]) < ROUTING_BUDGET_SECONDS and saving >= ROUTING_SAVING
           and o["late"] <= n["late"] and o["unplanned"] == 0 else "NOT met")
    lines = [f"route planning: {f['visits']} visits of the backlog, {f['technicians']} technicians x {f['days']} days "
             f"({f['source']} distances; model and matrix {f['load_seconds']:.1f} s)"]
    rows = (("naive", n, None), ("optimised, the same visits", o, f["seconds"]),
            ("optimised, all the visits", a, f["seconds_all"]))
    for name, x, seconds in rows:
        lines.append(f"  {name:27}: {x['km']:7.1f} km, {x['hours']:6.1f} h, {x['late']:3} late, "
                     f"{x['unplanned']:3} unplanned, {x['visits']:3} planned ({x['km'] / max(1, x['visits']):.1f} km a "
                     f"visit)" + (f", solved in {seconds:.1f} s" if seconds is not None else ""))
    lines.append(f"Budget (ARCHITECTURE.md): a week's plan for 10 technicians solved < {ROUTING_BUDGET_SECONDS} s with "
                 f">= {ROUTING_SAVING:.0%} less driving than naive for the same visits, no more late: {met} "
                 f"(saving {saving:.1%})")
    return lines


def describe_generation(figures: dict) -> list[str]:
    met = "met" if figures["seconds"] < FU_BUDGET_SECONDS else "NOT met"
    return [f"a year of FU for the region: {figures['devices']:,} devices gone through, {figures['created']:,} orders "
            f"made ({figures['existing']:,} had one already) in {figures['seconds']:.1f} s, no doubles",
            f"Budget (ARCHITECTURE.md): a year of FU for a region generated < {FU_BUDGET_SECONDS} s: {met}"]


def describe_import(figures: dict) -> list[str]:
    met = "met" if figures["applied"] < IMPORT_BUDGET_SECONDS else "NOT met"
    return [f"import {figures['devices']:,} devices ({figures['megabytes']:.1f} MB): dry run {figures['dry_run']:.1f} s, "
            f"applied in {figures['applied']:.1f} s, the same file again {figures['second']:.1f} s (all unchanged)",
            f"Budget (ARCHITECTURE.md): importing 80,000 devices < {IMPORT_BUDGET_SECONDS} s: {met}"]


# The access log at scale 1: every read of a patient's data is a row. Västmanland's ~15,000 technical
# orders, 53,000 orders and their visits, lists and triage come to roughly a thousand reads a day.
LOG_READS_PER_DAY = 1000
LOG_YEARS = 5
LOG_WARM_UP_SECONDS = 3
BENCH_READ = "bench_read"  # what the generated reads say they read: removed after the run by it


def log_search(env: dict[str, str], base: str, args: argparse.Namespace) -> list[Result]:
    """The admin's access-log search (/loggkontroll) over five years of reads, generated for the run
    into the log's monthly partitions (each month made first, as the retention job does) and removed
    after it; the searches' own rows (each opening of the log, the patients shown) stay, as they
    would. Searches: the last 30 days, a staff member's year, a patient's five years, a care unit's
    month, a second page."""
    from datetime import date, datetime, timedelta, timezone

    from backend import db
    from backend.audit import partitions
    from backend.workdays import add_months, month_start
    from backend.cli import _run_with_pool

    async def remove_reads() -> None:
        await db.execute("DELETE FROM audit_log WHERE what = $1", BENCH_READ)

    async def generate() -> dict:
        await remove_reads()  # a run that stopped half-way left its reads
        org = await db.fetchval("SELECT min(id) FROM organisation")
        today = date.today()
        first = add_months(month_start(today), -12 * LOG_YEARS)
        month = first
        while month <= today:
            await partitions.ensure_month(month)
            month = add_months(month, 1)
        days = (today - first).days
        started = time.monotonic()
        await db.execute(
            """
            WITH staff AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(role ORDER BY id) AS roles,
                                  array_agg(care_unit ORDER BY id) AS units
                           FROM staff_user WHERE organisation = $1 AND role <> 'admin'),
                 pat AS (SELECT array_agg(id) AS ids FROM patient WHERE organisation = $1)
            INSERT INTO audit_log (organisation, staff_user, role, care_unit, patient, what, at)
            SELECT $1, staff.ids[x.k], staff.roles[x.k], staff.units[x.k], x.patient, $2, x.at
            FROM staff, (SELECT 1 + floor(random() * (SELECT cardinality(ids) FROM staff))::int AS k,
                                pat.ids[1 + floor(random() * cardinality(pat.ids))::int] AS patient,
                                $3::timestamptz + random() * ($4::timestamptz - $3::timestamptz) AS at
                         FROM pat, generate_series(1, $5) g) x
            """,
            org, BENCH_READ, datetime.combine(first, datetime.min.time(), timezone.utc),
            datetime.now(timezone.utc), days * args.log_reads_per_day)
        # Five years of a log are vacuumed and have their statistics (autovacuum's work, month by month);
        # a bulk load of them has neither until told, and autovacuum catching up on 60 partitions would
        # otherwise share the server's core with the searches measured.
        await db.execute("VACUUM (ANALYZE) audit_log")
        seconds = time.monotonic() - started
        admin = await db.fetchval("SELECT min(id) FROM staff_user WHERE organisation = $1 AND role = 'admin' "
                                  "AND active", org)
        staff = [r["id"] for r in await db.fetch(
            "SELECT id FROM staff_user WHERE organisation = $1 AND role <> 'admin' ORDER BY id LIMIT 10", org)]
        patients = [r["id"] for r in await db.fetch(
            "SELECT id FROM patient WHERE organisation = $1 ORDER BY id LIMIT 20", org)]
        units = [r["id"] for r in await db.fetch(
            "SELECT id FROM care_unit WHERE organisation = $1 ORDER BY id LIMIT 5", org)]
        rows = await db.fetchval("SELECT count(*) FROM audit_log WHERE what = $1", BENCH_READ)
        return {"admin": admin, "staff": staff, "patients": patients, "units": units, "rows": rows,
                "seconds": seconds, "today": today, "first": first}

    print(f"bench: access log, generating {LOG_YEARS} years of reads ({args.log_reads_per_day} a day) ...", flush=True)
    found = _run_with_pool(env["DATABASE_URL"], generate)
    print(f"bench: access log, {found['rows']:,} reads generated in {found['seconds']:.1f} s", flush=True)
    today, year_ago = found["today"], found["today"] - timedelta(days=365)
    paths = ["/loggkontroll", "/loggkontroll?sida=2"]
    paths += [f"/loggkontroll?personal={s}&fran={year_ago}&till={today}" for s in found["staff"]]
    paths += [f"/loggkontroll?patient={p}&fran={found['first']}&till={today}" for p in found["patients"]]
    paths += [f"/loggkontroll?enhet={u}" for u in found["units"]]
    cookie = sign_in_as(base, runda(env, "invite", "--staff-user", str(found["admin"])).strip())
    results = []
    try:
        # Warmed up first, unmeasured: a database connection's first search over the five years loads
        # the catalogue entries of sixty partitions and their indexes (~60-140 ms, once per connection
        # for the life of the pool), which a server that has been up a while has long paid.
        print(f"bench: log search, warming up the server's database connections ({LOG_WARM_UP_SECONDS} s) ...",
              flush=True)
        run_wrk("log search (warm-up)", "", base, paths_script(paths, 0), cookie=cookie,
                duration=LOG_WARM_UP_SECONDS, connections=args.connections)
        for mode, think in (("users", args.think_ms), ("saturation", 0)):
            print(f"bench: log search, {mode}, {args.duration} s with {args.connections} connections ...", flush=True)
            results.append(run_wrk(
                f"log search ({mode})", f"GET /loggkontroll?<{len(paths)} searches>: the access log over "
                f"{LOG_YEARS} years ({found['rows']:,} generated reads in monthly partitions): the last 30 days, a "
                "staff member's year, a patient's five years, a care unit's month; each search logged, with a "
                "read of every patient shown", base, paths_script(paths, think), cookie=cookie,
                duration=args.duration, connections=args.connections))
    finally:
        _run_with_pool(env["DATABASE_URL"], remove_reads)
    return results


def report(results: list[Result], args: argparse.Namespace, batch: list[str] | None = None,
           scale: float | None = None) -> list[str]:
    """Print one scale's table; the scenarios that had errors or non-2xx answers."""
    by_name = {r.name: r for r in results}
    baseline_users, baseline_sat = by_name["baseline (users)"], by_name["baseline (saturation)"]
    placement = ("server and PostgreSQL on core 0, wrk on core 1" if PIN
                 else "server, PostgreSQL and wrk sharing both cores")
    print()
    print(f"Runda benchmark: scale {args.scale if scale is None else scale:g}, {args.connections} connections, {args.duration} s per run, "
          f"{args.workers} server worker(s); {placement}")
    print(f"  users:      each connection is a person clicking every {args.think_ms} ms (±50 %): latency as people see it")
    print("  saturation: each connection sends its next request as soon as the answer arrives: maximum throughput")
    print()
    print(f"{'scenario':<30}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}  vs baseline")
    for r in results:
        base = baseline_users if r.name.endswith("(users)") else baseline_sat
        if r.name.endswith("process)") or r.name.endswith("processes)"):
            if r.name.startswith("technician day ("):
                print(f"\nprocesses: web processes on both cores, shared with PostgreSQL and wrk (saturation)")
            base = by_name["baseline (" + r.name.split(" (", 1)[1]]
        if r is base:
            ratio = "-"
        elif r.name.endswith("(users)"):
            ratio = f"p95 {r.p95 / base.p95:.2f}x"
        else:
            ratio = f"req/s {r.rps / base.rps:.2f}x"
        print(f"{r.name:<30}{r.rps:>8.0f}{r.p50:>9.1f}{r.p95:>9.1f}{r.p99:>9.1f}{r.errors + r.non2xx:>8}  {ratio}")
    print()
    with_users_run = {r.name.removesuffix(" (users)") for r in results if r.name.endswith("(users)")}
    for r in results:
        short = r.name.removesuffix(" (users)").removesuffix(" (saturation)")
        if (r.name.endswith("(users)") or short not in with_users_run) and r.what:
            print(f"  {short}: {r.what}")
    print()
    over = [r.name for r in results if r.name.endswith("(users)") and r.p95 >= 50]
    for line in batch or []:
        print(line)
    print("Budget (ARCHITECTURE.md): daily pages p95 < 50 ms with 50 concurrent users on 2 cores: "
          + ("met" if not over else f"NOT met by {', '.join(over)}"))
    return [r.name for r in results if r.errors or r.non2xx]



DAILY_P95_MS, DAILY_P99_MS, FLAT_RATIO, THROUGHPUT_SHARE = 50, 100, 1.25, 0.5  # issue 20's budgets


def compare(small: list[Result], large: list[Result], small_scale: float, large_scale: float,
            args: argparse.Namespace) -> None:
    """Every daily page at both scales side by side: with people clicking (p95, p99 and the p95's ratio)
    and at saturation (requests per second, and against the same scale's no-database baseline)."""
    a = {r.name: r for r in small}
    b = {r.name: r for r in large}
    s1, s2 = f"scale {small_scale:g}", f"scale {large_scale:g}"
    print()
    print(f"Daily pages at {s1} and {s2} ({args.connections} people clicking every {args.think_ms} ms ±50 %; "
          "server and PostgreSQL on core 0)")
    print(f"{'page':<24}{s1 + ' p95':>13}{'p99':>8}{s2 + ' p95':>14}{'p99':>8}{'p95 ratio':>11}  budget "
          f"(p95 <= {DAILY_P95_MS}, p99 <= {DAILY_P99_MS} ms, ratio <= {FLAT_RATIO})")
    missed = []
    for name, x in a.items():
        if not name.endswith("(users)") or name.startswith("baseline") or name not in b:
            continue
        y = b[name]
        ratio = y.p95 / x.p95 if x.p95 else 0.0
        ok = y.p95 <= DAILY_P95_MS and y.p99 <= DAILY_P99_MS and ratio <= FLAT_RATIO
        if not ok:
            missed.append(name.removesuffix(" (users)"))
        print(f"{name.removesuffix(' (users)'):<24}{x.p95:>13.1f}{x.p99:>8.1f}{y.p95:>14.1f}{y.p99:>8.1f}"
              f"{ratio:>10.2f}x  {'met' if ok else 'NOT met'}")
    print()
    print(f"{'page (saturation)':<24}{s1 + ' req/s':>15}{'x base':>8}{s2 + ' req/s':>16}{'x base':>8}")
    base_a, base_b = a["baseline (saturation)"], b["baseline (saturation)"]
    for name, x in a.items():
        if not name.endswith("(saturation)") or name not in b:
            continue
        y = b[name]
        print(f"{name.removesuffix(' (saturation)'):<24}{x.rps:>15.0f}{x.rps / base_a.rps:>7.2f}x"
              f"{y.rps:>16.0f}{y.rps / base_b.rps:>7.2f}x")
    short = [name for name in ("technician day", "visit page")
             if f"{name} (saturation)" in b and b[f"{name} (saturation)"].rps / base_b.rps < THROUGHPUT_SHARE]
    print()
    print(f"Budget (issue 20): every daily page at {s2} p95 <= {DAILY_P95_MS} ms, p99 <= {DAILY_P99_MS} ms and within "
          f"{FLAT_RATIO}x its p95 at {s1}: " + ("met" if not missed else f"NOT met by {', '.join(missed)}"))
    print(f"Budget (issue 20): technician day and visit page >= {THROUGHPUT_SHARE}x the baseline's requests per second: "
          + ("met" if not short else f"NOT met by {', '.join(short)}"))


if __name__ == "__main__":
    main()
