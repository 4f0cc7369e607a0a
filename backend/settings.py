"""One frozen settings object, read from the environment once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Only ever used when development mode is on; production refuses to start without SECRET_KEY.
_DEV_SECRET = "runda-development-secret-not-for-production-use-000000"


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int_setting(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def routing_table_url(env: dict[str, str] | None = None) -> str | None:
    """ROUTING_TABLE_URL: an OSRM-compatible table service (e.g. http://osrm.region.internal:5000),
    or None for the straight-line model (backend/routing/distances.py)."""
    env = os.environ if env is None else env
    url = (env.get("ROUTING_TABLE_URL") or "").strip().rstrip("/")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"ROUTING_TABLE_URL must look like http://osrm.example.se:5000, got {url!r}")
    return url


# The HMC's depot, where a technician nobody has described starts and ends the day: the seed
# centre's in Västerås unless ROUTING_DEPOT says "latitude,longitude".
DEFAULT_ROUTING_DEPOT = (59.6162, 16.4981)


def routing_depot(env: dict[str, str] | None = None) -> tuple[float, float]:
    """ROUTING_DEPOT="59.6162,16.4981": the depot's coordinates for route planning."""
    env = os.environ if env is None else env
    value = (env.get("ROUTING_DEPOT") or "").strip()
    if not value:
        return DEFAULT_ROUTING_DEPOT
    try:
        latitude, longitude = (float(part) for part in value.split(","))
    except ValueError:
        raise ConfigError(f"ROUTING_DEPOT must look like 59.6162,16.4981, got {value!r}") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ConfigError(f"ROUTING_DEPOT is not a place on Earth: {value!r}")
    return latitude, longitude


def audit_retention_years(env: dict[str, str] | None = None) -> int:
    """AUDIT_RETENTION_YEARS: how long the access log is kept before its months are dropped
    (backend/audit/partitions.py); at least five years (HSLF-FS 2016:40), default five."""
    return _int_setting(dict(os.environ if env is None else env), "AUDIT_RETENTION_YEARS", 5, 5, 100)


@dataclass(frozen=True)
class OutboundSettings:
    """Where notices to patients go (backend/notices/channels.py): e-mail through SMTP, SMS through
    an HTTP gateway. A channel without its settings, and every channel in development, goes to the
    dev outbox instead (the outbound_message table, read at /admin/utkorg): nothing leaves the machine."""

    development: bool = False
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = ""
    smtp_starttls: bool = True
    sms_gateway_url: str = ""
    sms_gateway_token: str = field(default="", repr=False)
    # Seconds to wait for the SMTP server or the SMS gateway before the attempt counts as failed.
    send_timeout_seconds: int = 15

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> OutboundSettings:
        env = dict(os.environ if env is None else env)
        host = (env.get("SMTP_HOST") or "").strip()
        sender = (env.get("SMTP_FROM") or "").strip()
        if host and "@" not in sender:
            raise ConfigError("SMTP_FROM must be the sender's e-mail address when SMTP_HOST is set")
        gateway = (env.get("SMS_GATEWAY_URL") or "").strip()
        if gateway:
            parts = urlsplit(gateway)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ConfigError(f"SMS_GATEWAY_URL must look like https://sms.example.se/send, got {gateway!r}")
            if parts.scheme == "http" and parts.hostname not in {"localhost", "127.0.0.1"}:
                raise ConfigError("SMS_GATEWAY_URL must use https unless it is localhost")
        return cls(
            development=_flag(env.get("RUNDA_DEV")),
            smtp_host=host,
            smtp_port=_int_setting(env, "SMTP_PORT", 587, 1, 65535),
            smtp_user=env.get("SMTP_USER") or "",
            smtp_password=env.get("SMTP_PASSWORD") or "",
            smtp_from=sender,
            smtp_starttls=_flag(env.get("SMTP_STARTTLS", "1")),
            sms_gateway_url=gateway,
            sms_gateway_token=env.get("SMS_GATEWAY_TOKEN") or "",
            send_timeout_seconds=_int_setting(env, "OUTBOUND_TIMEOUT_SECONDS", 15, 1, 300),
        )


# What may sit between Runda and PostgreSQL (DATABASE_POOLER): nothing, or a pooler such as PgBouncer
# in transaction mode, which hands each transaction whatever server connection is free.
POOLERS = ("none", "transaction")


@dataclass(frozen=True)
class PoolSettings:
    """How one process's pool talks to PostgreSQL (backend/db.py): its size, the longest a
    statement may run (0: no limit of Runda's own), and whether a transaction pooler sits between."""

    size: int = 10
    statement_timeout_ms: int = 0
    pooler: str = "none"


@dataclass(frozen=True)
class DatabaseSettings:
    """The connections to PostgreSQL: the web server's pool, the worker's, and what sits between.

    The defaults are what Runda did before these settings existed, except that a web request's
    statement stops after 30 s: nothing a page does should take that long, and a runaway query
    then ends instead of holding a connection (and its locks) until the client gives up."""

    # DATABASE_POOLER: "transaction" when DATABASE_URL leads to a transaction-mode pooler.
    pooler: str = "none"
    # DATABASE_POOL_SIZE: connections per `runda serve` process (WEB_CONCURRENCY multiplies it).
    pool_size: int = 10
    # DATABASE_STATEMENT_TIMEOUT_MS: the web server's statements; 0: none of Runda's own.
    statement_timeout_ms: int = 30_000
    # WORKER_DATABASE_URL: the worker's own way to PostgreSQL, past the pooler (LISTEN/NOTIFY wakes
    # it at once there); None: DATABASE_URL, through the pooler if there is one, polling for jobs.
    worker_url: str | None = field(default=None, repr=False)
    # WORKER_DATABASE_POOL_SIZE: the worker's pool for the jobs' own queries; None: its concurrency + 2.
    worker_pool_size: int | None = None
    # WORKER_STATEMENT_TIMEOUT_MS: jobs generate a year of FU orders, import registers, refresh
    # KPIs: long statements are their job, so by default none of Runda's own.
    worker_statement_timeout_ms: int = 0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> DatabaseSettings:
        env = dict(os.environ if env is None else env)
        pooler = (env.get("DATABASE_POOLER") or "none").strip().lower()
        if pooler not in POOLERS:
            raise ConfigError(f"DATABASE_POOLER must be one of {', '.join(POOLERS)}, "
                              f"got {env.get('DATABASE_POOLER')!r}")
        if pooler != "none" and not env.get("DATABASE_URL"):
            raise ConfigError("DATABASE_POOLER is set, but DATABASE_URL is not: the embedded server has no pooler")
        worker_url = (env.get("WORKER_DATABASE_URL") or "").strip() or None
        if worker_url:
            if not env.get("DATABASE_URL"):
                raise ConfigError("WORKER_DATABASE_URL is set, but DATABASE_URL is not: set both to the same database")
            if urlsplit(worker_url).scheme not in {"postgres", "postgresql"}:
                raise ConfigError("WORKER_DATABASE_URL must look like postgresql://runda:secret@db.example.se/runda")
        worker_pool = env.get("WORKER_DATABASE_POOL_SIZE")
        return cls(
            pooler=pooler,
            pool_size=_int_setting(env, "DATABASE_POOL_SIZE", 10, 1, 1000),
            statement_timeout_ms=_int_setting(env, "DATABASE_STATEMENT_TIMEOUT_MS", 30_000, 0, 86_400_000),
            worker_url=worker_url,
            worker_pool_size=_int_setting(env, "WORKER_DATABASE_POOL_SIZE", 0, 1, 1000) if worker_pool else None,
            worker_statement_timeout_ms=_int_setting(env, "WORKER_STATEMENT_TIMEOUT_MS", 0, 0, 86_400_000),
        )

    def web(self) -> PoolSettings:
        """The pool of one `runda serve` process."""
        return PoolSettings(size=self.pool_size, statement_timeout_ms=self.statement_timeout_ms, pooler=self.pooler)

    def worker(self, concurrency: int) -> PoolSettings:
        """The pool of one `runda worker` running `concurrency` jobs at once. WORKER_DATABASE_URL
        is taken to reach PostgreSQL directly (that is what it is for)."""
        return PoolSettings(size=self.worker_pool_size or concurrency + 2,
                            statement_timeout_ms=self.worker_statement_timeout_ms,
                            pooler="none" if self.worker_url else self.pooler)

    def command(self) -> PoolSettings:
        """The pool of a one-off command (migrate, demo, prune-receipts): small, and no limit on a
        statement (a migration or the demo's COPY may run long)."""
        return PoolSettings(size=4, statement_timeout_ms=0, pooler=self.pooler)


_OIDC_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class OidcSettings:
    """Sign-in through the region's identity provider (OpenID Connect; backend/accounts/oidc.py).
    Absent (None on Settings) unless OIDC_ISSUER is set: then only passkeys, as before."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False, default="")
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    # Which ID-token claims carry what Runda needs (Inera's IdP and Entra name them differently).
    claim_hsa_id: str = "hsa_id"
    claim_name: str = "name"
    claim_email: str = "email"
    claim_commission: str = "commission"
    # Create an account on first sign-in from an admin's commission -> role mapping. Off: only
    # people an admin registered or invited get in (see the README on the risk).
    auto_create: bool = False
    # Seconds of clock difference tolerated between Runda and the provider (exp, iat, nbf).
    leeway_seconds: int = 60
    # Seconds to wait for the provider (discovery, keys, token endpoint).
    timeout_seconds: int = 10
    # What the sign-in button calls the provider, e.g. "SITHS-kort".
    label: str = "regionens inloggning"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> OidcSettings | None:
        env = dict(os.environ if env is None else env)
        # Kept exactly as given: the ID token's `iss` must equal it, trailing slash and all.
        issuer = (env.get("OIDC_ISSUER") or "").strip()
        if not issuer:
            stray = sorted(k for k, v in env.items() if k.startswith("OIDC_") and v)
            if stray:
                raise ConfigError(f"OIDC_ISSUER is not set, but {', '.join(stray)} is: set it or remove them")
            return None
        parts = urlsplit(issuer)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(f"OIDC_ISSUER must look like https://idp.region.se/oidc, got {issuer!r}")
        if parts.scheme == "http" and parts.hostname not in _OIDC_LOCAL_HOSTS:
            raise ConfigError("OIDC_ISSUER must use https unless it is localhost")
        client_id = (env.get("OIDC_CLIENT_ID") or "").strip()
        if not client_id:
            raise ConfigError("OIDC_CLIENT_ID is not set: the client id the region registered for Runda")
        secret = env.get("OIDC_CLIENT_SECRET") or ""
        if not secret:
            raise ConfigError("OIDC_CLIENT_SECRET is not set: the client secret the region issued for Runda")
        scopes = tuple((env.get("OIDC_SCOPES") or "openid profile email").split())
        if "openid" not in scopes:
            raise ConfigError(f"OIDC_SCOPES must include openid, got {' '.join(scopes)!r}")
        claims = {}
        for name, default in (("HSA_ID", "hsa_id"), ("NAME", "name"), ("EMAIL", "email"),
                              ("COMMISSION", "commission")):
            value = (env.get(f"OIDC_CLAIM_{name}") or default).strip()
            if not value.replace("_", "").replace("-", "").replace(":", "").replace("/", "").replace(".", "").isalnum():
                raise ConfigError(f"OIDC_CLAIM_{name} must be a claim name, got {value!r}")
            claims[f"claim_{name.lower()}"] = value
        label = " ".join((env.get("OIDC_LABEL") or "regionens inloggning").split())[:60]
        return cls(
            issuer=issuer, client_id=client_id, client_secret=secret, scopes=scopes, **claims,
            auto_create=_flag(env.get("OIDC_AUTO_CREATE")),
            leeway_seconds=_int_setting(env, "OIDC_LEEWAY_SECONDS", 60, 0, 600),
            timeout_seconds=_int_setting(env, "OIDC_TIMEOUT_SECONDS", 10, 1, 120),
            label=label,
        )


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    secret_key: str = _DEV_SECRET
    public_origin: str = "http://localhost:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    development: bool = False
    data_dir: Path = field(default=PROJECT_ROOT / ".runda")
    log_level: str = "INFO"
    session_idle_minutes: int = 60 * 10
    session_absolute_hours: int = 24 * 7
    # Fittings: how soon a time may be booked, and how far ahead.
    fitting_min_notice_hours: int = 24
    fitting_horizon_days: int = 90
    # Sign-in, invitation and public fault-report posts per minute and client address.
    rate_limit_per_minute: int = 30
    # Notices: SMTP and the SMS gateway (the dev outbox when unset or in development).
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    # Route planning: an OSRM-compatible table service; None: straight line x circuity.
    routing_table_url: str | None = None
    # Where undescribed technicians start and end the day (read here so a bad value stops the start).
    routing_depot: tuple[float, float] = DEFAULT_ROUTING_DEPOT
    # Sign-in through the region's identity provider; None: passkeys only.
    oidc: OidcSettings | None = None
    # Pool sizes, statement timeouts, a pooler in front, the worker's own URL.
    database: DatabaseSettings = field(default_factory=DatabaseSettings)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        development = _flag(env.get("RUNDA_DEV"))
        try:
            port = int(env.get("PORT", "8000"))
        except ValueError:
            raise ConfigError(f"PORT must be a number, got {env.get('PORT')!r}") from None
        if not 0 < port < 65536:
            raise ConfigError(f"PORT must be between 1 and 65535, got {port}")
        secret = env.get("SECRET_KEY") or ""
        if not secret:
            if not development:
                raise ConfigError("SECRET_KEY is not set; set it (32+ random characters) or RUNDA_DEV=1")
            secret = _DEV_SECRET
        elif len(secret) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters long")
        origin = (env.get("PUBLIC_ORIGIN") or f"http://localhost:{port}").rstrip("/")
        parts = urlsplit(origin)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path:
            raise ConfigError(f"PUBLIC_ORIGIN must look like https://runda.example.se, got {origin!r}")
        if parts.scheme == "http" and parts.hostname not in {"localhost", "127.0.0.1"}:
            raise ConfigError("PUBLIC_ORIGIN must use https unless it is localhost")
        min_notice = _int_setting(env, "FITTING_MIN_NOTICE_HOURS", 24, 0, 24 * 30)
        horizon = _int_setting(env, "FITTING_HORIZON_DAYS", 90, 1, 730)
        rate = _int_setting(env, "RATE_LIMIT_PER_MINUTE", 30, 1, 100_000)
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            secret_key=secret,
            public_origin=origin,
            host=env.get("HOST", "0.0.0.0" if not development else "127.0.0.1"),
            port=port,
            development=development,
            data_dir=Path(env["RUNDA_DATA_DIR"]) if env.get("RUNDA_DATA_DIR") else PROJECT_ROOT / ".runda",
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            fitting_min_notice_hours=min_notice,
            fitting_horizon_days=horizon,
            rate_limit_per_minute=rate,
            outbound=OutboundSettings.from_env(env),
            routing_table_url=routing_table_url(env),
            routing_depot=routing_depot(env),
            oidc=OidcSettings.from_env(env),
            database=DatabaseSettings.from_env(env),
        )

    @property
    def rp_id(self) -> str:
        """The WebAuthn relying-party id: the public origin's host name."""
        return urlsplit(self.public_origin).hostname or "localhost"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure everywhere except plain-http localhost development."""
        return urlsplit(self.public_origin).scheme == "https"

    @property
    def listens_on_loopback(self) -> bool:
        return self.host in {"127.0.0.1", "localhost", "::1"}
