/**
 * npm run bench [-- --smoke] [--runs N] [--duration S] [--warmup S] [--loadgen auto|node] [--fresh-db]
 *                [--profile] [--pg|--no-pg] [--node-options "..."] [--out DIR]
 *
 * Starts every server it measures (pinned to core 0), drives load from separate processes
 * (pinned to core 1), and writes bench/results/<date>.json plus the summary table in
 * BENCHMARKS.md. --smoke: tiny databases, short runs, results in a temporary directory only.
 * --profile: the CPU profiles of bench/profile.ts (`npm run bench:profile`) instead.
 *
 * The parts: lib/args.ts (command line), lib/context.ts (options, cores, directories),
 * lib/servers.ts, lib/databases.ts, lib/measure.ts (one run), lib/metrics.ts (the store cache's
 * counters from GET /metrics), lib/validate.ts (one request
 * per scenario, checked before its load), scenarios/*.ts (what is measured), lib/report.ts.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { type BenchContext, GRPC_CONNECTIONS, GRPC_STREAMS, HTTP_CONNECTIONS } from "./lib/context.js";
import { ensureDb } from "./lib/databases.js";
import { runBenchEntry } from "./lib/entry.js";
import { DEMO_INVENTORY } from "./lib/fixtures.js";
import type { Tools } from "./lib/loadgen.js";
import { machine } from "./lib/machine.js";
import { measureOrRetry, runLine } from "./lib/measure.js";
import { ROOT } from "./lib/paths.js";
import { canPin, stop } from "./lib/procs.js";
import {
  type BenchResults,
  previousRun,
  type RunRecord,
  renderMarkdown,
  resultsFileName,
  type ScenarioResult,
  summarize,
  updateBenchmarksMd,
} from "./lib/report.js";
import { STORE_CACHE_OFF, startCeiling, startService } from "./lib/servers.js";
import { tokens } from "./lib/targets.js";
import { validate } from "./lib/validate.js";
import { type Calibration, calibrateLoadgen } from "./scenarios/calibration.js";
import { postgresScenario } from "./scenarios/postgres.js";
import { profileUnderLoad } from "./scenarios/profile.js";
import { startupTimes } from "./scenarios/startup.js";
import { throughputScenarios } from "./scenarios/throughput.js";

async function main(ctx: BenchContext, tools: Tools): Promise<void> {
  const { opts, sizes } = ctx;
  if (opts.profile) return profileUnderLoad(ctx, tools);

  const info = machine();
  const loadBefore = os.loadavg();
  ctx.log(
    `${opts.smoke ? "SMOKE" : "full"} run: ${opts.runs} run(s) × ${opts.seconds} s (+${opts.warmup} s warm-up); ` +
      `HTTP load: ${tools.http}, gRPC load: ${tools.grpc}; ${canPin() ? "server on core 0, load on core 1" : "NOT pinned (no taskset)"}`,
  );

  // Databases, import, start-up (before any server runs, so core 0 is ours).
  const small = await ensureDb(ctx, sizes.small, opts.freshDb || opts.smoke);
  const large = await ensureDb(ctx, sizes.large, opts.freshDb || opts.smoke);
  const startupRuns = opts.smoke ? 1 : 3;
  ctx.log(`start-up to ready: ${startupRuns}× on the ${sizes.large}-item and the ${sizes.small}-item database ...`);
  const startupLarge = await startupTimes(ctx, large.path, startupRuns);
  const startupSmall = await startupTimes(ctx, small.path, opts.smoke ? 0 : startupRuns);

  // Long-running servers.
  const tmp = ctx.tempDir("restorability-bench-");
  const token = await tokens();
  ctx.log("starting servers ...");
  const restCeiling = await startCeiling(ctx, "rest");
  const grpcCeiling = await startCeiling(ctx, "grpc");
  const demo = await startService(ctx, "service-demo", join(tmp, "demo.db"), { INVENTORY_FILE: DEMO_INVENTORY });
  // The store at scale: the generated databases without the SQLite cache (lib/servers.ts).
  const svcSmall = await startService(ctx, `service-${sizes.small}`, small.path, STORE_CACHE_OFF);
  const svcLarge = await startService(ctx, `service-${sizes.large}`, large.path, STORE_CACHE_OFF);
  const servers = [restCeiling, grpcCeiling, demo, svcSmall, svcLarge];

  const scenarios = throughputScenarios(
    { restCeiling, grpcCeiling, demo, small: svcSmall, large: svcLarge },
    sizes,
    token,
    opts.smoke,
  );
  ctx.log(`validating ${scenarios.length} scenarios (one request each) ...`);
  for (const s of scenarios) await validate(s.id, s.target, s.expect);

  const records = new Map<string, RunRecord[]>(scenarios.map((s) => [s.id, []]));
  for (let round = 1; round <= opts.runs; round++) {
    ctx.log(`round ${round}/${opts.runs}`);
    for (const s of scenarios) {
      const r = await measureOrRetry(ctx, tools, s);
      records.get(s.id)!.push(r);
      ctx.log(runLine(s.id, r));
    }
  }
  for (const s of servers) await stop(s.proc);

  // Load generator cost: the other tool once against the ceilings (full runs with wrk/h2load).
  let calibration: Calibration = [];
  if (!opts.smoke && (tools.http === "wrk" || tools.grpc === "h2load")) {
    calibration = await calibrateLoadgen(ctx, [scenarios[0]!, scenarios[1]!]);
  }

  // PostgreSQL: one vs two instances on one database, and one on SQLite (the same items) in the same rounds.
  let postgres: BenchResults["postgres"];
  if (opts.pg) postgres = await postgresScenario(ctx, tools, token.bench, small.path);

  rmSync(tmp, { recursive: true, force: true });
  const results: BenchResults = {
    date: new Date().toISOString(),
    mode: opts.smoke ? "smoke" : "full",
    machine: info,
    conditions: {
      runs: opts.runs,
      secondsPerRun: opts.seconds,
      warmupSeconds: opts.warmup,
      loadavgBefore: loadBefore,
      loadavgAfter: os.loadavg(),
      httpLoadgen: tools.http,
      grpcLoadgen: tools.grpc,
      httpConnections: HTTP_CONNECTIONS,
      grpcConnections: GRPC_CONNECTIONS,
      grpcStreamsPerConnection: GRPC_STREAMS,
      sizes: { small: sizes.small, large: sizes.large },
      serviceLogLevel: ctx.logLevel,
      serviceNodeOptions: opts.nodeOptions ?? "",
      inventoryServiceEnv: STORE_CACHE_OFF,
      totalSeconds: 0,
    },
    scenarios: scenarios.map(
      (s): ScenarioResult => ({
        id: s.id,
        group: s.group,
        title: s.title,
        entries: s.entries,
        concurrency: s.concurrency,
        runs: records.get(s.id)!,
      }),
    ),
    import: large.result,
    startup: {
      large: { items: sizes.large, ...startupLarge },
      small: { items: sizes.small, ...startupSmall },
    },
    calibration,
    postgres,
  };
  results.conditions.totalSeconds = (Date.now() - ctx.began) / 1000;
  writeResults(ctx, results);
  const failed = results.scenarios.filter((s) => s.runs.some((r) => r.errors > 0 || r.requests === 0));
  if (failed.length > 0) throw new Error(`bench: errors or no requests in ${failed.map((s) => s.id).join(", ")}`);
  if (opts.smoke) rmSync(ctx.cache, { recursive: true, force: true });
}

/** The results JSON, and the summary table in BENCHMARKS.md (full runs) or next to the JSON (smoke runs). */
function writeResults(ctx: BenchContext, results: BenchResults): void {
  const summary = summarize(results);
  mkdirSync(ctx.results, { recursive: true });
  const previous = previousRun(ctx.results);
  const file = join(ctx.results, resultsFileName(results.date));
  writeFileSync(file, `${JSON.stringify({ ...results, summary }, null, 2)}\n`);
  const markdown = renderMarkdown(results, summary, previous);
  if (ctx.opts.smoke) {
    writeFileSync(join(ctx.results, "BENCHMARKS.summary.md"), markdown);
  } else {
    updateBenchmarksMd(join(ROOT, "BENCHMARKS.md"), markdown);
  }
  console.log(`\n${markdown}`);
  ctx.log(`results: ${file}${ctx.opts.smoke ? "" : " and BENCHMARKS.md"}`);
}

await runBenchEntry(main);
