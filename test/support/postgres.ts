import pg from "pg";
import {
  type PostgresCluster,
  postgresBinDir,
  startPostgresCluster,
  THROWAWAY_SETTINGS,
} from "../../scripts/lib/postgres-cluster.js";

/**
 * The PostgreSQL server the shared tests use (`.ci/postgres.sh` starts one and exports it).
 * Unset: PostgreSQL tests skip, except in CI, where that is a setup error and fails loudly.
 */
export function testDatabaseUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL;
  if (url) return url;
  if (process.env.CI === "true") {
    throw new Error("CI=true but TEST_DATABASE_URL is unset: .ci/run must source .ci/postgres.sh first");
  }
  return undefined;
}

/**
 * Whether this process can run private clusters. Where PostgreSQL tests are enabled
 * (TEST_DATABASE_URL set, or CI) and the binaries are missing, that is an error.
 */
export function canRunPrivateCluster(): boolean {
  if (!testDatabaseUrl()) return false;
  if (postgresBinDir()) return true;
  throw new Error("PostgreSQL tests are enabled but initdb/pg_ctl are not installed (apt-get install postgresql)");
}

export type PrivateCluster = PostgresCluster;

/**
 * A throwaway PostgreSQL cluster of this test file alone (scripts/lib/postgres-cluster.ts),
 * for tests that stop or freeze the database. Always destroy() it in afterAll; it is also
 * stopped if the test process exits.
 */
export function startPrivateCluster(): Promise<PrivateCluster> {
  return startPostgresCluster({ settings: { ...THROWAWAY_SETTINGS, max_connections: 50 } });
}

/** A fresh database on the shared test server (TEST_DATABASE_URL), for a test file that needs its own. */
export async function createTestDatabase(baseUrl: string, prefix: string): Promise<string> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
