import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "../lib/context.js";
import { HTTP_CONNECTIONS } from "../lib/context.js";
import { ensureDb, importDb } from "../lib/databases.js";
import { DEMO_INVENTORY, DEMO_PROJECT, RESTORABLE, restBody } from "../lib/fixtures.js";
import { BENCH_PROJECT, restoreBodies } from "../lib/inventory.js";
import { runLoad, type Target, type Tools } from "../lib/loadgen.js";
import { cacheDelta, cacheLookups } from "../lib/metrics.js";
import { type Cluster, startCluster } from "../lib/postgres.js";
import { ask, stop } from "../lib/procs.js";
import { summarizeProfiles } from "../lib/profile.js";
import { CACHE_OFF_LABEL, type Server, STORE_CACHE_OFF, startCeiling, startService } from "../lib/servers.js";
import { grpcTarget, restTarget, tokens } from "../lib/targets.js";
import { STORE_ENV } from "./postgres.js";

/**
 * V8 CPU profiles (the sampler behind node --cpu-prof, started and stopped over the load
 * window only) of the service, and of the ceilings, under load; a summary per scenario.
 */
export async function profileUnderLoad(ctx: BenchContext, tools: Tools): Promise<void> {
  const seconds = ctx.opts.seconds;
  const dir = join(ctx.cache, "profiles", new Date().toISOString().replace(/[:.]/g, "-"));
  mkdirSync(dir, { recursive: true });
  const token = await tokens();
  const tmp = ctx.tempDir("restorability-bench-");
  const large = await ensureDb(ctx, ctx.sizes.large, false);
  const demo = await startService(ctx, "service-demo", join(tmp, "demo.db"), { INVENTORY_FILE: DEMO_INVENTORY });
  // The 100-entry batch at 1M profiles the database path: the SQLite cache off, as in bench/run.ts.
  const svcLarge = await startService(ctx, "service-large", large.path, STORE_CACHE_OFF);
  // The database path on both stores (the PostgreSQL goal of issue 13): 1 entry, caches off,
  // on the small inventory; PostgreSQL shares the server core. Skipped without its binaries.
  const small = await ensureDb(ctx, ctx.sizes.small, false);
  const svcSmall = await startService(ctx, "service-small", small.path, { ...STORE_ENV.sqlite, ...STORE_CACHE_OFF });
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster(ctx.serverCore);
  } catch (error) {
    ctx.log(`PostgreSQL: cannot start a cluster (${(error as Error).message.split("\n")[0]}); not profiled`);
  }
  let svcPg: Server | undefined;
  if (cluster) {
    await importDb(cluster.url, ctx.sizes.small);
    svcPg = await startService(ctx, "service-pg", cluster.url, { ...STORE_ENV.postgres, ...STORE_CACHE_OFF });
  }
  const restCeiling = await startCeiling(ctx, "rest");
  const grpcCeiling = await startCeiling(ctx, "grpc");
  const restorable = restBody([RESTORABLE.request]);
  // [name, server, target, what the name does not say]
  const runs: [string, Server, Target, string?][] = [
    ["gateway-restorable", demo, restTarget(demo.httpPort, DEMO_PROJECT, token.demo, [restorable], HTTP_CONNECTIONS)],
    ["grpc-restorable", demo, grpcTarget(demo.grpcPort, DEMO_PROJECT, token.demo, [RESTORABLE.request])],
    [
      "batch100-large",
      svcLarge,
      restTarget(
        svcLarge.httpPort,
        BENCH_PROJECT,
        token.bench,
        restoreBodies(ctx.sizes.large, 100, 100).map(restBody),
        HTTP_CONNECTIONS,
      ),
      CACHE_OFF_LABEL,
    ],
    ...(["sqlite", "postgres"] as const).flatMap((store): [string, Server, Target, string?][] => {
      const server = store === "sqlite" ? svcSmall : svcPg;
      if (server === undefined) return [];
      const bodies = restoreBodies(ctx.sizes.small, 1, 2000).map(restBody);
      return [
        [
          `gateway-${store}-1-entry`,
          server,
          restTarget(server.httpPort, BENCH_PROJECT, token.bench, bodies, HTTP_CONNECTIONS),
          `${ctx.sizes.small} items, ${CACHE_OFF_LABEL}`,
        ],
      ];
    }),
    [
      "rest-ceiling",
      restCeiling,
      restTarget(restCeiling.httpPort, DEMO_PROJECT, token.demo, [restorable], HTTP_CONNECTIONS),
    ],
    ["grpc-ceiling", grpcCeiling, grpcTarget(grpcCeiling.grpcPort, DEMO_PROJECT, token.demo, [RESTORABLE.request])],
  ];
  const summaries: string[] = [];
  for (const [name, server, target, note] of runs) {
    ctx.log(`profiling ${name} for ${seconds} s ...`);
    await runLoad(tools, target, Math.max(1, ctx.opts.warmup), ctx.loadCore);
    const sub = join(dir, name);
    mkdirSync(sub);
    const lookups0 = await cacheLookups([server]);
    await ask(server.proc, "profile-start");
    const result = await runLoad(tools, target, seconds, ctx.loadCore);
    await ask(server.proc, "profile-stop", join(sub, `${name}.cpuprofile`));
    const cache = cacheDelta(lookups0, await cacheLookups([server]));
    const hits = cache ? `, store cache hits ${(cache.cacheHitShare * 100).toFixed(1)}%` : "";
    summaries.push(
      `## ${name}${note ? `, ${note}` : ""}: ${Math.round(result.rps)} req/s under the profiler${hits}\n\n${summarizeProfiles(sub)}`,
    );
  }
  for (const s of [demo, svcLarge, svcSmall, svcPg, restCeiling, grpcCeiling]) if (s) await stop(s.proc);
  cluster?.stop();
  rmSync(tmp, { recursive: true, force: true });
  const report = join(dir, "summary.md");
  writeFileSync(report, `${summaries.join("\n\n")}\n`);
  console.log(readFileSync(report, "utf8"));
  ctx.log(`profiles (.cpuprofile, open in Chrome DevTools) and summary in ${dir}`);
}
