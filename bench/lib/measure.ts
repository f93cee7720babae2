import type { ServerStats } from "../servers/timing-hook.js";
import type { BenchContext } from "./context.js";
import { type LoadResult, runLoad, type Target, type Tools } from "./loadgen.js";
import { cacheDelta, cacheLookups } from "./metrics.js";
import { ask, cpuSeconds, rssMb } from "./procs.js";
import type { RunRecord } from "./report.js";
import type { Server } from "./servers.js";
import type { Expectation } from "./validate.js";

/** One measured load: its servers, its targets and the verdicts its request must get. */
export interface Scenario {
  id: string;
  group: string;
  title: string;
  server: Server | Server[];
  target: Target | Target[];
  /** Entries per request. */
  entries: number;
  /** Client concurrency (connections × streams). */
  concurrency: number;
  expect: Expectation;
  /** CPU seconds used so far by the database server's processes, when the scenario has one. */
  databaseCpu?: () => number;
}

/** One run: warm-up, then `seconds` of load while sampling the servers' CPU and RSS and the load's CPU. */
export async function measure(
  ctx: BenchContext,
  tools: Tools,
  scenario: Scenario,
  seconds: number,
  warmup: number,
): Promise<RunRecord> {
  const servers = Array.isArray(scenario.server) ? scenario.server : [scenario.server];
  const targets = Array.isArray(scenario.target) ? scenario.target : [scenario.target];
  if (warmup > 0) await Promise.all(targets.map((t) => runLoad(tools, t, warmup, ctx.loadCore)));
  // The store cache's counters, scraped outside the measured window (and before the timing hook's reset).
  const lookups0 = await cacheLookups(servers);
  await Promise.all(servers.map((s) => ask(s.proc, "reset")));
  const cpu0 = servers.map((s) => cpuSeconds(s.proc.pid) ?? 0);
  const db0 = scenario.databaseCpu?.();
  const loadPids: number[] = [];
  const loadCpu = new Map<number, number>();
  let rss = 0;
  let rssAnon = 0;
  const sample = () => {
    for (const s of servers) {
      rss = Math.max(rss, rssMb(s.proc.pid) ?? 0);
      rssAnon = Math.max(rssAnon, rssMb(s.proc.pid, "RssAnon") ?? 0);
    }
    for (const pid of loadPids) {
      const c = cpuSeconds(pid);
      if (c !== undefined) loadCpu.set(pid, c);
    }
  };
  const timer = setInterval(sample, 50);
  const t0 = performance.now();
  let results: LoadResult[];
  try {
    results = await Promise.all(
      targets.map((t) => runLoad(tools, t, seconds, ctx.loadCore, (pid) => loadPids.push(pid))),
    );
  } finally {
    clearInterval(timer);
  }
  const wall = (performance.now() - t0) / 1000;
  sample();
  const cpu = servers.reduce((sum, s, i) => sum + ((cpuSeconds(s.proc.pid) ?? 0) - cpu0[i]!), 0);
  const dbCpu = db0 === undefined ? undefined : scenario.databaseCpu!() - db0;
  const stats = await Promise.all(servers.map((s) => ask<ServerStats>(s.proc, "stats")));
  const cache = cacheDelta(lookups0, await cacheLookups(servers));
  const requests = results.reduce((n, r) => n + r.requests, 0);
  const serverCount = stats.reduce((n, s) => n + s.count, 0);
  const loadCpuTotal = [...loadCpu.values()].reduce((a, b) => a + b, 0);
  const r0 = results[0]!;
  return {
    tool: r0.tool,
    requests,
    seconds: r0.seconds,
    rps: results.reduce((n, r) => n + r.rps, 0),
    p50Ms: results.length === 1 ? r0.p50Ms : Math.max(...results.map((r) => r.p50Ms)),
    p99Ms: results.length === 1 ? r0.p99Ms : Math.max(...results.map((r) => r.p99Ms)),
    errors: results.reduce((n, r) => n + r.errors, 0),
    serverP50Ms: servers.length === 1 ? stats[0]!.p50 : Math.max(...stats.map((s) => s.p50)),
    serverP99Ms: servers.length === 1 ? stats[0]!.p99 : Math.max(...stats.map((s) => s.p99)),
    serverCpuMsPerRequest: serverCount > 0 ? (cpu * 1000) / serverCount : Number.NaN,
    ...(dbCpu !== undefined
      ? { databaseCpuMsPerRequest: serverCount > 0 ? (dbCpu * 1000) / serverCount : Number.NaN }
      : {}),
    serverCpuShare: cpu / wall,
    loadgenCpuShare: loadCpuTotal / wall,
    loadgenCpuMsPerRequest: requests > 0 ? (loadCpuTotal * 1000) / requests : Number.NaN,
    rssMb: rss,
    rssAnonMb: rssAnon,
    heapTotalMb: Math.max(...stats.map((x) => x.heapTotalMb)),
    heapUsedMb: Math.max(...stats.map((x) => x.heapUsedMb)),
    ...(cache ?? {}),
  };
}

/** One retry of a run whose load generator failed (a hiccup must not lose a 10-minute run). */
export async function measureOrRetry(ctx: BenchContext, tools: Tools, scenario: Scenario): Promise<RunRecord> {
  try {
    return await measure(ctx, tools, scenario, ctx.opts.seconds, ctx.opts.warmup);
  } catch (error) {
    ctx.log(`  ${scenario.id}: ${(error as Error).message.split("\n")[0]}; retrying once`);
    return measure(ctx, tools, scenario, ctx.opts.seconds, ctx.opts.warmup);
  }
}

/** The one-line log of a run. */
export function runLine(id: string, r: RunRecord, detail = true): string {
  const head = `  ${id.padEnd(22)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms`;
  const more = detail
    ? `  server p50 ${r.serverP50Ms.toFixed(2)} p99 ${r.serverP99Ms.toFixed(2)} ms  cpu/req ${r.serverCpuMsPerRequest.toFixed(3)} ms  ` +
      `rss ${Math.round(r.rssMb)} MB  load cpu ${(r.loadgenCpuShare * 100).toFixed(0)}%`
    : "";
  const cache = r.cacheHitShare === undefined ? "" : `  cache hits ${fmtShare(r.cacheHitShare)}`;
  return `${head}${more}${cache}${r.errors ? `  ERRORS ${r.errors}` : ""}`;
}

/** A share of lookups as a percentage. */
function fmtShare(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : "–";
}
