"""The `runda` command: serve, worker, migrate, demo, invite, prune-receipts, and `dev` (what `make run` runs).

Every failure an operator can cause (bad configuration, unreachable database,
port in use, unmigrated database, bad arguments) ends with one line on stderr
and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from backend import db
from backend.accounts.tables import ROLE_LABELS, Role
from backend.settings import ConfigError, DatabaseSettings, PoolSettings, Settings


class CommandError(Exception):
    """A command cannot go on; the message is one line for the operator."""


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        sys.exit(2)
    # SIGTERM unwinds like Ctrl-C, so the embedded PostgreSQL server is stopped.
    signal.signal(signal.SIGTERM, _terminate)
    try:
        args.run(args)
    except (ConfigError, db.DatabaseError, CommandError) as exc:
        print(f"runda: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    from backend.demo.service import regions_of  # the demo's own rule: up to 1, or whole regions up to 35

    try:
        regions_of(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _receipt_days(text: str) -> int:
    from backend.sync.service import RECEIPT_DAYS

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < RECEIPT_DAYS:
        raise argparse.ArgumentTypeError(f"must be at least {RECEIPT_DAYS}: a phone may replay its changes for weeks")
    return value


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be between 1 and 64, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runda", description="Runda: fältservice för hjälpmedelscentralen")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="start the web server")
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    serve.set_defaults(run=cmd_serve)

    worker = sub.add_parser("worker", help="run the background jobs (FU generation, notices, upkeep) until stopped")
    worker.add_argument("--concurrency", type=_concurrency, default=os.environ.get("WORKER_CONCURRENCY", "4"),
                        help="jobs at once (default: WORKER_CONCURRENCY, else 4)")
    worker.add_argument("--once", action="store_true", help="run the jobs that are ready now, then exit")
    worker.add_argument("--no-periodic", action="store_true",
                        help="defer no periodic jobs (other workers do); run the jobs in the queue only")
    worker.set_defaults(run=cmd_worker)

    migrate = sub.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(run=cmd_migrate)

    demo = sub.add_parser("demo", help="load a realistic demo region")
    demo.add_argument("--scale", type=_scale, default=1.0,
                      help="1 = Region Västmanland (default); below 1 a part of it; N above 1 = N regions of its "
                           "size (35: the whole country)")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--if-empty", action="store_true", help="do nothing when the database holds data")
    demo.set_defaults(run=cmd_demo)

    invite = sub.add_parser("invite", help="print a one-time invitation link to register a passkey")
    invite.add_argument("--role", choices=[r.value for r in Role])
    invite.add_argument("--name", help="the person's name (for a new person)")
    invite.add_argument("--care-unit", type=int, help="care unit id (prescribers)")
    invite.add_argument("--staff-user", type=int, help="an existing person's id: a new passkey (recovery)")
    invite.add_argument("--organisation", help="organisation slug (default: the only one)")
    invite.add_argument("--hours", type=int, default=72)
    invite.set_defaults(run=cmd_invite)

    prune = sub.add_parser("prune-receipts", help="forget receipts of keyed writes older than --days "
                           "(a worker also does this every hour)")
    prune.add_argument("--days", type=_receipt_days, help="at least 30; by default 90, as the worker keeps them")
    prune.set_defaults(run=cmd_prune_receipts)

    imports = sub.add_parser("import", help="import a CSV file from the business system (webSesam/SESAM): "
                             "articles, devices, patients or loans; a dry run first, then applied")
    imports.add_argument("kind", choices=["articles", "devices", "patients", "loans"])
    imports.add_argument("file", help="the CSV file (; separated, UTF-8 or Windows-1252)")
    imports.add_argument("--dry-run", action="store_true", help="only show what would change; write nothing")
    imports.add_argument("--organisation", help="organisation slug (default: the only one)")
    imports.set_defaults(run=cmd_import)

    export_files = sub.add_parser("export-import-files", help="write the organisation's articles, patients, "
                                  "devices and loans as import files (the example files, a move elsewhere)")
    export_files.add_argument("dir", help="folder to write artiklar.csv, patienter.csv, hjalpmedel.csv, lan.csv in")
    export_files.add_argument("--organisation", help="organisation slug (default: the only one)")
    export_files.add_argument("--limit", type=int, help="only this many devices on loan, with what they need")
    export_files.add_argument("--windows-1252", action="store_true", help="Windows-1252 instead of UTF-8 with BOM")
    export_files.set_defaults(run=cmd_export_import_files)

    dev = sub.add_parser("dev", help="migrate, load the demo if empty, print sign-in links, serve and run a worker")
    dev.add_argument("--scale", type=_scale, default=1.0)
    dev.set_defaults(run=cmd_dev)
    return parser


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """A URL to a reachable database: DATABASE_URL's, or the embedded server's."""
    if settings.database_url:
        asyncio.run(db.check_reachable(settings.database_url))
        yield settings.database_url
    else:
        with db.embedded_server(settings.data_dir) as url:
            yield url


def _run_with_pool(url: str, work) -> object:
    # A one-off command's pool: through the pooler if there is one, no statement timeout.
    pool = DatabaseSettings.from_env().command()

    async def run() -> object:
        db.configure(url, pool)
        await db.start_pool()
        try:
            return await work()
        finally:
            await db.close_pool()

    return asyncio.run(run())


def cmd_migrate(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    with database(settings) as url:
        applied = _run_with_pool(url, db.migrate)
    print(f"runda: {len(applied)} migration(s) applied; the database is up to date")


def cmd_prune_receipts(args: argparse.Namespace) -> None:
    from backend.sync.service import RECEIPT_KEEP_DAYS, prune_receipts

    settings = Settings.from_env()
    days = args.days or RECEIPT_KEEP_DAYS
    with database(settings) as url:
        removed = _run_with_pool(url, lambda: prune_receipts(days))
    if removed is None:
        print("runda: another process is pruning receipts right now; nothing done")
    else:
        print(f"runda: {removed} receipt(s) older than {days} days removed")


def cmd_demo(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    with database(settings) as url:
        _load_demo(url, args.scale, args.seed, args.if_empty)


def _load_demo(url: str, scale: float, seed: int, if_empty: bool) -> None:
    from backend.demo.service import database_is_empty, load_demo

    async def work() -> None:
        await db.ensure_migrated()
        if not await database_is_empty():
            if if_empty:
                print("runda: the database already holds data; demo not loaded")
                return
            raise CommandError("the database already holds data; the demo loads only into an empty database")
        what = "the demo region" if scale <= 1 else f"{scale:g} demo regions"
        print(f"runda: loading {what} at scale {scale:g} (seed {seed})")
        summary = await load_demo(scale=scale, seed=seed, progress=lambda line: print(f"  {line}", flush=True))
        print(f"runda: demo loaded in {summary.seconds:.1f} s")

    _run_with_pool(url, work)


def cmd_serve(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    _serve(settings, args.workers)


# `runda dev` hands its worker its own process id: the worker stops when dev is gone (killed too).
PARENT_ENV = "RUNDA_WORKER_PARENT"


def cmd_worker(args: argparse.Namespace) -> None:
    from backend import logs

    settings = Settings.from_env()
    logs.configure(settings.log_level)
    pool = settings.database.worker(args.concurrency)
    if settings.database.worker_url:  # straight to PostgreSQL, past the web's pooler
        asyncio.run(db.check_reachable(settings.database.worker_url))
        asyncio.run(_work(settings.database.worker_url, pool, args.concurrency, once=args.once,
                          periodic=not args.no_periodic))
        return
    with database(settings) as url:
        asyncio.run(_work(url, pool, args.concurrency, once=args.once, periodic=not args.no_periodic))


async def _work(url: str, pool: PoolSettings, concurrency: int, *, once: bool, periodic: bool) -> None:
    from backend.jobs import queue

    pooled = pool.pooler == "transaction"
    db.configure(url, pool)
    await db.start_pool()
    try:
        await db.ensure_migrated()
        async with queue.opened(url, max_size=concurrency + 4, through_pooler=pooled):
            # LISTEN does not pass a transaction pooler: there the worker finds new jobs by polling.
            worker = queue.worker(concurrency=concurrency, once=once, periodic=periodic,
                                  install_signal_handlers=not once, listen=not pooled)
            if once:
                await worker.run()
                print("runda: the jobs that were ready have run; none is ready now")
                return
            print(f"runda: worker running {concurrency} job(s) at once on {db.describe(url)}"
                  f"{' (through the pooler: polling for new jobs)' if pooled else ''}; "
                  "SIGTERM or Ctrl-C stops it after the running jobs", flush=True)
            parent = os.environ.get(PARENT_ENV)
            watching = asyncio.create_task(_stop_with_parent(int(parent), worker)) if parent else None
            try:
                await worker.run()
            finally:
                if watching:
                    watching.cancel()
            print("runda: worker stopped", flush=True)
    finally:
        await db.close_pool()


async def _stop_with_parent(parent: int, worker) -> None:
    while os.getppid() == parent:
        await asyncio.sleep(1)
    worker.stop()


class WorkerBeside:
    """`runda worker` as a child of `runda dev`, on the same database, so a newcomer's one command
    also runs the background jobs. It is in a session of its own (Ctrl-C reaches dev, which stops
    it after the web server); should it stop by itself, dev says so and starts it again, and gives
    up (stopping dev) when it keeps stopping."""

    RESTARTS = 3  # within WITHIN seconds, then give up
    WITHIN = 60.0

    def __init__(self, url: str) -> None:
        self.env = {**os.environ, "DATABASE_URL": url, PARENT_ENV: str(os.getpid())}
        self.process: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.gave_up = False
        self.deaths: list[float] = []
        self.thread = threading.Thread(target=self._watch, name="worker-watch", daemon=True)

    def start(self) -> None:
        self.process = self._spawn()
        self.thread.start()

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "backend", "worker", "--concurrency", "2"], env=self.env,
                                stdout=subprocess.DEVNULL, start_new_session=True)

    def _watch(self) -> None:
        while True:
            assert self.process is not None
            code = self.process.wait()
            if self.stopping.is_set():
                return
            now = time.monotonic()
            self.deaths = [t for t in self.deaths if now - t < self.WITHIN] + [now]
            if len(self.deaths) > self.RESTARTS:
                self.gave_up = True
                print(f"runda: error: the background worker keeps stopping (exit code {code}); see its log above. "
                      "Stopping.", file=sys.stderr, flush=True)
                os.kill(os.getpid(), signal.SIGTERM)
                return
            print(f"runda: the background worker stopped (exit code {code}); FU generation, notices and "
                  "upkeep wait until it runs. Starting it again.", file=sys.stderr, flush=True)
            if self.stopping.wait(2 ** len(self.deaths)):
                return
            self.process = self._spawn()

    def stop(self) -> None:
        self.stopping.set()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def worker_beside(url: str) -> Iterator[WorkerBeside]:
    worker = WorkerBeside(url)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def cmd_dev(args: argparse.Namespace) -> None:
    os.environ.setdefault("RUNDA_DEV", "1")
    settings = Settings.from_env()
    _check_port(settings.host, settings.port)
    with database(settings) as url:
        applied = _run_with_pool(url, db.migrate)
        if applied:
            print(f"runda: {len(applied)} migration(s) applied")
        _load_demo(url, args.scale, seed=1, if_empty=True)
        with worker_beside(url):
            _print_sign_in(url, settings)
            _serve(settings, workers=1, url=url)


def cmd_invite(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    if args.staff_user is None and not (args.role and args.name):
        raise CommandError("give --role and --name for a new person, or --staff-user for a new passkey")

    async def work() -> str:
        from backend.accounts.service import AccountError, create_invitation, staff_member

        # A new passkey for an existing person: their organisation, unless another was named.
        person = await staff_member(args.staff_user) if args.staff_user is not None and not args.organisation else None
        organisation = person["organisation"] if person else await _organisation(args.organisation)
        try:
            token, _ = await create_invitation(
                organisation_id=organisation, name=args.name or "", role=args.role or "",
                care_unit_id=args.care_unit, staff_user_id=args.staff_user, hours=args.hours,
            )
        except AccountError as exc:
            raise CommandError(f"{exc.message} ({exc.field})") from None
        return f"{settings.public_origin}/inbjudan/{token}"

    with database(settings) as url:
        print(_run_with_pool(url, work))


async def _organisation(slug: str | None) -> int:
    from backend.organisations.service import organisation_slugs

    rows = await organisation_slugs()
    if slug:
        rows = [r for r in rows if r["slug"] == slug]
    if not rows:
        raise CommandError("no such organisation" if slug else "the database has no organisation; run `runda demo`")
    if len(rows) > 1:
        raise CommandError("several organisations: choose one with --organisation SLUG")
    return rows[0]["id"]


IMPORT_ACTOR = "Kommandoraden (runda import)"


def cmd_import(args: argparse.Namespace) -> None:
    """Dry-run the file, print its counts and every refused line, then (without --dry-run) apply it
    in one transaction, as the import page does."""
    from pathlib import Path

    from backend.imports import service as imports

    settings = Settings.from_env()
    path = Path(args.file)
    try:
        if path.stat().st_size > imports.MAX_BYTES:
            raise CommandError(f"{args.file} is larger than {imports.MAX_BYTES // (1024 * 1024)} MB; split it")
        content = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}") from None

    async def work() -> None:
        from backend.errors import DomainError

        await db.ensure_migrated()
        organisation = await _organisation(args.organisation)
        try:
            run_id = await imports.dry_run(organisation, args.kind, path.name, content, actor_id=None,
                                           actor_name=IMPORT_ACTOR)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        run = await imports.run(organisation, run_id)
        print(f"runda: dry run of {path.name} ({args.kind}, {run['rows_read']} rows): {imports.summary(run)}")
        for line, reason in await imports.refused_lines(organisation, run_id):
            print(f"  rad {line}: {reason}")
        if args.dry_run:
            print(f"runda: dry run only (import {run_id}); nothing written")
            return
        if not run["confirmable"]:
            print("runda: nothing to import: no new or changed rows")
            return
        await imports.confirm(organisation, run_id)
        print("runda: applying in one transaction ...", flush=True)
        state = await imports.apply(run_id)
        run = await imports.run(organisation, run_id)
        if state != "applied":
            raise CommandError(f"the import failed and wrote nothing: {run['error']}")
        print(f"runda: imported {path.name} (import {run_id}): {imports.summary(run)}")

    with database(settings) as url:
        _run_with_pool(url, work)


def cmd_export_import_files(args: argparse.Namespace) -> None:
    from pathlib import Path

    settings = Settings.from_env()
    if args.limit is not None and args.limit < 1:
        raise CommandError("--limit must be at least 1")

    async def work() -> dict[str, bytes]:
        from backend.imports.files import export_files

        await db.ensure_migrated()
        organisation = await _organisation(args.organisation)
        try:
            return await export_files(organisation, limit=args.limit,
                                      encoding="cp1252" if args.windows_1252 else "utf-8-sig")
        except UnicodeEncodeError:
            raise CommandError("a name cannot be written in Windows-1252; leave out --windows-1252") from None

    with database(settings) as url:
        files = _run_with_pool(url, work)
    folder = Path(args.dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (folder / name).write_bytes(content)
    except OSError as exc:
        raise CommandError(f"cannot write to {args.dir}: {exc.strerror}") from None
    print(f"runda: wrote {', '.join(files)} to {folder}")


def _print_sign_in(url: str, settings: Settings) -> None:
    """One invitation link per role, for the demo region's first person in each."""

    async def work() -> list[tuple[str, str, str]]:
        from backend.accounts.service import create_invitation, first_active_staff_by_role

        links = []
        for row in await first_active_staff_by_role():
            token, _ = await create_invitation(
                organisation_id=row["organisation"], name=row["name"], role=row["role"], staff_user_id=row["id"]
            )
            links.append((ROLE_LABELS[Role(row["role"])], row["name"], f"{settings.public_origin}/inbjudan/{token}"))
        return links

    order = [ROLE_LABELS[r] for r in Role]
    links = sorted(_run_with_pool(url, work), key=lambda link: order.index(link[0]))
    print()
    print(f"Runda is running at {settings.public_origin}  (Ctrl-C stops it)")
    print("A worker runs the background jobs beside it (FU generation, notices, upkeep); admins follow")
    print(f"them at {settings.public_origin}/admin/jobb.")
    print()
    print("Sign in: open a link below, create a passkey on this device (or, on a computer without")
    print("one, choose \"Fortsätt utan passkey (endast utveckling)\"). Each link works once, for 72 hours;")
    print("restarting `make run` prints new ones.")
    print()
    for label, name, link in links:
        print(f"  {label:<14} {name:<24} {link}")
    print()
    from backend.faults.service import example_report_link

    report_link = _run_with_pool(url, lambda: example_report_link(settings.public_origin))
    if report_link:
        print("Fault report without an account: the link in a device's QR sticker (open it signed out):")
        print(f"  {'Felanmälan':<14} {'Elrullstol':<24} {report_link}")
        print()
    sys.stdout.flush()


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandError(f"port {port} on {host} is already in use; stop the other server or set PORT") from None
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _serve(settings: Settings, workers: int, url: str | None = None) -> None:
    import uvicorn

    if workers < 1:
        raise CommandError("--workers must be at least 1")
    _check_port(settings.host, settings.port)
    if url is None:
        with database(settings) as url:
            _serve(settings, workers, url)
        return
    _run_with_pool(url, db.ensure_migrated)
    # Worker processes build the app from the environment: hand them the database.
    os.environ["DATABASE_URL"] = url
    uvicorn.run(
        "backend.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )
