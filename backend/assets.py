"""Static files under content-hashed names, so a browser may keep them for a year.

A page links `static("css/runda.css")`, which is `/static/css/runda.1a2b3c4d5e.css`: the name
carries the first ten hex digits of the file's SHA-256, so a changed file has a new address
and nobody ever sees a stale copy. `resolve` maps a requested name back to the file and says
whether the address is the current one (then it is cached as immutable) or not (an old hash
from a page kept on a phone, or a plain name: the current file, to be revalidated).

Hashes are read once per file and again only when the file's modification time changes, and an
address is looked up again after a second, so an edited stylesheet shows at the next reload in
development.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import time
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent.parent / "frontend" / "static"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_HASHED = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{10})(?P<suffix>\.[A-Za-z0-9]+)$")
_known: dict[Path, tuple[float, str]] = {}


def content_hash(path: Path) -> str:
    """The file's short hash, read again only when it changed on disk."""
    mtime = path.stat().st_mtime
    known = _known.get(path)
    if known is None or known[0] != mtime:
        known = (mtime, hashlib.sha256(path.read_bytes()).hexdigest()[:10])
        _known[path] = known
    return known[1]


def _file(relative: str) -> Path | None:
    """The file under the static folder, or None (missing, a folder, or outside it)."""
    try:
        path = (STATIC_DIR / relative).resolve()
    except (OSError, ValueError):
        return None
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        return None
    return path


# static()'s answers, each kept a second: every page links a handful of files, and finding one (resolving
# the path, checking the folder, reading its time) took a tenth of a day page's time in the server.
_addresses: dict[tuple[Path, str], tuple[float, str]] = {}
ADDRESS_TTL_S = 1.0
_now = time.monotonic  # the clock addresses are kept by (tests move it on)


def static(relative: str) -> str:
    """The content-hashed address of a static file, e.g. static("js/runda.js")."""
    now = _now()
    kept = _addresses.get((STATIC_DIR, relative))
    if kept is not None and kept[0] > now:
        return kept[1]
    path = _file(relative)
    if path is None:
        raise FileNotFoundError(f"no static file {relative!r}")
    name = Path(relative)
    address = f"/static/{name.with_name(f'{name.stem}.{content_hash(path)}{name.suffix}').as_posix()}"
    _addresses[(STATIC_DIR, relative)] = (now + ADDRESS_TTL_S, address)
    return address


@dataclass(frozen=True)
class Found:
    path: Path
    current: bool  # the address names the file's present content


def resolve(requested: str) -> Found | None:
    """The file behind a requested static name (hashed or plain); None when there is none."""
    match = _HASHED.match(requested)
    if match:
        path = _file(match["stem"] + match["suffix"])
        if path is not None:
            return Found(path, content_hash(path) == match["hash"])
    path = _file(requested)
    return Found(path, False) if path is not None else None


def media_type(path: Path) -> str:
    """The file's type by its extension (scripts must be text/javascript: pages send nosniff)."""
    if path.suffix == ".js":
        return "text/javascript"
    if path.suffix == ".webmanifest":
        return "application/manifest+json"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def version(relatives: list[str]) -> str:
    """One short hash over several files: changes when any of them does."""
    digest = hashlib.sha256()
    for relative in relatives:
        digest.update(static(relative).encode())
    return digest.hexdigest()[:10]
