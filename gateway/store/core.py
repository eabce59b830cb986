"""The SQLite connection, numbered migrations and transactions. Only gateway.store speaks SQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from gateway.clock import Clock, SystemClock, iso

DB_NAME = "mailgate.sqlite3"


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("gateway.store").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class StoreCore:
    """Connection handling. Methods of the mixins run inside `transaction()` or autocommit one statement."""

    def __init__(self, state_dir: Path, clock: Clock | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.state_dir / DB_NAME
        self.clock: Clock = clock or SystemClock()
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # durability first: a committed message is never lost
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA busy_timeout=30000")
        self._depth = 0
        self.migrate()

    def close(self) -> None:
        self.db.close()

    def now(self) -> str:
        return iso(self.clock.now())

    # -- migrations -----------------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply every migration not yet applied, each in its own transaction. Re-running is a no-op."""
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
        )
        done = {r[0] for r in self.db.execute("SELECT version FROM schema_migrations")}
        applied = []
        for version, name, sql in _migrations():
            if version in done:
                continue
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _split_sql(sql):
                    self.db.execute(statement)
                self.db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, self.now()),
                )
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            applied.append(version)
        return applied

    def schema_version(self) -> int:
        row = self.db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    # -- transactions ---------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit: a state change and the side effects it queues commit together.

        Nested calls are SAVEPOINTs: an inner unit that fails is rolled back alone and its exception goes on
        to the caller, which may handle it (the pipeline does, to commit many messages in one transaction
        while one bad message still rolls back on its own)."""
        if self._depth:
            name = f"sp{self._depth}"
            self.db.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self.db.execute(f"ROLLBACK TO {name}")
                self.db.execute(f"RELEASE {name}")
                raise
            finally:
                self._depth -= 1
            self.db.execute(f"RELEASE {name}")
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.db.execute("ROLLBACK")
            raise
        self._depth = 0
        self.db.execute("COMMIT")

    def _exec(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, params)

    def _one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(sql, params).fetchone()
        return row

    def _all(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return list(self.db.execute(sql, params).fetchall())

    # -- small key/value facts (e.g. the generated token key) -------------------------------------------
    def kv_get(self, key: str) -> str | None:
        row = self._one("SELECT value FROM kv WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def kv_set(self, key: str, value: str) -> None:
        self._exec("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   (key, value))

    def kv_set_default(self, key: str, value: str) -> str:
        self._exec("INSERT OR IGNORE INTO kv (key, value) VALUES (?, ?)", (key, value))
        return self.kv_get(key) or value


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (sqlite3.complete_statement handles ';' inside strings)."""
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        if not buf and line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
