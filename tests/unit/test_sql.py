"""db.Sql: a domain exports a query as a function, another places it by name in its own."""

import pytest

from backend.db import Sql, raw


def test_named_values_become_numbered_parameters_once_each():
    text, args = Sql("SELECT 1 FROM t WHERE a = :a AND b = :b AND c = :a", a=1, b="x").compile()
    assert text == "SELECT 1 FROM t WHERE a = $1 AND b = $2 AND c = $1"
    assert args == [1, "x"]


def test_a_fragment_is_inlined_with_its_own_values_renumbered():
    inner = Sql("SELECT name FROM staff_user WHERE id = :who AND organisation = :org", who=raw("w.assignee"), org=7)
    outer = Sql("SELECT w.id, (:name) AS name FROM work_order w WHERE w.id = :id AND w.organisation = :org",
                name=inner, id=3, org=7)
    text, args = outer.compile()
    assert text == ("SELECT w.id, (SELECT name FROM staff_user WHERE id = w.assignee AND organisation = $1) AS name "
                    "FROM work_order w WHERE w.id = $2 AND w.organisation = $3")
    assert args == [7, 3, 7]


def test_names_belong_to_their_own_fragment():
    a = Sql("x = :v", v=1)
    b = Sql("y = :v", v=2)
    assert Sql(":a AND :b", a=a, b=b).compile() == ("x = $1 AND y = $2", [1, 2])


def test_casts_and_literals_are_left_alone():
    text, args = Sql("SELECT :d::date, '{}'::int[], '10:30'::time, x::text FROM t", d="2026-01-01").compile()
    assert text == "SELECT $1::date, '{}'::int[], '10:30'::time, x::text FROM t"
    assert args == ["2026-01-01"]


def test_a_missing_value_is_a_programming_error():
    with pytest.raises(KeyError, match=":missing"):
        Sql("SELECT :missing").compile()
