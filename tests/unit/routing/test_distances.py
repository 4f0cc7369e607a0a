"""Distances: straight line x circuity by default, a table service when one is configured, and
the straight line again (with a warning) when the service fails."""

from __future__ import annotations

import logging

import pytest

from backend.routing import distances
from backend.routing.distances import CIRCUITY, matrix, straight_line_km, straight_line_matrix
from tests.support import osrm_standin

UMEA = (63.8258, 20.2630)
VANNAS = (63.9066, 19.7516)
NORDMALING = (63.5681, 19.5020)


def test_straight_line_between_two_towns_is_the_great_circle_distance():
    # Umeå-Vännäs: about 26.8 km as the crow flies.
    assert straight_line_km(UMEA, VANNAS) == pytest.approx(26.8, abs=0.3)
    assert straight_line_km(UMEA, UMEA) == 0


def test_the_default_matrix_is_straight_line_times_circuity_at_the_average_speed():
    m = straight_line_matrix([UMEA, VANNAS])
    assert m.source == "straight_line"
    assert m.km[0][1] == pytest.approx(straight_line_km(UMEA, VANNAS) * CIRCUITY)
    assert m.minutes[0][1] == pytest.approx(m.km[0][1] / distances.AVERAGE_KMH * 60)
    assert m.km[0][0] == 0


async def test_without_a_table_service_matrix_uses_the_straight_line(monkeypatch):
    monkeypatch.delenv("ROUTING_TABLE_URL", raising=False)
    m = await matrix([UMEA, VANNAS])
    assert m.source == "straight_line"


async def test_with_a_table_service_matrix_uses_its_figures(monkeypatch):
    with osrm_standin.running() as server:
        monkeypatch.setenv("ROUTING_TABLE_URL", server.url)
        m = await matrix([UMEA, VANNAS, NORDMALING])
        assert server.requests == 1
    assert m.source == "table"
    # The stand-in's factor, not Runda's: the service answered.
    assert m.km[0][1] == pytest.approx(straight_line_km(UMEA, VANNAS) * osrm_standin.FACTOR, rel=1e-3)
    assert m.minutes[2][0] == pytest.approx(m.km[2][0] / osrm_standin.KMH * 60, rel=1e-3)
    assert m.places == (UMEA, VANNAS, NORDMALING)


async def test_a_large_matrix_is_asked_for_in_blocks(monkeypatch):
    monkeypatch.setattr(distances, "TABLE_MAX_PLACES", 4)
    places = [(63.5 + i * 0.05, 19.5 + i * 0.03) for i in range(5)]
    with osrm_standin.running() as server:
        m = await matrix(places, table_url=server.url)
        assert server.requests == 9  # blocks of 2: 3 x 3
    assert m.source == "table"
    for i in range(5):
        for j in range(5):
            assert m.km[i][j] == pytest.approx(straight_line_km(places[i], places[j]) * osrm_standin.FACTOR,
                                               rel=1e-3, abs=1e-3)


async def test_a_failing_table_service_falls_back_to_the_straight_line_with_a_warning(caplog):
    with osrm_standin.running() as server:
        server.failing = True
        with caplog.at_level(logging.WARNING, logger="runda.routing"):
            m = await matrix([UMEA, VANNAS], table_url=server.url)
    assert m.source == "straight_line"
    assert m.km[0][1] == pytest.approx(straight_line_km(UMEA, VANNAS) * CIRCUITY)
    assert any("straight-line" in r.getMessage() for r in caplog.records)


async def test_an_unreachable_table_service_falls_back_too():
    # Nothing listens on port 9 of loopback (discard), so the connection is refused at once.
    m = await matrix([UMEA, VANNAS], table_url="http://127.0.0.1:9")
    assert m.source == "straight_line"


def test_the_table_setting_must_be_a_url():
    from backend.settings import ConfigError, routing_table_url
    assert routing_table_url({}) is None
    assert routing_table_url({"ROUTING_TABLE_URL": "http://osrm.local:5000/"}) == "http://osrm.local:5000"
    with pytest.raises(ConfigError):
        routing_table_url({"ROUTING_TABLE_URL": "osrm.local"})
