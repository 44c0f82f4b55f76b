#!/usr/bin/env bash
# Start / stop the real database servers the `db` tests talk to over ODBC, without systemd.
#
#   bash .ci/dbservers.sh start   # idempotent: starts what is not running, creates the test user/db
#   bash .ci/dbservers.sh stop    # shuts both down (data is kept under .ci/work/db for the next start)
#   bash .ci/dbservers.sh env     # prints `export EMR_TEST_...=...` lines for a shell
#
# MariaDB runs as root with a private data dir; PostgreSQL refuses root, so it runs as the `postgres`
# user (its data dir must be traversable by that user). Both listen on 127.0.0.1 only, on fixed ports
# that do not collide with a system-wide install. Test credentials are throwaway (loopback only).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE="${EMR_TEST_DB_BASE:-$PWD/.ci/work/db}"
MARIADB_PORT="${EMR_TEST_MARIADB_PORT:-33306}"
PG_PORT="${EMR_TEST_PG_PORT:-55432}"
TEST_USER=emr
TEST_PASSWORD=emr_test_pw
TEST_DB=emr_test

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"

# PostgreSQL runs as `postgres`, which must be able to reach its data dir. A checkout under a private
# folder (e.g. /root, mode 700) is not reachable: keep the data under /var/tmp instead, one folder per
# checkout, unless EMR_TEST_DB_BASE says where.
if [ -z "${EMR_TEST_DB_BASE:-}" ] && [ "${1:-}" != "env" ]; then
  mkdir -p "$BASE"; chmod 755 "$BASE"; chmod o+x "$(dirname "$BASE")"
  if ! su postgres -s /bin/sh -c "test -x '$BASE'" 2>/dev/null; then
    BASE="/var/tmp/emr-exporter-db-$(printf %s "$PWD" | md5sum | cut -c1-12)"
  fi
fi
MDATA="$BASE/maria"
MSOCK="$BASE/maria.sock"
PGDATA="$BASE/pg"
PGSOCK="$BASE/pgsock"  # owned by postgres: the server writes its socket and lock file here

as_postgres() { (cd / && su postgres -s /bin/sh -c "$*"); }
maria_up() { mariadb-admin --socket="$MSOCK" -uroot ping >/dev/null 2>&1; }
pg_up() { "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1; }

start_mariadb() {
  mkdir -p "$BASE"
  if ! maria_up; then
    if [ ! -d "$MDATA/mysql" ]; then
      mariadb-install-db --user=root --datadir="$MDATA" --auth-root-authentication-method=normal \
        --skip-test-db >"$BASE/maria-install.log" 2>&1
    fi
    nohup mariadbd --no-defaults --user=root --datadir="$MDATA" --bind-address=127.0.0.1 \
      --port="$MARIADB_PORT" --socket="$MSOCK" --pid-file="$BASE/maria.pid" --skip-name-resolve \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
      --log-error="$BASE/maria.err" >/dev/null 2>&1 &
    for _ in $(seq 1 120); do maria_up && break; sleep 0.5; done
    maria_up || { echo "MariaDB did not start; see $BASE/maria.err" >&2; tail -n 20 "$BASE/maria.err" >&2; exit 1; }
  fi
  # The test user may create and drop its own databases (tests load the demo clinic into fresh ones).
  mariadb --socket="$MSOCK" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS $TEST_DB CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$TEST_USER'@'127.0.0.1' IDENTIFIED BY '$TEST_PASSWORD';
ALTER USER '$TEST_USER'@'127.0.0.1' IDENTIFIED BY '$TEST_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$TEST_USER'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
}

start_postgres() {
  mkdir -p "$BASE"
  chmod 755 "$BASE"
  chmod o+x "$(dirname "$BASE")"  # postgres must traverse into $BASE even under a strict umask
  if ! pg_up; then
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      mkdir -p "$PGDATA"; chown postgres:postgres "$PGDATA"; chmod 700 "$PGDATA"
      # trust on the unix socket (admin from this script), passwords on TCP (tests see real login failures)
      as_postgres "$PGBIN/initdb -D '$PGDATA' -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8" \
        >"$BASE/pg-initdb.log" 2>&1
    fi
    mkdir -p "$PGSOCK"; chown postgres:postgres "$PGSOCK"
    touch "$BASE/pg.log"; chown postgres:postgres "$BASE/pg.log"
    as_postgres "$PGBIN/pg_ctl -D '$PGDATA' -l '$BASE/pg.log' -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$PGSOCK'\" start" >/dev/null \
      || { echo "PostgreSQL did not start; see $BASE/pg.log" >&2; tail -n 20 "$BASE/pg.log" >&2; exit 1; }
  fi
  cd /  # psql runs as postgres, which may not be able to enter the checkout
  local psql=(su postgres -s /bin/sh -c)
  "${psql[@]}" "psql -h '$PGSOCK' -p $PG_PORT -U postgres -qAt -v ON_ERROR_STOP=1 -d postgres" <<SQL >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_USER') THEN
    CREATE ROLE $TEST_USER LOGIN CREATEDB CREATEROLE PASSWORD '$TEST_PASSWORD';
  ELSE
    ALTER ROLE $TEST_USER LOGIN CREATEDB CREATEROLE PASSWORD '$TEST_PASSWORD';
  END IF;
END \$\$;
SQL
  if ! "${psql[@]}" "psql -h '$PGSOCK' -p $PG_PORT -U postgres -qAt -d postgres -c \"SELECT 1 FROM pg_database WHERE datname = '$TEST_DB'\"" | grep -q 1; then
    "${psql[@]}" "psql -h '$PGSOCK' -p $PG_PORT -U postgres -q -d postgres -c 'CREATE DATABASE $TEST_DB OWNER $TEST_USER'"
  fi
}

stop_all() {
  if maria_up; then mariadb-admin --socket="$MSOCK" -uroot shutdown || true; fi
  if [ -s "$PGDATA/PG_VERSION" ] && [ -f "$PGDATA/postmaster.pid" ]; then
    as_postgres "$PGBIN/pg_ctl -D '$PGDATA' -m fast -w stop" >/dev/null || true
  fi
}

print_env() {
  echo "export EMR_TEST_MARIADB='DRIVER={MariaDB Unicode};SERVER=127.0.0.1;PORT=$MARIADB_PORT;DATABASE=$TEST_DB;UID=$TEST_USER;PWD=$TEST_PASSWORD'"
  echo "export EMR_TEST_POSTGRES='DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PORT=$PG_PORT;DATABASE=$TEST_DB;UID=$TEST_USER;PWD=$TEST_PASSWORD'"
}

case "${1:-}" in
  start) start_mariadb; start_postgres; echo "MariaDB on 127.0.0.1:$MARIADB_PORT, PostgreSQL on 127.0.0.1:$PG_PORT (data: $BASE)" ;;
  stop) stop_all ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
