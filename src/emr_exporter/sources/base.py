"""The clinic database, read-only: a SQLite file through the standard library, anything else over ODBC.

Rows are read in keyset pages (``WHERE key > ? ORDER BY key``) so that no driver ever buffers a whole
table and an export is deterministic: the same database gives the same rows in the same order.
Rows are dicts with lowercase column names, whatever the engine folds identifiers to.

Connection strings may hold a password: ``drivers.redact_connection_string`` removes it from
everything shown to a person; the password itself is passed separately and never logged.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from emr_exporter.errors import SourceConnectionLost, SourceQueryError, SourceUnavailable
from emr_exporter.sources.drivers import caps_for, row_keys, sqlite_keyset_marker
from emr_exporter.sources.paging import FETCH_ROWS, PageSizer, sized_batches, value_bytes

#: Rows per keyset page. A page is held whole (a retry after a lost connection re-reads exactly it): 5000
#: rows of dicts were ~6 MB of the 10^5 export's peak; 2000 keep ~2.3 MB, for no measurable CPU on SQLite
#: (docs/performance.md, "flatmem"; a page is still one round trip per 2000 rows on a network server).
DEFAULT_PAGE_SIZE = 2000
log = logging.getLogger(__name__)




class Source(Protocol):
    """What the pipeline needs from a database."""

    engine: str  # sqlite | mariadb | postgresql | mssql | firebird | …
    label: str  # safe to show: no password

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]: ...
    def table_exists(self, name: str) -> bool: ...
    def keyset_sql(self, inner_sql: str, key: str, page_size: int, first: bool, after: Any = None) -> str: ...
    def close(self) -> None: ...


def snapshot_generation(source: Source) -> int:
    """How many times the source's snapshot was started anew (after reconnects); 0 for sources without."""
    return int(getattr(source, "snapshot_generation", 0))


_Page = TypeVar("_Page")
RECONNECT_ATTEMPTS = 5
RECONNECT_FIRST_WAIT = 0.5  # seconds; doubles on each attempt


#: Column names (lowercase, in the query's order) and rows as tuples of values in that order.
ValuesPage = tuple[tuple[str, ...], list[tuple[Any, ...]]]


