"""The operational database (SQLite) as it stands at the end of the world.

Table contents are deterministic (same rows, same order of insertion); the SQLite file itself
is not promised to be byte-identical across SQLite versions.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterable
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import pyarrow as pa

from dataplatform.generator import vocab
from dataplatform.generator.catalog import Catalog
from dataplatform.generator.listings import ListingRows
from dataplatform.generator.timeutil import format_utc
from dataplatform.generator.users import Users

SCHEMA = """
CREATE TABLE users (
    user_id     TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    phone       TEXT,
    full_name   TEXT NOT NULL,
    country     TEXT NOT NULL,
    signup_at   TEXT NOT NULL,
    is_seller   BOOLEAN NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE categories (
    category_id INTEGER PRIMARY KEY,
    parent_id   INTEGER NULL REFERENCES categories (category_id),
    name        TEXT NOT NULL
);
CREATE TABLE listings (
    listing_id  INTEGER PRIMARY KEY,
    seller_id   TEXT NOT NULL REFERENCES users (user_id),
    category_id INTEGER NOT NULL REFERENCES categories (category_id),
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    price       NUMERIC NOT NULL,
    currency    TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
"""
# Created after the rows are in: building an index once is cheaper than maintaining it.
INDEXES = """
CREATE INDEX ix_users_updated_at ON users (updated_at);
CREATE INDEX ix_listings_updated_at ON listings (updated_at);
CREATE INDEX ix_listings_seller_id ON listings (seller_id);
"""

USERS_COLUMNS = (
    "user_id",
    "email",
    "phone",
    "full_name",
    "country",
    "signup_at",
    "is_seller",
    "updated_at",
)
CATEGORIES_COLUMNS = ("category_id", "parent_id", "name")
LISTINGS_COLUMNS = (
    "listing_id",
    "seller_id",
    "category_id",
    "title",
    "description",
    "price",
    "currency",
    "status",
    "created_at",
    "updated_at",
)
BATCH_ROWS = 200_000


def _batches(columns: list[pa.Array | list]) -> Iterable[list[tuple]]:
    n = len(columns[0])
    for start in range(0, n, BATCH_ROWS):
        stop = min(start + BATCH_ROWS, n)
        sliced = [
            c.slice(start, stop - start).to_pylist() if isinstance(c, pa.Array) else c[start:stop]
            for c in columns
        ]
        yield list(zip(*sliced, strict=True))


def user_columns(users: Users) -> list[pa.Array | list]:
    return [
        users.user_id,
        users.email,
        users.phone,
        users.full_name,
        pick_country(users.country),
        format_utc(users.signup_ms),
        users.is_seller.astype(np.int64).tolist(),
        format_utc(users.updated_ms),
    ]


def pick_country(country: np.ndarray) -> list[str]:
    codes = np.array([code for code, _, _ in vocab.COUNTRIES], dtype=object)
    return codes[country].tolist()


def listing_columns(listings: ListingRows, users: Users) -> list[pa.Array | list]:
    # Cents as a float has an exact shortest repr (12.5, 1299.99); NUMERIC stores it exactly.
    price = (listings.price_cents / 100).tolist()
    currencies = np.array(vocab.CURRENCIES, dtype=object)
    statuses = np.array(vocab.LISTING_STATUSES, dtype=object)
    return [
        listings.listing_id.tolist(),
        users.user_id.take(pa.array(listings.seller)),
        listings.category_id.tolist(),
        listings.title,
        listings.description,
        price,
        currencies[listings.currency].tolist(),
        statuses[listings.status].tolist(),
        format_utc(listings.created_ms),
        format_utc(listings.updated_ms),
    ]


def category_rows(catalog: Catalog) -> list[tuple]:
    return [
        (int(cid), None if pid < 0 else int(pid), name)
        for cid, pid, name in zip(catalog.category_id, catalog.parent_id, catalog.name, strict=True)
    ]


def _create(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    # A fresh file written once: no journal needed, and it is much faster without one.
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    con.executescript(SCHEMA)
    return con


def _insert_users(con: sqlite3.Connection, users: Users, catalog: Catalog) -> None:
    con.executemany("INSERT INTO categories VALUES (?, ?, ?)", category_rows(catalog))
    for rows in _batches(user_columns(users)):
        con.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _insert_listings(con: sqlite3.Connection, listings: ListingRows, users: Users) -> None:
    for rows in _batches(listing_columns(listings, users)):
        con.executemany("INSERT INTO listings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.executescript(INDEXES)
    con.commit()


def write_opdb(path: Path, users: Users, catalog: Catalog, listings: ListingRows) -> None:
    con = _create(path)
    try:
        _insert_users(con, users, catalog)
        _insert_listings(con, listings, users)
    finally:
        con.close()


class DatabaseWriter:
    """Writes the operational DB in a forked child process, beside the rest of the generator.

    Inserting rows through sqlite3 is Python-bound: on a thread it would hold the GIL and
    starve the landing writers. The child gets the users copy-on-write when it is forked
    (right after they exist, so their rows go in while the simulation runs) and receives the
    listings through a queue once the simulation has made them. Where fork is unavailable,
    it writes inline. Fork before any worker thread is started.
    """

    def __init__(self, path: Path, users: Users, catalog: Catalog) -> None:
        self._path, self._users, self._catalog = path, users, catalog
        self._process: multiprocessing.Process | None = None
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        context = multiprocessing.get_context("fork")
        self._listings: multiprocessing.Queue = context.Queue()
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_database_child,
            args=(path, users, catalog, self._listings, sender),
            name="opdb-writer",
            daemon=True,
        )
        self._process.start()
        sender.close()

    def finish(self, listings: ListingRows) -> None:
        """Hand over the listings; the database is complete once wait() returns."""
        if self._process is None:
            write_opdb(self._path, self._users, self._catalog, listings)
        else:
            self._listings.put(listings)

    def wait(self) -> None:
        if self._process is None:
            return
        try:
            failure = self._receiver.recv()
        except EOFError:
            failure = "the process writing the operational database died"
        self._process.join()
        self._receiver.close()
        if failure is not None:
            raise OSError(failure)

    def cancel(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join()


def _database_child(
    path: Path, users: Users, catalog: Catalog, listings: multiprocessing.Queue, sender: Connection
) -> None:
    try:
        con = _create(path)
        try:
            _insert_users(con, users, catalog)
            _insert_listings(con, listings.get(), users)
        finally:
            con.close()
    except BaseException as exc:  # reported to the parent, which raises it
        sender.send(f"{type(exc).__name__}: {exc}")
    else:
        sender.send(None)
    finally:
        sender.close()
