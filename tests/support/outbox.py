"""A phone's outbox in Python, for tests and the benchmark: queued changes, each with its own
idempotency key, delivered in order with the headers `frontend/static/js/outbox.js` sends.

A change to the order itself names the version it is based on: the phone's own last change's
version, which the server's answer to that change gave in its location (`v=`), as the outbox
rebases its queue.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import httpx

_VERSION = re.compile(r"[?&]v=(\d+)")


def version_in(location: str) -> int | None:
    match = _VERSION.search(location or "")
    return int(match.group(1)) if match else None


@dataclass
class Change:
    """One queued form submission, as the outbox stores it."""

    path: str
    fields: dict[str, str]
    changes_order: bool = False  # start, pause, complete…: carries the order's version
    files: dict | None = None
    key: str = field(default_factory=lambda: str(uuid.uuid4()))

    def headers(self, csrf: str) -> dict[str, str]:
        headers = {"idempotency-key": self.key, "accept": "application/json", "x-csrftoken": csrf}
        if "version" in self.fields:
            headers["if-match"] = self.fields["version"]
        return headers


@dataclass
class Phone:
    """A signed-in client with its queue; `acked` changes have been acknowledged and left the phone."""

    client: httpx.AsyncClient
    csrf: str
    version: int
    changes: list[Change]
    acked: int = 0

    def next_change(self) -> Change | None:
        """The first change not yet acknowledged; a change to the order is fixed to the version
        the phone knows when it is first sent, and every resend sends exactly the same."""
        if self.acked == len(self.changes):
            return None
        change = self.changes[self.acked]
        if change.changes_order and "version" not in change.fields:
            change.fields["version"] = str(self.version)
        return change

    async def deliver(self, change: Change) -> httpx.Response:
        return await self.client.post(change.path, data=change.fields, files=change.files,
                                      headers=change.headers(self.csrf))

    def acknowledge(self, response: httpx.Response) -> dict:
        """The server has the change: it leaves the queue. Returns the answer {status, location, replayed}."""
        assert response.status_code == 200, (response.status_code, response.text[:300])
        answer = response.json()
        change = self.changes[self.acked]
        version = version_in(answer["location"])
        if change.changes_order and version is not None:
            self.version = version
        self.acked += 1
        return answer
