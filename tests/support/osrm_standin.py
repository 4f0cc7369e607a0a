"""A small stand-in for an OSRM table service, on loopback: a real HTTP server (in a thread)
answering GET /table/v1/driving/{lon,lat;...}?annotations=distance,duration[&sources=..&destinations=..]
from the straight-line distance times FACTOR (not Runda's CIRCUITY, so a test can tell which model
answered), driven at KMH. `failing = True` makes it answer 500; `requests` counts the calls."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from backend.routing.distances import straight_line_km

FACTOR = 1.5
KMH = 60.0


class StandIn(ThreadingHTTPServer):
    daemon_threads = True
    failing = False
    requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        self.server.requests += 1
        if self.server.failing:
            self._answer(500, {"code": "InternalError"})
            return
        parts = urlsplit(self.path)
        prefix = "/table/v1/driving/"
        if not parts.path.startswith(prefix):
            self._answer(400, {"code": "InvalidUrl"})
            return
        try:
            places = [(float(lat), float(lon)) for lon, lat in
                      (pair.split(",") for pair in unquote(parts.path[len(prefix):]).split(";"))]
        except ValueError:
            self._answer(400, {"code": "InvalidQuery"})
            return
        query = parse_qs(parts.query)
        sources = [int(i) for i in query["sources"][0].split(";")] if "sources" in query else range(len(places))
        destinations = ([int(i) for i in query["destinations"][0].split(";")] if "destinations" in query
                        else range(len(places)))
        km = [[straight_line_km(places[i], places[j]) * FACTOR for j in destinations] for i in sources]
        self._answer(200, {"code": "Ok",
                           "distances": [[round(d * 1000, 1) for d in row] for row in km],
                           "durations": [[round(d / KMH * 3600, 1) for d in row] for row in km]})


@contextmanager
def running():
    """The stand-in on a free loopback port while the block runs."""
    server = StandIn(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
