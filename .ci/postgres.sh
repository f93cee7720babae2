# shellcheck shell=bash
# Sourced by .ci/run (and usable locally: `source .ci/postgres.sh` in bash).
# Starts a private throwaway PostgreSQL cluster on its own port on 127.0.0.1, creates a
# database and exports TEST_DATABASE_URL. Installs PostgreSQL with apt if initdb is
# missing. The cluster is stopped and its files removed when the sourcing shell exits
# (EXIT trap), and also by a watchdog if that shell is killed.

_ci_pg_main() {
  local bin="" dir candidate
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    bin=$(dirname "$(readlink -f "$(command -v initdb)")")
  else
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
      if [ -x "$candidate/initdb" ]; then bin=$candidate && break; fi
    done
  fi
  if [ -z "$bin" ]; then
    echo "postgres.sh: initdb not found; installing PostgreSQL with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
      if [ -x "$candidate/initdb" ]; then bin=$candidate && break; fi
    done
  fi
  if [ -z "$bin" ]; then
    echo "postgres.sh: no PostgreSQL server binaries (initdb, pg_ctl) after install" >&2
    return 1
  fi

  # postgres refuses to run as root: as root, run the server as the postgres user.
  local -a as=()
  dir=$(mktemp -d "${TMPDIR:-/tmp}/restorability-ci-pg.XXXXXX")
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    chown postgres: "$dir"
    as=(runuser -u postgres --)
  fi

  # Clean-up first, so that it also runs if the shell dies half-way through the start.
  local stop="${as[*]} $bin/pg_ctl -D $dir/data -m immediate -w stop >/dev/null 2>&1"
  # Normal exit of the sourcing shell (also on failure, set -e): stop and clean up.
  # shellcheck disable=SC2064
  trap "$stop; rm -rf $dir" EXIT
  # The sourcing shell killed (no EXIT trap runs): a detached watchdog stops the cluster,
  # also one whose start was still under way (its postmaster.pid appears a moment later).
  local parent=$$
  nohup setsid bash -c "while kill -0 $parent 2>/dev/null; do sleep 2; done
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -e $dir/data/postmaster.pid ] && $stop; sleep 1; done
    rm -rf $dir" </dev/null >/dev/null 2>&1 &
  disown $! 2>/dev/null || true

  local port
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

  "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    return 1
  }
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || {
    cat "$dir/server.log" >&2
    return 1
  }

  "${as[@]}" "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE restorability_test" >/dev/null
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/restorability_test"
  echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir)"
  echo "postgres.sh: TEST_DATABASE_URL=$TEST_DATABASE_URL"
}

_ci_pg_main
unset -f _ci_pg_main
