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
import { type Server, startService } from "../lib/servers.js";
import { restTarget } from "../lib/targets.js";
import { allRestorable, validate } from "../lib/validate.js";

/** PostgreSQL: the REST gateway with one and with two service instances on one database. */
export async function postgresScenario(
  ctx: BenchContext,
  tools: Tools,
  token: string,
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
    const a = await startService(ctx, "pg-a", cluster.url);
    const b = await startService(ctx, "pg-b", cluster.url);
    const scenario = (instances: Server[]): Scenario => ({
      id: `postgres-${instances.length}`,
      group: "postgres",
      title: `REST gateway on PostgreSQL, ${instances.length} instance(s), 1 entry, ${items} items`,
      server: instances,
      target: instances.map((s) =>
        restTarget(s.httpPort, BENCH_PROJECT, token, bodies, HTTP_CONNECTIONS / instances.length),
      ),
      entries: 1,
      concurrency: HTTP_CONNECTIONS,
      expect: allRestorable(1),
      databaseCpu: () => clusterCpuSeconds(cluster!.pid),
    });
    const one = scenario([a]);
    const two = scenario([a, b]);
    await validate(two.id, two.target, two.expect);
    rows.push({ instances: 1, runs: [] }, { instances: 2, runs: [] });
    for (let round = 1; round <= ctx.opts.runs; round++) {
      for (const [i, s] of [one, two].entries()) {
        const r = await measureOrRetry(ctx, tools, s);
        rows[i]!.runs.push(r);
        ctx.log(runLine(s.id, r, false));
      }
    }
    await stop(a.proc);
    await stop(b.proc);
    return { items, importSeconds: imported.importSeconds, rows };
  } finally {
    cluster.stop();
  }
}
