/**
 * `tsx scripts/postgres-cluster.ts [--database NAME] [--max-connections N]`: starts a throwaway
 * PostgreSQL cluster (scripts/lib/postgres-cluster.ts) that outlives this command, creates the
 * database and prints shell assignments for .ci/postgres.sh to eval:
 * PG_CLUSTER_URL, PG_CLUSTER_DIR, PG_CLUSTER_STOP (the command that stops it).
 */
import { parseArgs } from "node:util";
import { startPostgresCluster, THROWAWAY_SETTINGS } from "./lib/postgres-cluster.js";

const { values } = parseArgs({
  options: {
    database: { type: "string", default: "restorability_test" },
    "max-connections": { type: "string", default: "200" },
  },
});
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

const cluster = await startPostgresCluster({
  settings: { ...THROWAWAY_SETTINGS, max_connections: Number(values["max-connections"]) },
  stopOnExit: false,
});
try {
  const url = await cluster.createDatabase(values.database);
  process.stdout.write(
    [
      `PG_CLUSTER_URL=${quote(url)}`,
      `PG_CLUSTER_DIR=${quote(cluster.dir)}`,
      `PG_CLUSTER_STOP=${quote(cluster.stopCommand.map(quote).join(" "))}`,
      "",
    ].join("\n"),
  );
} catch (error) {
  cluster.destroy();
  throw error;
}
