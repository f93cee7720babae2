import type { BenchContext } from "../lib/context.js";
import { HTTP_CONNECTIONS } from "../lib/context.js";
import { importDb } from "../lib/databases.js";
import { restBody } from "../lib/fixtures.js";
import { BENCH_PROJECT, restoreBodies } from "../lib/inventory.js";
import type { Tools } from "../lib/loadgen.js";
import { measureOrRetry, runLine, type Scenario } from "../lib/measure.js";
import { type Cluster, clusterCpuSeconds, startCluster } from "../lib/postgres.js";
import { stop } from "../lib/procs.js";
import type { BenchResults, RunRecord } from "../lib/report.js";
import { CACHE_OFF_LABEL, type Server, STORE_CACHE_OFF, startService } from "../lib/servers.js";
import { restTarget } from "../lib/targets.js";
import { allRestorable, validate } from "../lib/validate.js";

/**
 * What the services of this comparison run with beyond lib/servers.ts's serviceEnv, per store.
 * Both sides run the shipped defaults (each store's cache of looked-up objects on); a second
 * pair runs with both caches off (STORE_CACHE_OFF), the database path. The results JSON
 * records both (postgres.serviceEnv).
 */
export const STORE_ENV: { sqlite: Record<string, string>; postgres: Record<string, string> } = {
  sqlite: {},
  postgres: {},
};

/**
 * PostgreSQL: the REST gateway with one and with two service instances on one database, and
 * its SQLite twin: one instance on the SQLite database of the same generated items, with the
 * same bodies, connections and checks, measured in the same rounds (one instance on
 * PostgreSQL, then the twin, then two instances), so that PostgreSQL ÷ SQLite pairs per round.
 */
export async function postgresScenario(
  ctx: BenchContext,
  tools: Tools,
  token: string,
  /** The SQLite database of ctx.sizes.small generated items (the batch scenarios' small one). */
  sqlitePath: string,
): Promise<BenchResults["postgres"]> {
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster(ctx.serverCore);
  } catch (error) {
    ctx.log(`PostgreSQL: cannot start a cluster (${(error as Error).message.split("\n")[0]}); skipped`);
    return { skipped: `cannot start a PostgreSQL cluster: ${(error as Error).message.split("\n")[0]}` };
  }
  if (!cluster) {
    ctx.log("PostgreSQL: no initdb/pg_ctl on this machine; skipped");
    return { skipped: "no PostgreSQL server binaries (initdb, pg_ctl)" };
  }
  const items = ctx.sizes.small;
  try {
    ctx.log(`PostgreSQL: importing ${items} items ...`);
    const imported = await importDb(cluster.url, items);
    const bodies = restoreBodies(items, 1, 2000).map(restBody);
    const rows: { instances: number; runs: RunRecord[] }[] = [];
    const a = await startService(ctx, "pg-a", cluster.url, STORE_ENV.postgres);
    const b = await startService(ctx, "pg-b", cluster.url, STORE_ENV.postgres);
    const lite = await startService(ctx, "sqlite-twin", sqlitePath, STORE_ENV.sqlite);
    // The database path: both stores with their caches off.
    const pgOff = await startService(ctx, "pg-nocache", cluster.url, { ...STORE_ENV.postgres, ...STORE_CACHE_OFF });
    const liteOff = await startService(ctx, "sqlite-nocache", sqlitePath, { ...STORE_ENV.sqlite, ...STORE_CACHE_OFF });
    const scenario = (store: "postgres" | "sqlite", instances: Server[], cacheOff = false): Scenario => ({
      id: `${store}-${instances.length}${cacheOff ? "-nocache" : ""}`,
      group: "postgres",
      title: `REST gateway on ${store === "postgres" ? "PostgreSQL" : "SQLite"}, ${instances.length} instance(s), 1 entry, ${items} items${cacheOff ? `, ${CACHE_OFF_LABEL}` : ""}`,
      server: instances,
      target: instances.map((s) =>
        restTarget(s.httpPort, BENCH_PROJECT, token, bodies, HTTP_CONNECTIONS / instances.length),
      ),
      entries: 1,
      concurrency: HTTP_CONNECTIONS,
      expect: allRestorable(1),
      ...(store === "postgres" ? { databaseCpu: () => clusterCpuSeconds(cluster!.pid) } : {}),
    });
    const one = scenario("postgres", [a]);
    const two = scenario("postgres", [a, b]);
    const twin = scenario("sqlite", [lite]);
    const oneOff = scenario("postgres", [pgOff], true);
    const twinOff = scenario("sqlite", [liteOff], true);
    const uncached = { postgres: [] as RunRecord[], sqlite: [] as RunRecord[] };
    await validate(two.id, two.target, two.expect);
    await validate(twin.id, twin.target, twin.expect);
    rows.push({ instances: 1, runs: [] }, { instances: 2, runs: [] });
    const sqlite = { id: twin.id, title: twin.title, runs: [] as RunRecord[] };
    for (let round = 1; round <= ctx.opts.runs; round++) {
      for (const [s, runs] of [
        [one, rows[0]!.runs],
        [twin, sqlite.runs],
        [two, rows[1]!.runs],
        [oneOff, uncached.postgres],
        [twinOff, uncached.sqlite],
      ] as const) {
        const r = await measureOrRetry(ctx, tools, s);
        runs.push(r);
        ctx.log(runLine(s.id, r, false));
      }
    }
    for (const s of [a, b, lite, pgOff, liteOff]) await stop(s.proc);
    // Last, with nothing else running: the large inventory into an empty database (issue 14: ≤ 60 s).
    const large = ctx.sizes.large;
    ctx.log(`PostgreSQL: importing ${large.toLocaleString("en-US")} items into an empty database ...`);
    const big = await importDb(await cluster.createDatabase("bench_large"), large);
    ctx.log(
      `PostgreSQL: imported in ${big.importSeconds.toFixed(1)} s (generation ${big.generateSeconds.toFixed(1)} s, not counted)`,
    );
    const largeImport = {
      items: large,
      importSeconds: big.importSeconds,
      importCpuSeconds: big.importCpuSeconds,
      ...(big.importPeakRssMb !== undefined ? { importPeakRssMb: big.importPeakRssMb } : {}),
    };
    return { items, importSeconds: imported.importSeconds, rows, sqlite, uncached, serviceEnv: STORE_ENV, largeImport };
  } finally {
    cluster.stop();
  }
}
