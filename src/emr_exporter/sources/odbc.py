"""A clinic database over ODBC (pyodbc), read-only, read in keyset pages with the engine's paging syntax.

Connecting, read-only sessions, readable connection errors and password handling live in
:mod:`emr_exporter.sources.doctor`; per-engine knowledge (paging, streaming options) in
:mod:`emr_exporter.sources.drivers`. This module only adapts them to the :class:`~emr_exporter.sources.base.Source`
protocol the export pipeline reads through.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from emr_exporter.errors import SourceConnectionLost, SourcePermissionDenied, SourceQueryError, SourceUnavailable
from emr_exporter.sources.drivers import (
    caps_for,
    connection_string_for_streaming,
    detect_engine_of_connection,
    engine_from_connection_string,
    get_option,
    keyset_page_sql,
    redact_connection_string,
    row_keys,
    sqlite_keyset_marker,
)
from emr_exporter.sources.paging import sized_batches
from emr_exporter.sources.waiting import PROBE_SECONDS, Waiter, classify_session

log = logging.getLogger(__name__)

_FETCH_ROWS = 1000
# What drivers say when the server or the network dropped the connection (as opposed to a bad query).
_CONNECTION_STATES = {"08S01", "08003", "08007", "08001", "HYT01"}
_CONNECTION_MESSAGES = (
    "lost connection", "server has gone away", "connection was killed", "terminating connection",
    "server closed the connection", "no connection to the server", "communication link failure",
    "connection reset", "broken pipe", "could not send data", "could not receive data",
)


def is_connection_lost(exc: Exception) -> bool:
    """True when a pyodbc error means the connection is gone, not that the query was wrong."""
    args = getattr(exc, "args", ())
    state = args[0] if args and isinstance(args[0], str) else ""
    text = str(args[-1] if args else exc).lower()
    return state in _CONNECTION_STATES or any(message in text for message in _CONNECTION_MESSAGES)


def _result_names(cursor: Any) -> list[str]:
    """The result's column names. The SQLite ODBC driver gives a non-ASCII name's length in UTF-8 bytes, not in
    characters, so pyodbc reads past its end ('차트번호\x00\x00…', '이름\x00호\x00\x00'): a name ends at its first NUL,
    which no engine allows inside a name (what lies past the end is whatever pyodbc's buffer held, now and then
    no UTF-16 at all: see :func:`_execute`). A SELECT's names over that driver are learnt as values instead
    (:meth:`OdbcSource._sqlite_result_names`)."""
    return [str(d[0]).split("\x00", 1)[0] for d in cursor.description or ()]


def miscounted_by_mariadb(name: str) -> int:
    """How many characters MariaDB Connector/ODBC (3.1) leaves off the end of the result column name ``name``. It
    counts the name's characters reading each UTF-16 code unit byte-swapped: a unit whose low byte is 0xD8-0xDB
    looks like a high surrogate, and it and the unit after it are counted as one character; the name is then cut
    to that count. So '보험구분' (험 is U+D5D8) is described as '보험구', '동동xyz' as '동동xy', 'Øx' as 'Ø'; a
    name ending in such a character is whole (the statement itself and the values are always whole).
    tests/test_billing_clinic.py holds the rule to the driver."""
    count = i = 0
    while i < len(name):
        count += 1
        i += 2 if 0xD8 <= (ord(name[i]) & 0xFF) <= 0xDB and ord(name[i]) <= 0xFFFF else 1
    return len(name) - count


#: A name the SQL text of a query may give a result column: a backquoted or double-quoted identifier or a word.
_SQL_NAMES = re.compile(r"`((?:[^`]|``)+)`|\"((?:[^\"]|\"\")+)\"|([^\W\d]\w*)")


def repair_described_names(described: Sequence[str], candidates: Iterator[str] | Sequence[str] | set[str]) -> list[str]:
    """The result column names ``described`` by MariaDB Connector/ODBC, each cut short by
    :func:`miscounted_by_mariadb` given back whole from ``candidates`` (the names the query's tables and its
    text hold): a described name is the one candidate it is the cut-short form of. A described name that is a
    candidate itself and holds no miscounted character was whole; one that holds such a character cannot be
    whole. A name no candidate is cut to stays as described (a driver that counts right changes nothing); two
    candidates cut to it: a clear error naming it."""
    cut: dict[str, set[str]] = {}
    exact: set[str] = set()
    for name in candidates:
        exact.add(name)
        missing = miscounted_by_mariadb(name)
        if missing:
            cut.setdefault(name[: len(name) - missing], set()).add(name)
    repaired = []
    for name in described:
        whole = cut.get(name, set()) - {name}
        if not whole or (name in exact and not miscounted_by_mariadb(name)):
            repaired.append(name)  # as described: whole (a driver that counts right), or no name is cut to it
        elif len(whole) == 1:
            repaired.append(next(iter(whole)))
        else:
            raise SourceQueryError(
                f"The MariaDB ODBC driver described a result column as '{name}', a name it cuts short, and "
                f"{len(whole)} columns could be it. Give that column an alias of plain letters and digits in the "
                "connector's query (SELECT … AS col_name)."
            )
    return repaired


def names_in_sql(sql: str) -> set[str]:
    """Every name the text of ``sql`` spells (quoted or not): where a result column's name may come from."""
    return {(m[1] or "").replace("``", "`") or (m[2] or "").replace('""', '"') or m[3]
            for m in _SQL_NAMES.finditer(sql)}


