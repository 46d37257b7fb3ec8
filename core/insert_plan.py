"""A write that only adds rows (a new proposal): the same parts as a unit of work (the change, its
audit events, its rollup tallies, its outbox rows), sent to the database as one statement.

On PostgreSQL that statement is a WITH of INSERTs run in autocommit: one round trip, atomic as any
single statement is, with nothing read back. On SQLite it is one transaction of a few statements,
which is what a local file needs. Either way the effects go to the dispatcher after the commit, as
core/unit_of_work.py does, and the durable ones are in the outbox by then.
"""
from __future__ import annotations

import asyncio
import functools
import json
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from core import outbox, rollups
from core.audit_log import event_rows
from core.services import Services
from core.store.tables import Action, AuditEvent, Base, OutboxRow
from core.unit_of_work import Work


class InsertPlan(Work):
    """What a session-less write adds: rows per table (parents first), plus what a Work collects."""

    def __init__(self, now):
        super().__init__(None, now)  # type: ignore[arg-type]  # no session: nothing is read or flushed
        self.rows: list[tuple[type[Base], dict[str, Any]]] = []
        self.tallies: dict = {}

    def add(self, model: type[Base], row: dict[str, Any]) -> None:
        self.rows.append((model, row))

    def add_action(self, action: Action) -> None:
        """The new action's row from its (transient) object: every column, defaults filled as the ORM would."""
        row = {}
        for column in Action.__table__.columns:
            value = getattr(action, column.key)
            if value is None and column.default is not None and column.default.is_scalar:
                value = column.default.arg
            row[column.key] = value
        self.add(Action, row)

    def count_proposed(self, action: Action) -> None:
        rollups.proposed(self.tallies, action)

    def count_vote(self, action, vote) -> None:
        raise TypeError("an insert plan adds new actions only; votes go through a unit of work")

    def count_decided(self, action) -> None:
        raise TypeError("an insert plan adds new actions only; decisions go through a unit of work")


ROLLUPS = "rollups"  # the one part that is an upsert, not a plain INSERT


def _parts(plan: InsertPlan, services: Services) -> list[tuple[type[Base] | str, list[dict]]]:
    """Rows per statement, in the order the foreign keys need."""
    by_model: dict[type[Base], list[dict]] = {}
    for model, row in plan.rows:
        by_model.setdefault(model, []).append(row)
    parts: list[tuple[type[Base] | str, list[dict]]] = list(by_model.items())
    if owed := outbox.row_values(plan.owed, plan.now, plan.due(services)):
        parts.append((OutboxRow, owed))
    if plan.tallies:
        parts.append((ROLLUPS, rollups.fold_rows(plan.tallies)))
    if plan.events:
        parts.append((AuditEvent, event_rows(plan.events, plan.now)))
    return parts


def _insert(part: type[Base] | str, dialect: str):
    return rollups.upsert(dialect) if part == ROLLUPS else insert(part)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=256)
def _sql(shape: tuple[tuple[type[Base] | str, tuple[str, ...]], ...]) -> str:
    """The PostgreSQL statement for one shape of write (which parts, which columns), made once.

    Each part's rows travel as one JSON array parameter, parsed once by json_populate_recordset into
    the table's own row type (JSON null is SQL NULL; a json column keeps its text, key order
    included). A handful of parameters instead of a hundred keeps the statement small enough for
    psycopg to cache its conversion and for PostgreSQL to prepare it: compiling a many-parameter
    statement for each proposal cost more than the round trips it saved, and taking each column
    out with its own `->` (one parse per column) cost 0.6 ms of a 1.3 ms statement."""
    ctes = []
    for i, (part, keys) in enumerate(shape):
        table = _insert(part, "postgresql").table
        rows = f"json_populate_recordset(NULL::{table.name}, %(p{i})s::json)"
        if keys == tuple(table.c.keys()):  # every column (the action): kept short, so psycopg caches it
            into = f"INSERT INTO {table.name} SELECT * FROM {rows}"
        else:  # WITH ORDINALITY: the rows go in as listed, so one write's audit events keep their order
            columns = ", ".join(keys)
            into = (f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {rows} WITH ORDINALITY AS r "
                    "ORDER BY r.ordinality")
        if part == ROLLUPS:
            into += " " + _on_conflict(table.name)
        ctes.append(f"w{i} AS ({into})")
    return "WITH " + ", ".join(ctes) + " SELECT 1"


def _on_conflict(table: str) -> str:
    """rollups.upsert's conflict clause as SQL text: counts add, maps merge with hitl_json_add."""
    counts = [f"{n} = {table}.{n} + excluded.{n}" for n in rollups.COUNTS]
    # A proposal's tally has mostly empty maps: those cost no call to hitl_json_add (plpgsql)
    maps = [f"{n} = CASE WHEN excluded.{n}::text = '{{}}' THEN {table}.{n} "
            f"ELSE hitl_json_add({table}.{n}, excluded.{n}) END" for n in rollups.MAPS]
    return f"ON CONFLICT (grain, start, agent_id, action_type) DO UPDATE SET {', '.join(counts + maps)}"


def one_statement(plan: InsertPlan, services: Services) -> tuple[str, dict[str, Any]]:
    """PostgreSQL: every INSERT as a WITH of one statement, and its driver parameters. Data-modifying
    WITH queries run to completion whether or not the main query reads them, and foreign keys are
    checked at the statement's end."""
    parts = _parts(plan, services)
    sql = _sql(tuple((part, tuple(rows[0])) for part, rows in parts))
    return sql, {f"p{i}": _json(rows) for i, (_, rows) in enumerate(parts)}


def _json(rows: list[dict]) -> str:
    try:
        return orjson.dumps(rows, default=str).decode()
    except orjson.JSONEncodeError:  # an integer past 64 bits, which JSON and the json column allow
        return json.dumps(rows, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
                          ensure_ascii=False, separators=(",", ":"))


# PostgreSQL's JSON operators refuse a \u0000 escape inside a string (SQLSTATE 22P05), which a json
# column stores fine: a payload holding one is written statement by statement instead.
UNTRANSLATABLE = "22P05"


def _untranslatable(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == UNTRANSLATABLE


def _statement_by_statement(services: Services, plan: InsertPlan) -> None:
    """One transaction of one INSERT per part: SQLite's way, and PostgreSQL's for what its one
    statement cannot carry."""
    db = services.db
    dialect = "sqlite" if db.is_sqlite else "postgresql"
    with db.transaction() as s:
        for part, rows in _parts(plan, services):
            s.execute(_insert(part, dialect), rows)


def persist(services: Services, plan: InsertPlan) -> None:
    db = services.db
    if db.is_sqlite:
        _statement_by_statement(services, plan)
    else:
        try:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(*one_statement(plan, services))
        except DBAPIError as exc:
            if not _untranslatable(exc):
                raise
            _statement_by_statement(services, plan)
    _dispatch(services, plan)


async def persist_async(services: Services, plan: InsertPlan) -> None:
    """The same, awaited on an event loop with no thread hop (PostgreSQL). SQLite's write goes to a
    thread: it may wait for the file's one writer, and the loop must not wait with it."""
    if services.db.is_sqlite:
        await asyncio.to_thread(persist, services, plan)
        return
    try:
        async with services.db.async_engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(*one_statement(plan, services))
    except DBAPIError as exc:
        if not _untranslatable(exc):
            raise
        await asyncio.to_thread(_statement_by_statement, services, plan)
    _dispatch(services, plan)


def _dispatch(services: Services, plan: InsertPlan) -> None:
    if services.dispatcher is not None and plan.owed:
        services.dispatcher.dispatch(plan.owed)
