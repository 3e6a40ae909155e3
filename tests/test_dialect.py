"""The shared SQL's placeholders, as each backend's driver takes them."""

from __future__ import annotations

from collector.storage.dialect import POSTGRES
from collector.storage.dialect import SQLITE

STATEMENT = "SELECT 'why?', 'it''s 100%', ? AS a, ? AS b WHERE 'x' LIKE 'x%' OR 1 = ?"


def test_sqlite_runs_the_shared_sql_as_written():
    """SQLite's dialect leaves the statement alone."""
    assert SQLITE.sql(STATEMENT) is STATEMENT


def test_postgres_takes_placeholders_outside_literals_and_escapes_percent():
    """Only placeholders become %s; a `?` in a literal stays, every `%` is doubled for psycopg."""
    assert POSTGRES.sql(STATEMENT) == ("SELECT 'why?', 'it''s 100%%', %s AS a, %s AS b WHERE 'x' LIKE 'x%%' "
                                       "OR 1 = %s")


def test_both_backends_run_a_statement_with_literal_question_marks_and_percents(storage):
    """The statement runs on the real database and its literals arrive intact."""
    (row,) = storage.shared_read(STATEMENT.replace("SELECT", "SELECT 'why?' AS q, 'it''s 100%' AS p,", 1),
                                 ("one", "two", 1))
    assert (row["q"], row["p"], row["a"], row["b"]) == ("why?", "it's 100%", "one", "two")