def _execute(cursor: Any, sql: str, params: Sequence[Any] = ()) -> None:
    """``cursor.execute``; a result column name pyodbc cannot decode (the SQLite ODBC driver's, above) is said
    to be one, with what to do, rather than taken for a stored value."""
    try:
        cursor.execute(sql, *(_bindable(p) for p in params))
    except UnicodeDecodeError:
        raise SourceQueryError(
            "The ODBC driver gave a column name this program cannot read (the SQLite ODBC driver garbles names "
            "that are not plain ASCII, such as Hangul ones, now and then). For a SQLite database, read the file "
            "itself: --source FILE instead of --odbc or --dsn."
        ) from None


#: A statement the SQLite exact read can wrap as a derived table (PRAGMA and the like are read as they are).
_SQLITE_SELECT = re.compile(r"\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*(SELECT|WITH|VALUES)\b",
                            re.IGNORECASE | re.DOTALL)
_SQLITE_DUPLICATE_NAME = re.compile(r"(.*):\d+")
_SQLITE_TEXT_CODECS = {"UTF-8": "utf-8", "UTF-16le": "utf-16-le", "UTF-16be": "utf-16-be"}


#: The TEMP table :meth:`OdbcSource._sqlite_result_names` learns a query's column names from.
_SQLITE_NAMES_TABLE = "emr_exporter_result_names"


def _sqlite_query_names(described: Sequence[str]) -> list[str]:
    """The query's own names of the columns of a derived table over it (``described``): SQLite names a repeated
    column 'name:1' there, and the query's own name of it is 'name'."""
    return [m.group(1) if (m := _SQLITE_DUPLICATE_NAME.fullmatch(n)) and m.group(1) in described else n
            for n in described]


def _sqlite_real_text(ref: str, signed_zero: bool) -> str:
    """SQL giving the exact text of the REAL ``ref``: ``M'p'E`` for the finite non-zero value M * 2**E (M an
    integer of 53 bits, found by halving or doubling in a recursive query: exact, as every step is a power of
    two); ``Inf``/``-Inf``; ``0.0``, or ``-0.0`` where ``atan2`` can tell (``signed_zero``). The driver turns a
    REAL into text with 15 significant digits (``0.30000000000000004`` came back as ``0.3``) and SQLite's own
    ``printf('%!.17g')`` is off in the last digit beyond 1e230, so neither is used for a finite value."""
    zero = f"CASE WHEN atan2({ref}, -1.0) < 0 THEN '-0.0' ELSE '0.0' END" if signed_zero else "'0.0'"
    step = ("CASE WHEN a / 4294967296 >= 9007199254740992 THEN {big} WHEN a >= 9007199254740992 THEN {half} "
            "WHEN a * 4294967296 < 4503599627370496 THEN {up} ELSE {double} END")
    return (
        f"CASE WHEN {ref} = 0 THEN {zero} WHEN abs({ref}) > 1.7976931348623157e308 THEN printf('%!.17g', {ref}) "
        f"ELSE (WITH RECURSIVE s(a, e) AS (SELECT abs({ref}), 0 UNION ALL SELECT "
        f"{step.format(big='a / 4294967296', half='a / 2', up='a * 4294967296', double='a * 2')}, "
        f"{step.format(big='e + 32', half='e + 1', up='e - 32', double='e - 1')} FROM s "
        f"WHERE a >= 9007199254740992 OR a < 4503599627370496) "
        f"SELECT CASE WHEN {ref} < 0 THEN '-' ELSE '' END || CAST(a AS INTEGER) || 'p' || e FROM s "
        f"WHERE a >= 4503599627370496 AND a < 9007199254740992) END"
    )


