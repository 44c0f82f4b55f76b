"""Reading a clinic database: SQLite files, ODBC, per-driver capabilities, connection doctor."""
