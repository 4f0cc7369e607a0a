"""The database settings: pool sizes, statement timeouts, a pooler in front, the worker's own URL.
Unset, they are what Runda did before (a 30 s limit on the web's statements aside); a bad value
stops the start with one line naming the setting."""

from __future__ import annotations

import pytest

from backend.db import connect_options
from backend.settings import ConfigError, DatabaseSettings, PoolSettings, Settings

URL = "postgresql://runda:secret@db.example.se/runda"
DIRECT = "postgresql://runda:secret@db-primary.example.se/runda"


def refused(**env: str) -> str:
    with pytest.raises(ConfigError) as error:
        DatabaseSettings.from_env(env)
    return str(error.value)


def test_unset_the_web_pool_is_ten_connections_with_a_30_second_statement_limit_and_no_pooler():
    settings = DatabaseSettings.from_env({})
    assert settings.web() == PoolSettings(size=10, statement_timeout_ms=30_000, pooler="none")
    assert settings.worker_url is None


def test_unset_the_worker_pool_is_its_concurrency_plus_two_without_a_statement_limit():
    assert DatabaseSettings.from_env({}).worker(4) == PoolSettings(size=6, statement_timeout_ms=0, pooler="none")


def test_one_off_commands_get_a_small_pool_without_a_statement_limit_through_the_pooler_if_any():
    settings = DatabaseSettings.from_env({"DATABASE_URL": URL, "DATABASE_POOLER": "transaction"})
    assert settings.command() == PoolSettings(size=4, statement_timeout_ms=0, pooler="transaction")


def test_the_settings_are_read_from_the_environment():
    settings = DatabaseSettings.from_env({
        "DATABASE_URL": URL, "DATABASE_POOLER": "Transaction", "DATABASE_POOL_SIZE": "25",
        "DATABASE_STATEMENT_TIMEOUT_MS": "5000", "WORKER_DATABASE_URL": DIRECT,
        "WORKER_DATABASE_POOL_SIZE": "3", "WORKER_STATEMENT_TIMEOUT_MS": "600000"})
    assert settings.web() == PoolSettings(size=25, statement_timeout_ms=5000, pooler="transaction")
    # WORKER_DATABASE_URL goes past the pooler: the worker talks to PostgreSQL directly.
    assert settings.worker(8) == PoolSettings(size=3, statement_timeout_ms=600_000, pooler="none")
    assert settings.worker_url == DIRECT


def test_a_worker_without_its_own_url_goes_through_the_pooler_too():
    settings = DatabaseSettings.from_env({"DATABASE_URL": URL, "DATABASE_POOLER": "transaction"})
    assert settings.worker(2).pooler == "transaction"


def test_a_statement_timeout_of_zero_means_none_of_runda_s_own():
    assert DatabaseSettings.from_env({"DATABASE_STATEMENT_TIMEOUT_MS": "0"}).web().statement_timeout_ms == 0


def test_settings_carry_the_database_settings_and_refuse_a_bad_one():
    env = {"RUNDA_DEV": "1", "DATABASE_URL": URL, "DATABASE_POOL_SIZE": "12"}
    assert Settings.from_env(env).database.pool_size == 12
    with pytest.raises(ConfigError, match="DATABASE_POOL_SIZE"):
        Settings.from_env({**env, "DATABASE_POOL_SIZE": "0"})


@pytest.mark.parametrize("name", ["DATABASE_POOL_SIZE", "WORKER_DATABASE_POOL_SIZE"])
@pytest.mark.parametrize("value, says", [("ten", "must be a whole number, got 'ten'"),
                                         ("0", "must be between 1 and 1000, got 0"),
                                         ("1001", "must be between 1 and 1000, got 1001"),
                                         ("-3", "must be between 1 and 1000, got -3")])
def test_a_pool_size_must_be_a_whole_number_from_1_to_1000(name, value, says):
    assert refused(**{name: value}) == f"{name} {says}"


@pytest.mark.parametrize("name", ["DATABASE_STATEMENT_TIMEOUT_MS", "WORKER_STATEMENT_TIMEOUT_MS"])
@pytest.mark.parametrize("value, says", [("30s", "must be a whole number, got '30s'"),
                                         ("1.5", "must be a whole number, got '1.5'"),
                                         ("-1", "must be between 0 and 86400000, got -1"),
                                         ("86400001", "must be between 0 and 86400000, got 86400001")])
def test_a_statement_timeout_must_be_whole_milliseconds_up_to_a_day(name, value, says):
    assert refused(**{name: value}) == f"{name} {says}"


def test_the_pooler_must_be_none_or_transaction():
    assert refused(DATABASE_URL=URL, DATABASE_POOLER="session") == \
        "DATABASE_POOLER must be one of none, transaction, got 'session'"


def test_a_pooler_needs_a_database_url():
    assert "DATABASE_URL is not" in refused(DATABASE_POOLER="transaction")


def test_a_worker_url_needs_a_database_url_and_must_be_a_postgresql_url():
    assert "DATABASE_URL is not" in refused(WORKER_DATABASE_URL=DIRECT)
    assert refused(DATABASE_URL=URL, WORKER_DATABASE_URL="mysql://db/runda") == \
        "WORKER_DATABASE_URL must look like postgresql://runda:secret@db.example.se/runda"


def test_the_worker_url_stays_out_of_the_settings_repr():
    settings = DatabaseSettings.from_env({"DATABASE_URL": URL, "WORKER_DATABASE_URL": DIRECT})
    assert "secret" not in repr(settings)


def test_directly_the_statement_timeout_is_the_servers_and_prepared_statements_are_cached():
    options = connect_options(URL, PoolSettings(statement_timeout_ms=30_000))
    assert options == {"dsn": URL, "server_settings": {"statement_timeout": "30000"}}


def test_through_a_transaction_pooler_nothing_is_prepared_by_name_and_the_client_keeps_the_timeout():
    options = connect_options(URL, PoolSettings(statement_timeout_ms=30_000, pooler="transaction"))
    assert options == {"dsn": URL, "statement_cache_size": 0, "command_timeout": 30.0}


def test_without_a_statement_timeout_none_is_sent_either_way():
    assert connect_options(URL, PoolSettings()) == {"dsn": URL}
    assert connect_options(URL, PoolSettings(pooler="transaction")) == {"dsn": URL, "statement_cache_size": 0}
