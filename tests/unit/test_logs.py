"""Log lines are JSON and never carry an exception's message (it may quote user input)."""

import json
import logging

from backend.logs import JsonFormatter


def _record(msg, exc_info=None, **extra):
    record = logging.LogRecord("runda.test", logging.ERROR, __file__, 1, msg, (), exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_log_lines_are_json_with_extra_fields():
    line = JsonFormatter().format(_record("request", route="/f/{token:str}", status=404))
    entry = json.loads(line)
    assert entry["event"] == "request"
    assert entry["route"] == "/f/{token:str}"
    assert entry["status"] == 404


def test_exception_messages_are_not_logged():
    try:
        raise ValueError("Anna Andersson, Storgatan 1, 19450101-1234")
    except ValueError as exc:
        line = JsonFormatter().format(_record("unhandled_error", exc_info=(type(exc), exc, exc.__traceback__)))
    assert "Anna" not in line and "Storgatan" not in line and "19450101" not in line
    assert json.loads(line)["error"] == "ValueError"
