"""Which values a file has already used, and on which row, without holding them in memory.

An import must report "same serial as row 15" for a 200,000-row file while its memory stays
flat, in a preview too (where nothing is written to the database). The index lives in a
private temporary SQLite file whose page cache is bounded; it is deleted when closed.
"""

import os
import sqlite3
import tempfile


class SeenValues:
    def __init__(self):
        handle, self._path = tempfile.mkstemp(prefix="tracker-import-", suffix=".sqlite")
        os.close(handle)
        self._db = sqlite3.connect(self._path)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA cache_size=-4000")  # KiB
        self._db.execute(
            "CREATE TABLE seen (kind TEXT, value TEXT, row INTEGER, PRIMARY KEY (kind, value))"
        )

    def first_rows(self, kind: str, values: list[str]) -> dict[str, int]:
        """For each value already added under `kind`, the row that first had it."""
        found = {}
        for start in range(0, len(values), 900):  # SQLite allows ~32k parameters; stay small
            part = values[start : start + 900]
            marks = ",".join("?" * len(part))
            found.update(
                self._db.execute(
                    f"SELECT value, row FROM seen WHERE kind = ? AND value IN ({marks})",  # noqa: S608
                    [kind, *part],
                )
            )
        return found

    def add(self, kind: str, pairs: list[tuple[str, int]]) -> None:
        self._db.executemany(
            "INSERT OR IGNORE INTO seen VALUES (?, ?, ?)",
            [(kind, value, row) for value, row in pairs],
        )

    def close(self) -> None:
        self._db.close()
        os.unlink(self._path)
