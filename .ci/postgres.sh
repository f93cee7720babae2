# shellcheck shell=bash
# Sourced by .ci/run (and usable locally: `source .ci/postgres.sh` in bash).
# Starts a private throwaway PostgreSQL cluster on its own port on 127.0.0.1 with the one
# launcher of tests, bench and CI (scripts/lib/postgres-cluster.ts), creates a database and
# exports TEST_DATABASE_URL. Installs PostgreSQL with apt if initdb is missing. The cluster
# is stopped and its files removed when the sourcing shell exits (EXIT trap), and also by a
# watchdog if that shell is killed.

_ci_pg_main() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "postgres.sh: initdb not found; installing PostgreSQL with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi

  local assignments
  assignments=$(cd "$root" && node --import tsx scripts/postgres-cluster.ts --database restorability_test) || return 1
  local PG_CLUSTER_URL PG_CLUSTER_DIR PG_CLUSTER_STOP
  eval "$assignments"
  local stop="$PG_CLUSTER_STOP >/dev/null 2>&1"
  # Normal exit of the sourcing shell (also on failure, set -e): stop and clean up.
  # shellcheck disable=SC2064
  trap "$stop; rm -rf $PG_CLUSTER_DIR" EXIT
  # The sourcing shell killed (no EXIT trap runs): a detached watchdog stops the cluster.
  local parent=$$
  nohup setsid bash -c "while kill -0 $parent 2>/dev/null; do sleep 2; done
    $stop; rm -rf $PG_CLUSTER_DIR" </dev/null >/dev/null 2>&1 &
  disown $! 2>/dev/null || true

  export TEST_DATABASE_URL="$PG_CLUSTER_URL"
  echo "postgres.sh: PostgreSQL on ${PG_CLUSTER_URL%/*} (data in $PG_CLUSTER_DIR)"
  echo "postgres.sh: TEST_DATABASE_URL=$TEST_DATABASE_URL"
}

_ci_pg_main
unset -f _ci_pg_main
