"""ROUTING_DEPOT: where undescribed technicians start and end the day."""

import pytest

from backend.settings import DEFAULT_ROUTING_DEPOT, ConfigError, routing_depot


def test_the_depot_defaults_to_vasteras_and_reads_latitude_comma_longitude():
    assert routing_depot({}) == DEFAULT_ROUTING_DEPOT == (59.6162, 16.4981)
    assert routing_depot({"ROUTING_DEPOT": " 59.92, 16.60 "}) == (59.92, 16.60)


@pytest.mark.parametrize("value", ["59.9", "norr,öst", "59.9,16.6,1", "91,16", "59,181"])
def test_a_depot_that_is_no_place_is_refused(value):
    with pytest.raises(ConfigError):
        routing_depot({"ROUTING_DEPOT": value})