def _sqlite_value(storage: Any, text: Any, codec: str) -> Any:
    """A value of the SQLite exact read (``storage`` its typeof, ``text`` its exact text) as the Python sqlite3
    module reads it: text that is not in the database's encoding as its bytes (as ``SqliteFileSource`` does)."""
    if storage == "integer":
        return int(text)
    if storage == "real":
        mantissa, p, exponent = str(text).partition("p")
        return math.ldexp(int(mantissa), int(exponent)) if p else float(text)
    if storage == "blob":
        return bytes.fromhex(str(text))
    if storage == "text":
        stored = bytes.fromhex(str(text))
        try:
            return stored.decode(codec)
        except UnicodeDecodeError:
            return stored
    return None


#: How servers say that the account may not read a table or column: PostgreSQL's SQLSTATE, and the texts of
#: MariaDB/MySQL ("SELECT command denied", state 42000), SQL Server ("The SELECT permission was denied").
_PERMISSION_STATES = frozenset({"42501"})
_PERMISSION_MESSAGES = ("command denied to user", "permission was denied", "permission denied")


def is_permission_denied(exc: Exception) -> bool:
    """True when a pyodbc error says the account lacks the right to read, not that the query was wrong."""
    args = getattr(exc, "args", ())
    state = args[0] if args and isinstance(args[0], str) else ""
    text = str(args[-1] if args else exc).lower()
    return state in _PERMISSION_STATES or any(message in text for message in _PERMISSION_MESSAGES)


#: The integers an ODBC parameter can carry as SQL_BIGINT; pyodbc raises OverflowError on any other.
_INT64 = range(-(2**63), 2**63)


def _bindable(value: Any) -> Any:
    """``value`` as pyodbc can bind it: an integer outside BIGINT's range (a MariaDB ``BIGINT UNSIGNED`` key
    above 2^63 as a keyset page's last key) as an exact DECIMAL, compared exactly by the server."""
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        return Decimal(value)
    return value


def _unquoted(identifier: str) -> str:
    # Connector identifiers are validated plain identifiers; left unquoted, every engine applies its
    # own case folding the same way to the DDL and to our queries (PostgreSQL lowercases both).
    return identifier


