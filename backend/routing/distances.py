"""Driving distances and times between places.

By default: the straight-line (great-circle) distance times a circuity factor, driven at an
average speed. When a region runs an OSRM- or Valhalla-compatible table service, the matrix
comes from it instead (ROUTING_TABLE_URL; see `matrix`).

Every caller indexes a Matrix by the position of a place in the list it passed: `matrix.km[i][j]`
is the drive from `places[i]` to `places[j]`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import httpx

from backend import settings
from backend.routing.model import Place

log = logging.getLogger("runda.routing")

EARTH_RADIUS_KM = 6371.0088
# Road distance over straight-line distance (the detour index or circuity). 1.34: the mean radial
# detour of road over Euclidean distance measured across 300 European cities (Boeing-style
# network analysis of residences to centres: "Road distances to the main centre across 300
# European cities", Environment and Planning B, 2023, doi:10.1177/23998083231168870, found
# 1.343). Older figures for road networks sit near it: Newell (1980) about 1.2 in towns, Ballou
# et al. (2002) 1.2-1.4 between cities. Rural Swedish roads around lakes and fjords are more
# devious than the average, so the figure is, if anything, low; a region that needs better
# runs a table service.
CIRCUITY = 1.34
# Door-to-door average over a day of short rural and town trips (parking and walking in).
AVERAGE_KMH = 50.0
# The table service: how long to wait, and how many places one request may carry (OSRM's default
# max-table-size is 100).
TABLE_TIMEOUT_S = 5.0
TABLE_MAX_PLACES = 100


def straight_line_km(a: Place, b: Place) -> float:
    """Great-circle distance (haversine) in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def road_km(a: Place, b: Place) -> float:
    return straight_line_km(a, b) * CIRCUITY


def drive_minutes(km: float) -> float:
    return km / AVERAGE_KMH * 60


@dataclass(frozen=True)
class Matrix:
    """Between every pair of `places`: km[i][j] and minutes[i][j]. `source` says where the figures
    came from: "straight_line" or "table" (a table service)."""

    places: tuple[Place, ...]
    km: tuple[tuple[float, ...], ...]
    minutes: tuple[tuple[float, ...], ...]
    source: str = "straight_line"


def straight_line_matrix(places: list[Place]) -> Matrix:
    """road_km between every pair, each pair once (the distance is the same both ways) and each
    place's radians and cosine once: the coordinator's day view walks every technician's day."""
    n = len(places)
    radians = [(math.radians(lat), math.radians(lon)) for lat, lon in places]
    cosines = [math.cos(lat) for lat, _ in radians]
    km = [[0.0] * n for _ in range(n)]
    for i in range(n):
        lat1, lon1 = radians[i]
        row = km[i]
        for j in range(i + 1, n):
            lat2, lon2 = radians[j]
            h = math.sin((lat2 - lat1) / 2) ** 2 + cosines[i] * cosines[j] * math.sin((lon2 - lon1) / 2) ** 2
            row[j] = km[j][i] = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h)) * CIRCUITY
    rows = tuple(map(tuple, km))
    return Matrix(tuple(places), rows, tuple(tuple(drive_minutes(d) for d in row) for row in rows))


class TableError(Exception):
    """The table service did not answer with a usable table."""


def _coordinates(places: list[Place]) -> str:
    # OSRM wants lon,lat pairs separated by semicolons.
    return ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in places)


async def _block(client: httpx.AsyncClient, url: str, sources: list[Place], destinations: list[Place]
                 ) -> tuple[list[list], list[list]]:
    """One request: distances (m) and durations (s) from each of `sources` to each of `destinations`."""
    together = sources + destinations
    params = {"annotations": "distance,duration"}
    params["sources"] = ";".join(str(i) for i in range(len(sources)))
    params["destinations"] = ";".join(str(len(sources) + j) for j in range(len(destinations)))
    try:
        response = await client.get(f"{url}/table/v1/driving/{_coordinates(together)}", params=params)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise TableError(str(error) or type(error).__name__) from error
    distances, durations = body.get("distances"), body.get("durations")
    rows, columns = len(sources), len(destinations)
    if body.get("code") != "Ok" or not isinstance(distances, list) or not isinstance(durations, list) \
            or len(distances) != rows or len(durations) != rows \
            or any(not isinstance(r, list) or len(r) != columns for r in distances + durations):
        raise TableError(f"unexpected answer: code {body.get('code')!r}")
    return distances, durations


async def table_matrix(url: str, places: list[Place], *, client: httpx.AsyncClient | None = None) -> Matrix:
    """The matrix from an OSRM-compatible service: GET {url}/table/v1/driving/{lon,lat;...}
    ?annotations=distance,duration&sources=..&destinations=.. (distances in metres, durations in
    seconds), in blocks of at most TABLE_MAX_PLACES places a request. A pair the service cannot
    route (null) gets the straight-line figure. Raises TableError when an answer is not usable."""
    n = len(places)
    half = TABLE_MAX_PLACES // 2
    fallback = straight_line_matrix(places)
    km = [list(row) for row in fallback.km]
    minutes = [list(row) for row in fallback.minutes]
    owned = client is None
    client = client or httpx.AsyncClient(timeout=TABLE_TIMEOUT_S)
    size = n if n <= half else half
    try:
        for i0 in range(0, n, size):
            for j0 in range(0, n, size):
                distances, durations = await _block(client, url, places[i0:i0 + size], places[j0:j0 + size])
                for i, (d_row, t_row) in enumerate(zip(distances, durations)):
                    for j, (d, t) in enumerate(zip(d_row, t_row)):
                        if d is not None:
                            km[i0 + i][j0 + j] = float(d) / 1000
                        if t is not None:
                            minutes[i0 + i][j0 + j] = float(t) / 60
    except (TypeError, ValueError) as error:
        raise TableError(f"unexpected figure: {error}") from error
    finally:
        if owned:
            await client.aclose()
    return Matrix(tuple(places), tuple(map(tuple, km)), tuple(map(tuple, minutes)), source="table")


async def matrix(places: list[Place], *, table_url: str | None | bool = True) -> Matrix:
    """The matrix everyone plans with: from the table service when ROUTING_TABLE_URL is set (or
    `table_url` names one; False: never), else straight line x CIRCUITY. A service that fails or
    answers nonsense is logged as a warning and the straight-line model answers instead, so a
    planner is never left without a plan."""
    url = settings.routing_table_url() if table_url is True else (table_url or None)
    if not url or len(places) < 2:
        return straight_line_matrix(places)
    try:
        return await table_matrix(url, places)
    except TableError as error:
        log.warning("Routing table service failed, using straight-line distances: %s", error,
                    extra={"routing_table_url": url, "places": len(places)})
        return straight_line_matrix(places)