def _read_page(source: Source, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    """One whole page; if the connection drops, reconnect and read the same page again.

    A page is only handed on once it is complete, so a retry never repeats or skips a row: the export
    resumes from its keyset checkpoint (the last key of the previous page).
    """
    return _reconnecting(source, lambda: list(source.rows(sql, params)))


def _read_values_page(source: Source, sql: str, params: Sequence[Any]) -> ValuesPage:
    """:func:`_read_page` as column names and value tuples: ``dict(zip(names, values, strict=True))`` is
    the row :func:`_read_page` gives. From the source's ``row_values`` where it has one (no dict made per
    row: the export's worker processes make them), else from its dicts (one query: the same keys in every
    row, in the same order)."""
    row_values = getattr(source, "row_values", None)
    if row_values is None:
        page = _read_page(source, sql, params)
        return (tuple(page[0]) if page else ()), [tuple(row.values()) for row in page]
    return _reconnecting(source, lambda: row_values(sql, params))  # type: ignore[no-any-return]


def _reconnecting(source: Source, read: Callable[[], _Page]) -> _Page:
    """``read()`` (one whole page); if the connection drops, reconnect and read it again."""
    wait = RECONNECT_FIRST_WAIT
    for attempt in range(RECONNECT_ATTEMPTS + 1):
        try:
            return read()
        except SourceConnectionLost:
            reconnect = getattr(source, "reconnect", None)
            if reconnect is None or attempt == RECONNECT_ATTEMPTS:
                raise
            log.warning("connection to the clinic database lost; reconnecting (attempt %d)", attempt + 1)
            time.sleep(wait)
            wait *= 2
            try:
                reconnect()
            except SourceUnavailable:
                if attempt + 1 == RECONNECT_ATTEMPTS:
                    raise
    raise AssertionError("unreachable")


def reconnect_after(source: Source, lost: SourceConnectionLost, attempt: int) -> None:
    """After the ``attempt``-th lost connection in a row (1, 2, …) of a read that resumes where it stopped (a
    keyless table's ordered pages): wait as :func:`_reconnecting` does, then reconnect. Raises ``lost`` when the
    source cannot reconnect or after :data:`RECONNECT_ATTEMPTS`."""
    reconnect = getattr(source, "reconnect", None)
    if reconnect is None or attempt > RECONNECT_ATTEMPTS:
        raise lost
    log.warning("connection to the clinic database lost; reconnecting (attempt %d)", attempt)
    time.sleep(RECONNECT_FIRST_WAIT * 2 ** (attempt - 1))
    try:
        reconnect()
    except SourceUnavailable:
        if attempt == RECONNECT_ATTEMPTS:
            raise
        # the next attempt's read fails at once, and comes here again


def _page_bytes(source: Source, page: list[dict[str, Any]], read_before: int | None) -> int:
    """The text and binary bytes of a page :func:`_read_page` read: as the source's rows() measured them, else
    measured here."""
    if read_before is None:
        return value_bytes(row.values() for row in page)
    return int(getattr(source, "value_bytes_read", 0)) - read_before


#: A page's SQL from (rows, first page?, the last key read): its one parameter marker that key, after the first.
PageSql = Callable[[int, bool, Any], str]


def iter_keyset(
    source: Source, inner_sql: str, key: str, page_size: int = DEFAULT_PAGE_SIZE,
    converters: Mapping[str, Callable[[Any], Any]] | None = None, page_sql: PageSql | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Pages of rows of ``inner_sql`` ordered by ``key`` (unique), ``page_size`` rows at most.

    Rows whose key is NULL are left out (the caller reads and quarantines them separately): they sort
    first or last depending on the engine, would be read twice, and a NULL as the last key of a full
    page would restart the paging from the first page forever.

    ``converters`` (by row key; :func:`~emr_exporter.sources.catalog.readable_query`) are applied to each
    page's values after its last key is taken as read: the keyset compares the values the query gives.

    ``page_sql``: how each page's query is made instead (``inner_sql`` then unused): one that takes ``rows`` keys
    of a table and joins them to others, which may give a key's row more than once (ExportRun's grouped
    references): every row of the page's keys, in the key's order. A page is full when it holds ``rows`` rows
    or more.
    """
    last: Any = None
    key_name = key.lower()
    keyed_sql = f"SELECT * FROM ({inner_sql}) keyed WHERE keyed.{key} IS NOT NULL"
    sizer = PageSizer(page_size)
    while True:
        rows = sizer.rows
        sql = (page_sql(rows, last is None, last) if page_sql is not None
               else source.keyset_sql(keyed_sql, key, rows, first=last is None, after=last))
        params = () if last is None else (last,)
        size, read_before = None, None
        if getattr(source, "row_values", None) is not None:
            # The page as value tuples (SQLite: text decoded by the module, no Python call per value, and no
            # generator step per row), each row's dict made here: the very dicts rows() gives
            # (_read_values_page), measured as sized_batches measures rows() (every value of the tuples).
            names, values = _read_values_page(source, sql, params)
            page = [dict(zip(names, row, strict=True)) for row in values]
            size = value_bytes(values) if len(page) >= rows else 0
            del values
        else:
            read_before = getattr(source, "value_bytes_read", None)
            page = _read_page(source, sql, params)
        if not page:
            return
        full = len(page) >= rows
        if full:
            last = page[-1][key_name]
        if converters:
            for row in page:
                for name, convert in converters.items():
                    if name in row:
                        row[name] = convert(row[name])
        yield page
        if not full:
            return
        sizer.measured(len(page), _page_bytes(source, page, read_before) if size is None else size)
        # Let go of this page before the next one is read (the caller lets go of its own reference too):
        # otherwise two pages of row dicts are alive at once, the export's largest transient (flatmem).
        del page


def iter_keyset_values(
    source: Source, inner_sql: str, key: str, page_size: int = DEFAULT_PAGE_SIZE,
    converters: Mapping[str, Callable[[Any], Any]] | None = None, page_sql: PageSql | None = None,
) -> Iterator[ValuesPage]:
    """:func:`iter_keyset`'s pages as column names and value tuples (see :func:`_read_values_page`): the
    export's parent hands rows to its worker processes so, without making a dict of each. ``converters``,
    ``page_sql``: as in :func:`iter_keyset`."""
    last: Any = None
    key_name = key.lower()
    keyed_sql = f"SELECT * FROM ({inner_sql}) keyed WHERE keyed.{key} IS NOT NULL"
    sizer = PageSizer(page_size)
    while True:
        rows = sizer.rows
        sql = (page_sql(rows, last is None, last) if page_sql is not None
               else source.keyset_sql(keyed_sql, key, rows, first=last is None, after=last))
        names, page = _read_values_page(source, sql, () if last is None else (last,))
        if not page:
            return
        full = len(page) >= rows
        if full:
            last = dict(zip(names, page[-1], strict=True))[key_name]  # as iter_keyset reads it (a name twice: the last)
        if converters:
            at = [(i, converters[name]) for i, name in enumerate(names) if name in converters]
            if at:
                page = [_converted(values, at) for values in page]
        yield names, page
        if not full:
            return
        sizer.measured(len(page), value_bytes(page))
        del page  # as in iter_keyset


def _converted(values: tuple[Any, ...], at: Sequence[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    row = list(values)
    for i, convert in at:
        row[i] = convert(row[i])
    return tuple(row)


def _column_names(cursor: sqlite3.Cursor) -> tuple[str, ...]:
    return row_keys([d[0] for d in cursor.description or ()])


def _sqlite_text(raw: bytes) -> str | bytes:
    # Legacy EMRs store CP949 bytes in TEXT columns: hand undecodable values on as bytes so the
    # connector's encoding decides, instead of failing the whole query.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _wal_mode(path: Path) -> bool:
    """The file's header says WAL mode (bytes 18 and 19, the file format's read and write versions, are 2)."""
    try:
        with path.open("rb") as f:
            header = f.read(20)
    except OSError:
        return False
    return header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02"


def _open_read_only(path: Path) -> sqlite3.Connection:
    """``path`` opened read-only (URI ``mode=ro``; ``isolation_level=None``: the sqlite3 module never opens or
    ends a transaction behind our back).

    A WAL-mode database needs its ``-shm`` index beside it, which a read-only connection creates when it is
    missing. On a read-only medium (a founder's copy on a USB stick, a write-protected share) it cannot: SQLite
    answers 'unable to open database file'. With no ``-wal`` file beside it, or an empty one, every committed row
    is in the file itself, and nothing can change it there: it is opened ``immutable``. With a ``-wal`` file
    holding changes (copied while the EMR was open) those rows are readable only with the ``-shm`` index: a clear
    error says so, rather than reading the file without them."""
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if "unable to open" not in str(exc) or not _wal_mode(path):
            raise
    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    if wal.exists() and wal.stat().st_size > 0:
        raise SourceUnavailable(
            f"{path.name} is in WAL mode and its recent changes are in {wal.name}, but reading them needs "
            f"a writable {shm.name} file, which cannot be made in this read-only folder. Copy {path.name} and "
            f"{wal.name} together to a folder this account can write to (or open and close the EMR program once on the "
            f"clinic's computer, which folds {wal.name} into {path.name}) and export from there.")
    conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
    log.info("%s: WAL mode in a read-only folder without a %s file; opened immutable", path.name, wal.name)
    return conn


class SqliteFileSource:
    """A SQLite database file opened read-only with the standard library.

    With ``snapshot`` (the export's source) one read transaction is held for the life of the source, so
    every query sees the file as it was at the first read. In WAL mode the EMR keeps writing meanwhile
    (we just do not see it); in rollback-journal mode its writes wait until :meth:`close` — which is why
    the founder is asked to close the EMR program before exporting.
    """

    engine = "sqlite"
    snapshot_generation = 0  # a local file never reconnects

    def __init__(self, path: Path, *, snapshot: bool = False, attach: Sequence[tuple[str, Path]] = ()) -> None:
        self.path = Path(path)
        self.label = f"SQLite file {self.path.name}"
        self.value_bytes_read = 0  # text and binary bytes rows() has read (see sized_batches)
        if not self.path.is_file():
            raise SourceUnavailable(f"The database file {self.path} does not exist.")
        try:
            self.conn = _open_read_only(self.path)
            self.conn.text_factory = _sqlite_text
            self._utf8_text = True  # row_values: every text value read so far was UTF-8
            self.conn.execute("PRAGMA query_only = 1")
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            self._attach(attach)
            if snapshot:
                for statement in caps_for("sqlite").snapshot_statements:
                    self.conn.execute(statement).fetchall()
                for schema, _ in attach:  # each attached file's snapshot taken now too, not at its first read
                    self.conn.execute(f'SELECT count(*) FROM "{schema}".sqlite_master').fetchall()
            self.consistent = snapshot
        except sqlite3.DatabaseError as exc:
            raise SourceUnavailable(f"{self.path.name} is not a readable SQLite database ({exc}).") from None

    def _attach(self, attach: Sequence[tuple[str, Path]]) -> None:
        """ATTACH the other files the EMR attaches (``[source] attach``), read-only, as ``schema``."""
        for schema, file in attach:
            if not Path(file).is_file():
                raise SourceUnavailable(f"The connector attaches {Path(file).name} as {schema} ([source] attach), "
                                        f"but there is no such file beside {self.path.name}.")
            uri = f"{Path(file).resolve().as_uri()}?mode=ro"
            self.conn.execute(f'ATTACH DATABASE ? AS "{schema}"', (uri,))
            self.conn.execute(f'SELECT count(*) FROM "{schema}".sqlite_master').fetchone()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        try:
            cursor = self.conn.execute(sql, tuple(params))
        except sqlite3.Error as exc:
            raise SourceQueryError(f"A query on {self.label} failed: {exc}") from None
        names = _column_names(cursor)
        for batch in sized_batches(cursor.fetchmany, self, FETCH_ROWS):
            for row in batch:
                yield dict(zip(names, row, strict=True))

    def row_values(self, sql: str, params: Sequence[Any] = ()) -> ValuesPage:
        """Every row of ``sql`` as :meth:`rows` reads it, as column names and value tuples (a page).

        Text is decoded by the sqlite3 module itself (``text_factory = str``: no Python call per value,
        ~0.4 µs a row) until a value is not UTF-8: then this page is read again as :meth:`rows` reads it
        (undecodable values as bytes), and every later page too. Strict UTF-8 both ways, so the same values.
        The module's error names the value: it is dropped here, never shown or chained."""
        if self._utf8_text:
            self.conn.text_factory = str
            try:  # not through _values: its error message would carry the module's (and so the value)
                cursor = self.conn.execute(sql, tuple(params))
                return _column_names(cursor), cursor.fetchall()
            except sqlite3.Error:  # a value that is not UTF-8, or a real error (raised below, as rows() does)
                pass
            finally:
                self.conn.text_factory = _sqlite_text
            page = self._values(sql, params)  # outside the except: nothing is chained to the dropped error
            self._utf8_text = False  # read the strict way, so it was the text: every later page so too
            return page
        return self._values(sql, params)

    def _values(self, sql: str, params: Sequence[Any]) -> ValuesPage:
        try:
            cursor = self.conn.execute(sql, tuple(params))
        except sqlite3.Error as exc:
            raise SourceQueryError(f"A query on {self.label} failed: {exc}") from None
        return _column_names(cursor), cursor.fetchall()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        for row in self.rows(sql, params):
            return next(iter(row.values()))
        return None

    def table_exists(self, name: str) -> bool:
        found = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND lower(name) = lower(?)", (name,)
        ).fetchone()
        return found is not None

    def keyset_sql(self, inner_sql: str, key: str, page_size: int, first: bool, after: Any = None) -> str:
        marker = "?" if first else self.keyset_marker(inner_sql, key, after)
        where = "" if first else f" WHERE q.{key} > {marker}"
        return f"SELECT * FROM ({inner_sql}) q{where} ORDER BY q.{key} LIMIT {int(page_size)}"

    def keyset_marker(self, inner_sql: str, key_sql: str, after: Any) -> str:
        """The parameter marker of ``key > ?`` for the last key ``after`` of a page of ``inner_sql``.

        A TEXT key holding legacy CP949 bytes comes back as bytes (see _sqlite_text), as a BLOB key does.
        Bound as a BLOB, a TEXT key would compare below every BLOB and above every TEXT (the paging would
        skip the rest of the text keys); compared as TEXT, a BLOB key would compare below every BLOB (the
        same page again, forever). So the key's storage class is looked up: TEXT → ``CAST(? AS TEXT)``."""
        return sqlite_keyset_marker(self.scalar, inner_sql, key_sql, after)

    def close(self) -> None:
        self.conn.close()


def watch_cancel(source: Source, cancel: Any) -> None:
    """A source whose waiting query can be stopped from another thread (:class:`~.odbc.OdbcSource`) stops it as
    soon as ``cancel`` (a ``threading.Event``) is set, not at the next page; others check it between pages only."""
    watch = getattr(source, "watch", None)
    if cancel is not None and watch is not None:
        watch(cancel)


def open_source(*, database: Path | None = None, odbc: str | None = None, dsn: str | None = None,
                password: str | None = None, snapshot: bool = False, time_zone: str | None = None,
                attach: Sequence[tuple[str, Path]] = (), cancel: Any = None) -> Source:
    """Open the clinic database given by exactly one of a file path, an ODBC connection string or a DSN.

    ``snapshot``: read one consistent snapshot for the life of the source (the export does; a scan,
    which may carry on after a failed query, does not — a failed query ends a PostgreSQL transaction).
    ``time_zone``: a PostgreSQL session's TimeZone (:func:`emr_exporter.connectors.spec.session_time_zone`);
    a SQLite file has no session zone.
    ``cancel`` (a ``threading.Event``): a database server's source watches it from the connect on (Stop while
    connecting ends the wait at once: :class:`~emr_exporter.errors.ExportCancelled`); a file opens at once.
    """
    given = [x for x in (database, odbc, dsn) if x]
    if len(given) != 1:
        raise SourceUnavailable("Give exactly one of a database file, an ODBC connection string or a DSN.")
    if database is not None:
        return SqliteFileSource(Path(database), snapshot=snapshot, attach=attach)
    from emr_exporter.sources.odbc import OdbcSource

    connection_string = odbc if odbc else f"DSN={dsn}"
    return OdbcSource(connection_string, password=password, snapshot=snapshot, time_zone=time_zone, cancel=cancel)