class OdbcSource:
    """A read-only pyodbc connection shaped as a :class:`~emr_exporter.sources.base.Source`.

    With ``snapshot`` (the export's connection) every query reads one consistent snapshot: the engine's
    :attr:`~emr_exporter.sources.drivers.DriverCaps.snapshot_statements` run right after connecting, in one
    transaction held until :meth:`close`. ``consistent`` says whether a snapshot is actually held (SQL
    Server without ALLOW_SNAPSHOT_ISOLATION, Firebird: no). A reconnect starts a *new* snapshot and adds
    one to ``snapshot_generation``, so the export can re-check its counts afterwards.
    """

    def __init__(self, connection_string: str, password: str | None = None, *, snapshot: bool = False,
                 time_zone: str | None = None, cancel: threading.Event | None = None) -> None:
        from emr_exporter.sources.connect import connect_odbc

        self._secrets = (password,)
        self.value_bytes_read = 0  # text and binary bytes rows() has read (see sized_batches)
        self._text_as_bytes: bool | None = None  # asked once (text_as_stored_bytes)
        self._sqlite_setup: tuple[str, bool] | None = None  # SQLite over ODBC: text encoding, atan2 known
        self._sqlite_exact: dict[str, tuple[str, list[str]] | None] = {}  # a query's exact read (see rows)
        self._catalog_names: set[str] | None = None  # MariaDB: every column name of the database (see _names)
        self._described: dict[tuple[str, tuple[str, ...]], list[str]] = {}  # MariaDB: names repaired (_names)
        self._database_name: str | None = None  # asked once (database_name)
        self._password = password  # kept in memory only, to reconnect after a dropped connection
        engine_hint = engine_from_connection_string(connection_string)
        if engine_hint:
            connection_string = connection_string_for_streaming(engine_hint, connection_string)
        self.label = redact_connection_string(connection_string, password)
        self._connection_string = connection_string
        #: Runs the queries' driver calls: cancellable from another thread, a stalled server noticed (waiting.py).
        #: ``cancel`` is watched from the connect on: Stop while connecting ends the wait at once.
        self.waiter = Waiter(cancel=cancel)
        self.conn = connect_odbc(connection_string, password, read_only=True, session_statement=False,
                                 cancel=cancel)
        self.snapshot = snapshot
        self.consistent = False
        self.snapshot_generation = 0
        self.time_zone = time_zone
        self._session_id: Any = None
        try:
            self.engine = detect_engine_of_connection(self.conn)
            self.caps = dataclasses.replace(caps_for(self.engine), quote=_unquoted)
            self._start_session()
            self._set_time_zone()
            if snapshot:
                self._begin_snapshot()
        except BaseException:  # stopped, stalled or refused right after the connect: the connection is not kept
            with contextlib.suppress(Exception):
                self.close()
            raise

    def watch(self, cancel: threading.Event | None) -> None:
        """Stop a query that is waiting for the server as soon as ``cancel`` is set (see :mod:`.waiting`)."""
        self.waiter.cancel = cancel

    def _start_session(self) -> None:
        """A new connection's first statements: its session id (:meth:`_learn_session_id`), then the engine's read-only
        session statement, before any other (run here, not by ``connect_odbc``, so that it waits under :attr:`waiter`
        with the session id known: a network that stalls right after the connect is noticed there too)."""
        self._learn_session_id()
        if self.caps.read_only_statement:
            self._statement(self.caps.read_only_statement)

    def _learn_session_id(self) -> None:
        """This connection's session id on the server, so that a query without an answer can be asked about over
        a second connection (:meth:`_ask_server`); none where the engine has no such question."""
        import pyodbc

        self._session_id = None
        self.waiter.probe = None
        if self.caps.session_id_query is None or self.caps.session_state_sql is None:
            return
        try:
            self._session_id = self._statement(self.caps.session_id_query)[0][0]
        except (pyodbc.Error, TypeError):  # not allowed for this account: queries wait as the driver lets them
            log.warning("the database did not tell its session id; a query that stops answering is not noticed")
            return
        self.waiter.probe = self._ask_server

    def _ask_server(self) -> str:
        """What the server says this connection's query is doing, asked over a second, short-lived connection (its
        answer is waited for at most PROBE_SECONDS + 5 s by the waiter: psqlODBC refuses a connection's query
        timeout)."""
        from emr_exporter.sources.connect import connect_odbc

        assert self.caps.session_state_sql is not None
        side = connect_odbc(self._connection_string, self._password, timeout=PROBE_SECONDS, read_only=False,
                            read_timeout=PROBE_SECONDS)
        try:
            row = side.execute(self.caps.session_state_sql, self._session_id).fetchone()
        finally:
            side.close()
        return classify_session(tuple(row) if row is not None else None)

    def _call(self, cursor: Any, function: Callable[[], Any]) -> Any:
        """One driver call on ``cursor`` through :attr:`waiter`."""
        return self.waiter.call(function, cursor.cancel)

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[Any]:
        """A new cursor for driver calls through :attr:`waiter` (:meth:`_call`), closed after the block unless a call
        on it was given up (closing would wait for the call still blocked in the driver). None once a call was
        interrupted (cancelled or stalled): the connection is not used again, and a driver may still hold it for the
        given-up call, so that even a new statement handle could wait."""
        import pyodbc

        if self.waiter.interrupted is not None:
            raise self.waiter.interrupted
        try:
            cursor = self.conn.cursor()
        except pyodbc.Error:
            # The connection is closed: a reconnect after a dropped connection failed. Say so, so that
            # the page reader tries to reconnect again instead of stopping the export.
            raise SourceConnectionLost("The connection to the clinic database is closed.") from None
        try:
            yield cursor
        finally:
            if not self.waiter.abandoned:
                cursor.close()

    def _statement(self, sql: str) -> list[Any]:
        """One statement of the connection's own (session id, time zone, snapshot, catalog) run through
        :attr:`waiter` like every query, so that a server that stops answering right after the connect is noticed
        and Ctrl-C or Stop end the wait; its rows (none for a statement without a result)."""
        with self._cursor() as cursor:
            def run() -> list[Any]:
                cursor.execute(sql)
                return cursor.fetchall() if cursor.description else []

            rows: list[Any] = self._call(cursor, run)
            return rows

    @contextlib.contextmanager
    def catalog_reader(self) -> Iterator[Callable[[Callable[[Any], Iterable[Any]]], list[Any]]]:
        """For reading the engine's catalogue (:func:`~emr_exporter.sources.catalog.list_tables`): ``read`` with
        one cursor, ``read(lambda cursor: cursor.columns(table=t))``, makes the driver call on the cursor and
        fetches its whole answer through :attr:`waiter` like every query (``SQLTables``, ``SQLColumns`` and
        ``SQLPrimaryKeys`` are queries on the server too, as long as one over a network that stalls)."""
        with self._cursor() as cursor:
            yield lambda call: self._call(cursor, lambda: list(call(cursor)))

    def database_name(self) -> str:
        """The connected database's name (``SQLGetInfo`` ``SQL_DATABASE_NAME``), asked once through :attr:`waiter`
        (a driver may ask the server: there is no statement of ours to cancel then, the call is given up)."""
        import pyodbc

        if self._database_name is None:
            self._database_name = str(
                self.waiter.call(lambda: self.conn.getinfo(pyodbc.SQL_DATABASE_NAME), lambda: None) or "")
        return self._database_name

    @property
    def streams_results(self) -> bool:
        """Whether the driver hands a query's rows over as they are fetched, not holding the whole result: psqlODBC
        only with ``UseDeclareFetch=1`` in the connection string (not knowable for a DSN's own settings)."""
        if self.engine == "postgresql":
            return get_option(self._connection_string, "UseDeclareFetch") == "1"
        return not self.caps.buffers_whole_result

    def _set_time_zone(self) -> None:
        """PostgreSQL and MariaDB/MySQL: the session's time zone set to ``time_zone`` (the connector's
        ``[source] timezone``, see :func:`emr_exporter.connectors.spec.session_time_zone`), so that the driver
        hands a ``timestamptz`` (PostgreSQL) or ``TIMESTAMP`` (MariaDB) over as the wall time in the zone the
        connector reads it in. Before any query, and again on a reconnect."""
        import pyodbc

        from emr_exporter.sources.drivers import session_time_zone_sql

        if self.time_zone is None or self.engine not in ("postgresql", "mariadb", "mysql"):
            return
        statement = session_time_zone_sql(self.engine, self.time_zone)
        if statement is None:
            log.warning("the time zone of the connector has no safe form on this database; the session's is left "
                        "as is")
            return
        try:
            self._statement(statement)
        except pyodbc.Error as exc:
            if self.engine != "postgresql":
                # MariaDB knows a named zone only with its time zone tables loaded: the server's zone stays.
                log.warning("the clinic database does not know the connector's time zone %s; TIMESTAMP columns "
                            "are read in the server's time zone (docs/databases.md)", self.time_zone)
                return
            raise SourceUnavailable(
                f"The clinic database could not use the connector's time zone {self.time_zone} "
                f"({self._safe_detail(exc)})."
            ) from None

    def _begin_snapshot(self) -> None:
        """One read transaction for the life of this connection (see the class docstring)."""
        import pyodbc

        caps = self.caps
        self.consistent = False
        if not caps.snapshot_statements:
            log.warning("%s cannot hold one snapshot; each query reads the database as it is then",
                        caps.display_name)
            return
        try:
            if caps.snapshot_precondition is not None:
                found = self._statement(caps.snapshot_precondition)
                allowed = found[0] if found else None
                if not allowed or allowed[0] != 1:
                    log.warning("the database does not allow snapshot reads (ALLOW_SNAPSHOT_ISOLATION is OFF); "
                                "each query reads the database as it is then")
                    return
            # a round trip on MariaDB (SET autocommit=0): under the waiter too; no statement of ours to cancel
            self.waiter.call(lambda: setattr(self.conn, "autocommit", False), lambda: None)
            for statement in caps.snapshot_statements:
                self._statement(statement)
        except pyodbc.Error as exc:
            raise SourceUnavailable(
                "The clinic database could not start a consistent read of all its tables "
                f"({self._safe_detail(exc)}). Ask the database administrator to check the database version "
                "and the export login's rights."
            ) from None
        self.consistent = True

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """The rows of ``sql``. On SQLite over ODBC every value as it is stored (see :meth:`_sqlite_exact_sql`)."""
        exact = self._sqlite_exact_sql(sql, params) if self.engine == "sqlite-odbc" else None
        if exact is None:
            yield from self._rows(sql, params)
            return
        wrapped, names = exact
        codec = self._sqlite_settings()[0]
        keys = row_keys(names)
        for row in self._rows(wrapped, params):
            values = list(row.values())
            yield {k: _sqlite_value(values[2 * i], values[2 * i + 1], codec) for i, k in enumerate(keys)}

    def _sqlite_settings(self) -> tuple[str, bool]:
        """The SQLite database's text encoding (its codec) and whether it knows ``atan2`` (math functions)."""
        if self._sqlite_setup is None:
            encoding = str(next(self._rows("PRAGMA encoding"))["encoding"])
            try:
                signed_zero = next(self._rows("SELECT atan2(0.0, -1.0) AS a"))["a"] is not None
            except SourceQueryError:
                signed_zero = False
            self._sqlite_setup = (_SQLITE_TEXT_CODECS.get(encoding, "utf-8"), signed_zero)
        return self._sqlite_setup

    def _sqlite_exact_sql(self, sql: str, params: Sequence[Any]) -> tuple[str, list[str]] | None:
        """SQLite over ODBC: ``sql`` wrapped to select each result column's storage class (``typeof``) and its
        exact text (an integer's digits, a REAL's :func:`_sqlite_real_text`, the hex of text and BLOB bytes), and
        the result's column names; None for a statement that cannot be wrapped (PRAGMA).

        sqliteodbc converts every value to the type the column declares, and a column without one by its first
        row: a legacy database's untyped column of dates read '24-02-02' as 24, '3,000원' as 3, 2500.5 as 2500,
        a CP949 BLOB as the text "X'B1E8…'", a REAL with 15 digits; the Python sqlite3 module reads them as
        stored, and so this does."""
        if sql in self._sqlite_exact:
            return self._sqlite_exact[sql]
        inner = sql.strip().rstrip(";")
        found: tuple[str, list[str]] | None = None
        if _SQLITE_SELECT.match(inner):
            described = self._sqlite_result_names(inner, params)
            signed_zero = self._sqlite_settings()[1]
            selects = []
            for i, name in enumerate(described):
                ref = 'w."{}"'.format(name.replace('"', '""'))
                selects.append(
                    f"typeof({ref}) AS t{i}, CASE typeof({ref}) WHEN 'integer' THEN CAST({ref} AS TEXT) "
                    f"WHEN 'real' THEN {_sqlite_real_text(ref, signed_zero)} WHEN 'null' THEN NULL "
                    f"ELSE hex({ref}) END AS v{i}")
            wrapped = f"SELECT {', '.join(selects)} FROM ({inner}\n) AS w"  # \n: a query may end in a -- comment
            names = _sqlite_query_names(described)
            if selects:
                found = (wrapped, names)
        if len(self._sqlite_exact) > 512:
            self._sqlite_exact.clear()
        self._sqlite_exact[sql] = found
        return found

    def _sqlite_result_names(self, inner: str, params: Sequence[Any]) -> list[str]:
        """SQLite over ODBC: the column names of a derived table over the query ``inner`` (``params`` bound), learnt
        as values, never from the driver's result column names: sqliteodbc gives a non-ASCII name's length in
        UTF-8 bytes (pyodbc reads past its end, now and then no UTF-16 at all: see :func:`_execute`) and cuts a
        name at its last dot ('a.b' as 'b'). An empty TEMP table is made from the query (a view takes no
        parameters) and its names read with ``PRAGMA table_info``, then dropped. TEMP objects live outside the
        clinic's file, but ``PRAGMA query_only`` refuses them too, so it is lifted for these statements only:
        each is this method's own, and the driver runs one statement per call ("only one SQL statement
        allowed"), so nothing else can run meanwhile."""
        import pyodbc

        read_only = self.caps.read_only_statement
        with self._cursor() as cursor:
            def learn() -> list[str]:
                if read_only:
                    cursor.execute("PRAGMA query_only = 0")
                try:
                    cursor.execute(f"DROP TABLE IF EXISTS temp.{_SQLITE_NAMES_TABLE}")
                    _execute(cursor, f"CREATE TEMP TABLE {_SQLITE_NAMES_TABLE} AS SELECT * FROM ({inner}\n) AS w "
                             "WHERE 1 = 0", params)
                    names = [str(row[1]) for row in cursor.execute(
                        f"PRAGMA temp.table_info({_SQLITE_NAMES_TABLE})").fetchall()]
                    cursor.execute(f"DROP TABLE temp.{_SQLITE_NAMES_TABLE}")
                finally:
                    if read_only:
                        cursor.execute(read_only)
                return names

            try:
                found: list[str] = self._call(cursor, learn)
            except pyodbc.Error as exc:
                raise self._query_error(exc) from None
        return found

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        import pyodbc

        with self._cursor() as cursor:  # none once cancelled or stalled: no more queries on this connection
            try:
                self._load_column_names()  # before the query: its result streams, holding the connection till read
                self._call(cursor, lambda: _execute(cursor, sql, params))
                if cursor.description is None:  # a statement without a result (PostgreSQL's DECLARE, MOVE, CLOSE)
                    return
                names = row_keys(self._names(cursor, sql))
                for batch in sized_batches(lambda n: self._call(cursor, lambda: cursor.fetchmany(n)), self,
                                           _FETCH_ROWS):
                    for row in batch:
                        yield dict(zip(names, row, strict=True))
            except pyodbc.Error as exc:
                raise self._query_error(exc) from None
            except ValueError as exc:
                # pyodbc cannot turn an impossible stored date (MySQL-family zero dates like 2019-00-10)
                # into a Python date. The connector must read such a column as text so the value is kept.
                raise SourceQueryError(
                    f"The clinic database returned a value that cannot be read as a date or number ({exc}). "
                    "Read that column as text in the connector's query, e.g. CAST(col AS CHAR), so the raw value "
                    "is kept and the row is quarantined instead."
                ) from None

    def _names(self, cursor: Any, sql: str) -> list[str]:
        """The result column names of ``sql`` just run on ``cursor``; on MariaDB/MySQL each name the driver cut
        short (:func:`miscounted_by_mariadb`) given back whole from the database's column names (read as values
        from information_schema, once, before: :meth:`_load_column_names`) and the names the query's text spells
        (:func:`repair_described_names`)."""
        names = _result_names(cursor)
        if self.engine not in ("mariadb", "mysql") or not names:
            return names
        key = (sql, tuple(names))
        found = self._described.get(key)
        if found is None:
            found = repair_described_names(names, (self._catalog_names or set()) | names_in_sql(sql))
            if len(self._described) > 512:
                self._described.clear()
            self._described[key] = found
        return found

    def _load_column_names(self) -> None:
        """MariaDB/MySQL: every column name of the databases this account sees (information_schema's values,
        whole), once, for :meth:`_names`; read before a query runs, never while its result streams (the
        connection answers one statement at a time: 'Commands out of sync')."""
        if self._catalog_names is None and self.engine in ("mariadb", "mysql"):
            self._catalog_names = self._database_column_names()

    def _database_column_names(self) -> set[str]:
        """Every column name of the databases this account sees (information_schema's values, whole)."""
        import pyodbc

        try:
            rows = self._statement("SELECT DISTINCT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA "
                                   "NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')")
            return {str(row[0]) for row in rows}
        except pyodbc.Error as exc:
            raise self._query_error(exc) from None

    @property
    def text_as_stored_bytes(self) -> bool:
        """Whether this database's text is read as its stored bytes (see DriverCaps.text_as_bytes_query)."""
        if self._text_as_bytes is None:
            query = self.caps.text_as_bytes_query
            self._text_as_bytes = bool(query is not None and self.scalar(query))
        return self._text_as_bytes

    def result_columns(self, sql: str) -> list[tuple[str, str]]:
        """The names and type names of the result columns of ``sql`` (a SELECT), without reading one of its
        rows: a ``WHERE 1 = 0`` describe for the names, then the engine's
        :attr:`~emr_exporter.sources.drivers.DriverCaps.result_type_expr` on one row of NULLs (a LEFT JOIN to
        the empty result) for the types. A type name is "" where the engine has no such expression, or where
        two columns share a name (neither could be named alone), but "FLOAT" for a single-precision float."""
        import pyodbc

        inner = sql.strip().rstrip(";")
        empty = f"SELECT * FROM ({inner}) AS described WHERE 1 = 0"
        with self._cursor() as cursor:
            try:
                if self.engine == "sqlite-odbc":  # the names as values, the driver's types by ASCII aliases
                    derived = self._sqlite_result_names(inner, ())
                    names = _sqlite_query_names(derived)
                    aliases = ", ".join('described."{}" AS c{}'.format(n.replace('"', '""'), i)
                                        for i, n in enumerate(derived))
                    self._call(cursor, lambda: _execute(
                        cursor, f"SELECT {aliases} FROM ({inner}\n) AS described WHERE 1 = 0"))
                else:
                    self._load_column_names()
                    self._call(cursor, lambda: _execute(cursor, empty))
                    names = self._names(cursor, empty)
                # a single-precision float as the driver describes it (7 digits): named FLOAT where no expression
                # names the types (MariaDB), so that readable_select reads it as the decimal the EMR showed
                described = ["FLOAT" if d[1] is float and d[3] == 7 else "" for d in cursor.description or ()]
            except pyodbc.Error as exc:
                raise self._query_error(exc) from None
        expr = self.caps.result_type_expr
        if expr is None or not names or len(set(names)) != len(names):
            return list(zip(names, described, strict=True))
        quote = caps_for(self.engine).quote
        types = ", ".join(f"{expr.format(col='d.' + quote(name))} AS t{i}" for i, name in enumerate(names))
        row = next(self.rows(f"SELECT {types} FROM (SELECT 1 AS one) AS one LEFT JOIN ({empty}) AS d ON 1 = 1"))
        return [(name, str(row[f"t{i}"] or "")) for i, name in enumerate(names)]

    def result_charsets(self, sql: str, names: Sequence[str]) -> list[str]:
        """The character sets of the result columns ``names`` (all of them, as :meth:`result_columns` gives
        them) of ``sql``, without reading one of its rows (the engine's
        :attr:`~emr_exporter.sources.drivers.DriverCaps.result_charset_expr` on one row of NULLs); "" for each
        where the engine has no such expression."""
        expr = self.caps.result_charset_expr
        if expr is None or not names:
            return ["" for _ in names]
        quote = caps_for(self.engine).quote
        inner = sql.strip().rstrip(";")
        empty = f"SELECT * FROM ({inner}) AS described WHERE 1 = 0"
        sets = ", ".join(f"{expr.format(col='d.' + quote(name))} AS c{i}" for i, name in enumerate(names))
        row = next(self.rows(f"SELECT {sets} FROM (SELECT 1 AS one) AS one LEFT JOIN ({empty}) AS d ON 1 = 1"))
        return [str(row[f"c{i}"] or "").lower() for i in range(len(names))]

    def _query_error(self, exc: Exception) -> SourceQueryError | SourceConnectionLost:
        detail = self._safe_detail(exc)
        if is_connection_lost(exc):
            return SourceConnectionLost(f"The connection to the clinic database was lost: {detail}")
        if is_permission_denied(exc):
            # PostgreSQL refuses a table in a schema the account has no USAGE on before it asks of SELECT: a
            # SELECT granted on the table alone would not help
            grant = ("USAGE on that schema and SELECT (read) on its tables" if "for schema" in detail.lower()
                     else "SELECT (read) on it")
            return SourcePermissionDenied(
                f"The database account may not read what the export needs: {detail}. Ask the EMR vendor or the "
                f"database administrator to grant this account {grant}; or, if the table holds no "
                "patient records, name it in connector.toml's [skip] with the reason."
            )
        return SourceQueryError(f"A query on the clinic database failed: {detail}")

    def _safe_detail(self, exc: Exception) -> str:
        """The driver's message, without passwords, and without values for data errors.

        Conversion and constraint errors (SQLSTATE classes 22 and 23) quote the offending value, which
        may be patient data: for those only the SQLSTATE is shown.
        """
        args = getattr(exc, "args", ())
        state = args[0] if args and isinstance(args[0], str) else ""
        if state[:2] in ("22", "23"):
            return f"SQLSTATE {state}: a stored value could not be read (the value is not shown)"
        detail = redact_connection_string(str(args[-1] if args else exc), *self._secrets)
        return detail if len(detail) <= 300 else detail[:300] + "…"

    def reconnect(self) -> None:
        """Open a fresh read-only connection (after :class:`SourceConnectionLost`).

        With ``snapshot`` the new connection reads a new snapshot: rows committed since the first one
        are visible from here on, which is why ``snapshot_generation`` goes up.
        """
        from emr_exporter.sources.connect import connect_odbc

        if self.waiter.interrupted is not None:  # cancelled or stalled: not a dropped connection to open again
            raise self.waiter.interrupted
        # The old connection is already broken: closing it is best effort.
        with contextlib.suppress(Exception):
            self.conn.close()
        self.conn = connect_odbc(self._connection_string, self._password, read_only=True, session_statement=False,
                                 cancel=self.waiter.cancel)
        self._start_session()
        self._set_time_zone()
        if self.snapshot:
            self.snapshot_generation += 1
            self._begin_snapshot()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        for row in self.rows(sql, params):
            return next(iter(row.values()))
        return None

    def table_exists(self, name: str) -> bool:
        # MariaDB/MySQL: without a catalog, SQLTables also lists other databases' tables on the server.
        catalog = self.database_name() if self.engine in ("mariadb", "mysql") else None
        # schema.table (a connector's table in its own schema); MariaDB's "schema" is the connected database.
        schema, _, table = name.rpartition(".") if catalog is None else ("", "", name)
        with self._cursor() as cursor:
            for schema_part, candidate in ((schema, table), (schema.lower(), table.lower()),
                                           (schema.upper(), table.upper())):
                def listed(table: str = candidate, schema: str = schema_part) -> Any:
                    return cursor.tables(table=table, catalog=catalog or None, schema=schema or None).fetchone()

                if self._call(cursor, listed) is not None:
                    return True
            return False

    def keyset_sql(self, inner_sql: str, key: str, page_size: int, first: bool, after: Any = None) -> str:
        marker = "?" if first else self.keyset_marker(inner_sql, key, after)
        return keyset_page_sql(self.caps, inner_sql, key, page_size=page_size, first=first, marker=marker)

    def keyset_marker(self, inner_sql: str, key_sql: str, after: Any) -> str:
        """SQLite over ODBC: a TEXT key read as its bytes (CP949, see :meth:`rows`) compared as TEXT, as
        :meth:`~emr_exporter.sources.base.SqliteFileSource.keyset_marker` does (bound as it came, a BLOB, every
        later TEXT key was skipped: 3003 of a mixed key's 6000 rows were read); ``?`` elsewhere."""
        if self.engine != "sqlite-odbc":
            return "?"
        return sqlite_keyset_marker(self.scalar, inner_sql, key_sql, after)

    def close(self) -> None:
        if self.waiter.abandoned:  # a query on it is still blocked in the driver, which ends it in the background
            return
        self.conn.close()
