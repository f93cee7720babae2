/**
 * npm run bench [-- --smoke] [--runs N] [--duration S] [--warmup S] [--loadgen auto|node] [--fresh-db]
 *                [--profile] [--pg|--no-pg] [--node-options "..."] [--out DIR]
 *
 * Starts every server it measures (pinned to core 0), drives load from separate processes
 * (pinned to core 1), and writes bench/results/<date>.json plus the summary table in
 * BENCHMARKS.md. --smoke: tiny databases, short runs, results in a temporary directory only.
 * --profile: V8 CPU profiles (the sampler behind node --cpu-prof, started and stopped over the
 * load window only) of the service, and of the ceilings, under load; a summary per scenario.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fromBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { CheckRestorableResponseSchema } from "../gen/csbs/v1/resource_service_pb.js";
import { freePort } from "../scripts/lib/free-port.js";
import { mintToken } from "../src/auth/mint-token.js";
import {
  DEMO_INVENTORY,
  DEMO_PROJECT,
  DEMO_PROVIDER,
  type DemoCase,
  FAILING,
  GRPC_PATH,
  REST_PATH,
  RESTORABLE,
  requestBinary,
  requestJson,
  restBody,
} from "./lib/fixtures.js";
import {
  BENCH_PROJECT,
  CSBS_PROVIDER_ID,
  GENERATOR_VERSION,
  type RestoreEntryJson,
  restoreBodies,
} from "./lib/inventory.js";
import { type LoadgenChoice, type LoadResult, pickTools, runLoad, type Target, type Tools } from "./lib/loadgen.js";
import { DIST, dist, ROOT } from "./lib/paths.js";
import { type Cluster, startCluster } from "./lib/postgres.js";
import {
  ask,
  canPin,
  cpuSeconds,
  type Proc,
  pinSelf,
  rssMb,
  run,
  start,
  stop,
  waitHttp,
  waitTcp,
} from "./lib/procs.js";
import { summarizeProfiles } from "./lib/profile.js";
import {
  type BenchResults,
  type RunRecord,
  renderMarkdown,
  type ScenarioResult,
  summarize,
  updateBenchmarksMd,
} from "./lib/report.js";
import type { ServerStats } from "./servers/timing-hook.js";

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  smoke: boolean;
  runs: number;
  seconds: number;
  warmup: number;
  loadgen: LoadgenChoice;
  freshDb: boolean;
  profile: boolean;
  /** PostgreSQL one vs two instances: default on in full runs, off in smoke runs. */
  pg: boolean | undefined;
  out: string | undefined;
  /** NODE_OPTIONS for the service processes (e.g. "--max-old-space-size=64"), to measure a deployment setting. */
  nodeOptions: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    smoke: false,
    runs: 3,
    seconds: 5,
    warmup: 1,
    loadgen: "auto",
    freshDb: false,
    profile: false,
    pg: undefined,
    out: undefined,
    nodeOptions: undefined,
  };
  const explicit = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case "--":
        break;
      case "--smoke":
        opts.smoke = true;
        break;
      case "--runs":
        opts.runs = Number(value());
        explicit.add("runs");
        break;
      case "--duration":
        opts.seconds = Number(value());
        explicit.add("seconds");
        break;
      case "--warmup":
        opts.warmup = Number(value());
        explicit.add("warmup");
        break;
      case "--loadgen":
        opts.loadgen = value() === "node" ? "node" : "auto";
        break;
      case "--fresh-db":
        opts.freshDb = true;
        break;
      case "--profile":
        opts.profile = true;
        break;
      case "--no-pg":
        opts.pg = false;
        break;
      case "--pg":
        opts.pg = true;
        break;
      case "--out":
        opts.out = value();
        break;
      case "--node-options":
        opts.nodeOptions = value();
        break;
      default:
        throw new Error(`bench: unknown option ${arg}`);
    }
  }
  opts.pg ??= !opts.smoke;
  if (opts.smoke) {
    if (!explicit.has("runs")) opts.runs = 1;
    if (!explicit.has("seconds")) opts.seconds = 1;
    if (!explicit.has("warmup")) opts.warmup = 0;
  }
  if (!(opts.runs >= 1) || !(opts.seconds > 0) || !(opts.warmup >= 0)) throw new Error("bench: bad --runs/--duration");
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const SERVER_CORE = canPin ? 0 : undefined;
const LOAD_CORE = canPin ? 1 : undefined;
const SIZES = opts.smoke
  ? { small: 200, large: 2_000, chunk: 1_000 }
  : { small: 10_000, large: 1_000_000, chunk: 50_000 };
const HTTP_CONNECTIONS = 32;
const GRPC_CONNECTIONS = 2;
const GRPC_STREAMS = 16;
const SECRET = "bench-only-secret-0123456789abcdef-not-for-production";
/** Temporary directories, removed when the process exits (also after a failure). */
const TEMP: string[] = [];
process.once("exit", () => {
  for (const dir of TEMP) rmSync(dir, { recursive: true, force: true });
});
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(os.tmpdir(), prefix));
  TEMP.push(dir);
  return dir;
}
const CACHE = opts.smoke ? tempDir("restorability-bench-smoke-") : join(ROOT, "bench", ".cache");
const RESULTS =
  opts.out ??
  (opts.smoke ? mkdtempSync(join(os.tmpdir(), "restorability-bench-smoke-results-")) : join(ROOT, "bench", "results"));
/** Server logs (the service logs one line per request at the default LOG_LEVEL=info). */
const LOGS = tempDir("restorability-bench-logs-");
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? "info";
const began = Date.now();

function log(message: string): void {
  const t = ((Date.now() - began) / 1000).toFixed(1).padStart(6);
  console.log(`[bench ${t}s] ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Machine and tools

function sh(cmd: string): string {
  try {
    return execFileSync("sh", ["-c", cmd], { encoding: "utf8", cwd: ROOT }).trim();
  } catch {
    return "";
  }
}

function machine() {
  const model = /Model name:\s*(.+)/.exec(sh("lscpu"))?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
  const commit = sh("git rev-parse --short HEAD") || "unknown";
  const dirty = sh("git status --porcelain --untracked-files=no -- src gen bench package.json") !== "";
  return {
    cpuModel: model,
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    commit: dirty ? `${commit} (with uncommitted changes)` : commit,
    pinned: canPin,
  };
}

// ---------------------------------------------------------------------------------------------
// Servers

interface Server {
  name: string;
  proc: Proc;
  httpPort: number;
  grpcPort: number;
}

function serviceEnv(database: string, httpPort: number, grpcPort: number, extra: Record<string, string> = {}) {
  return {
    HTTP_PORT: String(httpPort),
    GRPC_PORT: String(grpcPort),
    HOST: "127.0.0.1",
    DATABASE_URL: database,
    AUTH_JWT_SECRET: SECRET,
    LOG_LEVEL,
    ...(opts.nodeOptions ? { NODE_OPTIONS: opts.nodeOptions } : {}),
    ...extra,
  };
}

async function startService(
  name: string,
  database: string,
  extra: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<Server> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const proc = start(process.execPath, [...nodeArgs, dist("bench", "servers", "service.js")], {
    core: SERVER_CORE,
    env: serviceEnv(database, httpPort, grpcPort, extra),
    ipc: true,
    stdoutFile: join(LOGS, `${name}.log`),
  });
  await waitHttp(`http://127.0.0.1:${httpPort}/readyz`, proc);
  return { name, proc, httpPort, grpcPort };
}

async function startCeiling(kind: "rest" | "grpc", nodeArgs: string[] = []): Promise<Server> {
  const port = await freePort();
  const proc = start(process.execPath, [...nodeArgs, dist("bench", "servers", `${kind}-ceiling.js`)], {
    core: SERVER_CORE,
    env: { PORT: String(port) },
    ipc: true,
  });
  await waitTcp(port, proc);
  return { name: `${kind}-ceiling`, proc, httpPort: port, grpcPort: port };
}

// ---------------------------------------------------------------------------------------------
// Databases

interface ImportResult {
  items: number;
  servers: number;
  volumes: number;
  chunkItems: number;
  importSeconds: number;
  importCpuSeconds: number;
  generateSeconds: number;
  wallSeconds: number;
  measuredAt?: string;
  cached?: boolean;
}

async function ensureDb(items: number, fresh: boolean): Promise<{ path: string; result: ImportResult }> {
  mkdirSync(CACHE, { recursive: true });
  const path = join(CACHE, `inventory-${items}-v${GENERATOR_VERSION}.db`);
  const meta = `${path}.json`;
  if (!fresh && existsSync(path) && existsSync(meta)) {
    const result = JSON.parse(readFileSync(meta, "utf8")) as ImportResult;
    log(`using the cached ${items}-item database ${path} (imported ${result.measuredAt})`);
    return { path, result: { ...result, cached: true } };
  }
  log(`generating and importing ${items.toLocaleString("en-US")} checkpoint items into ${path} ...`);
  const out = await run(
    process.execPath,
    [dist("bench", "servers", "import-db.js"), path, String(items), String(SIZES.chunk)],
    {
      core: SERVER_CORE,
    },
  );
  const result = {
    ...(JSON.parse(out.trim().split("\n").at(-1)!) as ImportResult),
    measuredAt: new Date().toISOString(),
  };
  writeFileSync(meta, JSON.stringify(result, null, 2));
  log(
    `imported in ${result.importSeconds.toFixed(1)} s (generation ${result.generateSeconds.toFixed(1)} s, not counted)`,
  );
  return { path, result: { ...result, cached: false } };
}

// ---------------------------------------------------------------------------------------------
// Validation: one request per scenario before its load, checked against the expected verdicts

interface Expectation {
  results: { result: boolean; error_code: string }[];
}

function expectOf(cases: DemoCase[]): Expectation {
  return { results: cases.map((c) => ({ result: c.expected.result, error_code: c.expected.error_code })) };
}
const allRestorable = (n: number): Expectation => ({
  results: Array.from({ length: n }, () => ({ result: true, error_code: "" })),
});

function compare(what: string, got: { result: boolean; error_code: string }[], want: Expectation): void {
  const bad =
    got.length !== want.results.length ||
    got.some((g, i) => g.result !== want.results[i]!.result || g.error_code !== want.results[i]!.error_code);
  if (bad) {
    throw new Error(
      `bench: ${what}: unexpected answer ${JSON.stringify(got).slice(0, 400)}; expected ${JSON.stringify(want.results).slice(0, 400)}`,
    );
  }
}

async function validateHttp(what: string, target: Target & { kind: "http" }, want: Expectation, connect = false) {
  const res = await fetch(target.url, { method: "POST", headers: target.headers, body: target.bodies[0] });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`bench: ${what}: HTTP ${res.status}: ${text.slice(0, 400)}`);
  const json = JSON.parse(text) as { restorable: { result?: boolean; error_code?: string; errorCode?: string }[] };
  compare(
    what,
    json.restorable.map((r) => ({
      result: r.result ?? false,
      error_code: (connect ? r.errorCode : r.error_code) ?? "",
    })),
    want,
  );
}

async function validateGrpc(what: string, target: Target & { kind: "grpc" }, want: Expectation) {
  const client = new grpc.Client(`127.0.0.1:${target.port}`, grpc.credentials.createInsecure());
  try {
    const md = new grpc.Metadata();
    md.set("x-auth-token", target.token);
    const answer = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        target.path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(target.message),
        md,
        { deadline: Date.now() + 10_000 },
        (err, res) => (err ? reject(new Error(`bench: ${what}: ${err.message}`)) : resolve(res!)),
      ),
    );
    const message = fromBinary(CheckRestorableResponseSchema, answer);
    compare(
      what,
      message.restorable.map((r) => ({ result: r.result, error_code: r.errorCode })),
      want,
    );
  } finally {
    client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// One measured run

interface Scenario {
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
}

async function measure(tools: Tools, scenario: Scenario, seconds: number, warmup: number): Promise<RunRecord> {
  const servers = Array.isArray(scenario.server) ? scenario.server : [scenario.server];
  const targets = Array.isArray(scenario.target) ? scenario.target : [scenario.target];
  if (warmup > 0) await Promise.all(targets.map((t) => runLoad(tools, t, warmup, LOAD_CORE)));
  await Promise.all(servers.map((s) => ask(s.proc, "reset")));
  const cpu0 = servers.map((s) => cpuSeconds(s.proc.pid) ?? 0);
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
    results = await Promise.all(targets.map((t) => runLoad(tools, t, seconds, LOAD_CORE, (pid) => loadPids.push(pid))));
  } finally {
    clearInterval(timer);
  }
  const wall = (performance.now() - t0) / 1000;
  sample();
  const cpu = servers.reduce((sum, s, i) => sum + ((cpuSeconds(s.proc.pid) ?? 0) - cpu0[i]!), 0);
  const stats = await Promise.all(servers.map((s) => ask<ServerStats>(s.proc, "stats")));
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
    serverCpuShare: cpu / wall,
    loadgenCpuShare: loadCpuTotal / wall,
    loadgenCpuMsPerRequest: requests > 0 ? (loadCpuTotal * 1000) / requests : Number.NaN,
    rssMb: rss,
    rssAnonMb: rssAnon,
    heapTotalMb: Math.max(...stats.map((x) => x.heapTotalMb)),
    heapUsedMb: Math.max(...stats.map((x) => x.heapUsedMb)),
  };
}

/** One retry of a run whose load generator failed (a hiccup must not lose a 10-minute run). */
async function measureOrRetry(tools: Tools, scenario: Scenario): Promise<RunRecord> {
  try {
    return await measure(tools, scenario, opts.seconds, opts.warmup);
  } catch (error) {
    log(`  ${scenario.id}: ${(error as Error).message.split("\n")[0]}; retrying once`);
    return measure(tools, scenario, opts.seconds, opts.warmup);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async function tokens() {
  const mint = (projectId: string) => mintToken({ secret: SECRET, projectId, ttl: "6h" });
  return { demo: await mint(DEMO_PROJECT), bench: await mint(BENCH_PROJECT) };
}

function restTarget(port: number, projectId: string, token: string, bodies: string[], connections: number): Target {
  return {
    kind: "http",
    url: `http://127.0.0.1:${port}${REST_PATH(projectId, projectId === DEMO_PROJECT ? DEMO_PROVIDER : CSBS_PROVIDER_ID)}`,
    headers: { "content-type": "application/json", "x-auth-token": token },
    bodies,
    connections,
  };
}

function grpcTarget(
  port: number,
  projectId: string,
  token: string,
  entries: RestoreEntryJson[],
  concurrency?: number,
): Target {
  return {
    kind: "grpc",
    port,
    path: GRPC_PATH,
    token,
    message: requestBinary(projectId, DEMO_PROVIDER, entries),
    connections: concurrency === 1 ? 1 : GRPC_CONNECTIONS,
    streams: concurrency === 1 ? 1 : GRPC_STREAMS,
  };
}

async function validate(s: Scenario): Promise<void> {
  const targets = Array.isArray(s.target) ? s.target : [s.target];
  for (const t of targets) {
    if (t.kind === "grpc") await validateGrpc(s.id, t, s.expect);
    else await validateHttp(s.id, t, s.expect, t.url.includes("/csbs.v1."));
  }
}

// ---------------------------------------------------------------------------------------------
// Start-up

async function startupTimes(database: string, runs: number): Promise<{ readyMs: number[]; rssMb: number[] }> {
  const readyMs: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const t0 = performance.now();
    const proc = start(process.execPath, [dist("src", "server", "main.js")], {
      core: SERVER_CORE,
      env: serviceEnv(database, httpPort, grpcPort),
      stdoutFile: join(LOGS, "startup.log"),
    });
    await waitHttp(`http://127.0.0.1:${httpPort}/readyz`, proc);
    readyMs.push(performance.now() - t0);
    rss.push(rssMb(proc.pid) ?? Number.NaN);
    await stop(proc);
  }
  return { readyMs, rssMb: rss };
}

// ---------------------------------------------------------------------------------------------
// Profiles

async function profile(tools: Tools, seconds: number): Promise<void> {
  const dir = join(CACHE, "profiles", new Date().toISOString().replace(/[:.]/g, "-"));
  mkdirSync(dir, { recursive: true });
  const token = await tokens();
  const tmp = tempDir("restorability-bench-");
  const large = await ensureDb(SIZES.large, false);
  const demo = await startService("service-demo", join(tmp, "demo.db"), { INVENTORY_FILE: DEMO_INVENTORY });
  const svcLarge = await startService("service-large", large.path);
  const restCeiling = await startCeiling("rest");
  const grpcCeiling = await startCeiling("grpc");
  const restorable = restBody([RESTORABLE.request]);
  const runs: [string, Server, Target][] = [
    ["gateway-restorable", demo, restTarget(demo.httpPort, DEMO_PROJECT, token.demo, [restorable], HTTP_CONNECTIONS)],
    ["grpc-restorable", demo, grpcTarget(demo.grpcPort, DEMO_PROJECT, token.demo, [RESTORABLE.request])],
    [
      "batch100-large",
      svcLarge,
      restTarget(
        svcLarge.httpPort,
        BENCH_PROJECT,
        token.bench,
        restoreBodies(SIZES.large, 100, 100).map(restBody),
        HTTP_CONNECTIONS,
      ),
    ],
    [
      "rest-ceiling",
      restCeiling,
      restTarget(restCeiling.httpPort, DEMO_PROJECT, token.demo, [restorable], HTTP_CONNECTIONS),
    ],
    ["grpc-ceiling", grpcCeiling, grpcTarget(grpcCeiling.grpcPort, DEMO_PROJECT, token.demo, [RESTORABLE.request])],
  ];
  const summaries: string[] = [];
  for (const [name, server, target] of runs) {
    log(`profiling ${name} for ${seconds} s ...`);
    await runLoad(tools, target, Math.max(1, opts.warmup), LOAD_CORE);
    const sub = join(dir, name);
    mkdirSync(sub);
    await ask(server.proc, "profile-start");
    const result = await runLoad(tools, target, seconds, LOAD_CORE);
    await ask(server.proc, "profile-stop", join(sub, `${name}.cpuprofile`));
    summaries.push(`## ${name}: ${Math.round(result.rps)} req/s under the profiler\n\n${summarizeProfiles(sub)}`);
  }
  for (const s of [demo, svcLarge, restCeiling, grpcCeiling]) await stop(s.proc);
  rmSync(tmp, { recursive: true, force: true });
  const report = join(dir, "summary.md");
  writeFileSync(report, `${summaries.join("\n\n")}\n`);
  console.log(readFileSync(report, "utf8"));
  log(`profiles (.cpuprofile, open in Chrome DevTools) and summary in ${dir}`);
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  if (!existsSync(DIST)) throw new Error("bench: dist/ is missing; run `npm run bench` (it builds first)");
  pinSelf(LOAD_CORE ?? 0);
  const tools = pickTools(opts.loadgen);
  if (opts.profile) return profile(tools, opts.seconds);

  const info = machine();
  const loadBefore = os.loadavg();
  log(
    `${opts.smoke ? "SMOKE" : "full"} run: ${opts.runs} run(s) × ${opts.seconds} s (+${opts.warmup} s warm-up); ` +
      `HTTP load: ${tools.http}, gRPC load: ${tools.grpc}; ${canPin ? "server on core 0, load on core 1" : "NOT pinned (no taskset)"}`,
  );

  // Databases, import, start-up (before any server runs, so core 0 is ours).
  const small = await ensureDb(SIZES.small, opts.freshDb || opts.smoke);
  const large = await ensureDb(SIZES.large, opts.freshDb || opts.smoke);
  const startupRuns = opts.smoke ? 1 : 3;
  log(`start-up to ready: ${startupRuns}× on the ${SIZES.large}-item and the ${SIZES.small}-item database ...`);
  const startupLarge = await startupTimes(large.path, startupRuns);
  const startupSmall = await startupTimes(small.path, opts.smoke ? 0 : startupRuns);

  // Long-running servers.
  const tmp = tempDir("restorability-bench-");
  const token = await tokens();
  log("starting servers ...");
  const restCeiling = await startCeiling("rest");
  const grpcCeiling = await startCeiling("grpc");
  const demo = await startService("service-demo", join(tmp, "demo.db"), { INVENTORY_FILE: DEMO_INVENTORY });
  const svcSmall = await startService(`service-${SIZES.small}`, small.path);
  const svcLarge = await startService(`service-${SIZES.large}`, large.path);
  const servers = [restCeiling, grpcCeiling, demo, svcSmall, svcLarge];

  const restorable = restBody([RESTORABLE.request]);
  const failing = restBody([FAILING.request]);
  const pool = (total: number, entries: number) =>
    restoreBodies(total, entries, entries === 1 ? 2000 : entries === 10 ? 500 : 100).map(restBody);
  const sizeLabel = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));
  const S = sizeLabel(SIZES.small);
  const L = sizeLabel(SIZES.large);

  const scenarios: Scenario[] = [
    {
      id: "rest-ceiling",
      group: "ceiling",
      title: "REST ceiling: bare Express 5 route, same JSON body, canned answer",
      server: restCeiling,
      target: restTarget(restCeiling.httpPort, DEMO_PROJECT, token.demo, [restorable], HTTP_CONNECTIONS),
      entries: 1,
      concurrency: HTTP_CONNECTIONS,
      expect: expectOf([RESTORABLE]),
    },
    {
      id: "grpc-ceiling",
      group: "ceiling",
      title: "gRPC ceiling: bare grpc-js unary, same message sizes",
      server: grpcCeiling,
      target: grpcTarget(grpcCeiling.grpcPort, DEMO_PROJECT, token.demo, [RESTORABLE.request]),
      entries: 1,
      concurrency: GRPC_CONNECTIONS * GRPC_STREAMS,
      expect: expectOf([RESTORABLE]),
    },
    {
      id: "gateway-restorable",
      group: "gateway",
      title: "REST gateway, 1 entry, restorable (demo data)",
      server: demo,
      target: restTarget(demo.httpPort, DEMO_PROJECT, token.demo, [restorable], HTTP_CONNECTIONS),
      entries: 1,
      concurrency: HTTP_CONNECTIONS,
      expect: expectOf([RESTORABLE]),
    },
    {
      id: "gateway-failing",
      group: "gateway",
      title: "REST gateway, 1 entry, failing at rule 18 (all rules run)",
      server: demo,
      target: restTarget(demo.httpPort, DEMO_PROJECT, token.demo, [failing], HTTP_CONNECTIONS),
      entries: 1,
      concurrency: HTTP_CONNECTIONS,
      expect: expectOf([FAILING]),
    },
    {
      id: "grpc-restorable",
      group: "grpc",
      title: "gRPC CheckRestorable (grpc-js host), 1 entry, restorable",
      server: demo,
      target: grpcTarget(demo.grpcPort, DEMO_PROJECT, token.demo, [RESTORABLE.request]),
      entries: 1,
      concurrency: GRPC_CONNECTIONS * GRPC_STREAMS,
      expect: expectOf([RESTORABLE]),
    },
    {
      id: "grpc-failing",
      group: "grpc",
      title: "gRPC CheckRestorable, 1 entry, failing at rule 18",
      server: demo,
      target: grpcTarget(demo.grpcPort, DEMO_PROJECT, token.demo, [FAILING.request]),
      entries: 1,
      concurrency: GRPC_CONNECTIONS * GRPC_STREAMS,
      expect: expectOf([FAILING]),
    },
    {
      id: "connect-http1",
      group: "grpc",
      title: "Connect protocol (JSON) over HTTP/1.1 on the HTTP port, 1 entry, restorable",
      server: demo,
      target: {
        kind: "http",
        url: `http://127.0.0.1:${demo.httpPort}${GRPC_PATH}`,
        headers: { "content-type": "application/json", "connect-protocol-version": "1", "x-auth-token": token.demo },
        bodies: [JSON.stringify(requestJson(DEMO_PROJECT, DEMO_PROVIDER, [RESTORABLE.request]))],
        connections: HTTP_CONNECTIONS,
      },
      entries: 1,
      concurrency: HTTP_CONNECTIONS,
      expect: expectOf([RESTORABLE]),
    },
  ];
  for (const [svc, size, label] of [
    [svcSmall, SIZES.small, S],
    [svcLarge, SIZES.large, L],
  ] as const) {
    for (const entries of [1, 10, 100]) {
      scenarios.push({
        id: `inv${label}-batch${entries}-c1`,
        group: "batch",
        title: `REST gateway, ${entries}-entry batch, ${label} items, concurrency 1`,
        server: svc,
        target: restTarget(svc.httpPort, BENCH_PROJECT, token.bench, pool(size, entries), 1),
        entries,
        concurrency: 1,
        expect: allRestorable(entries),
      });
    }
  }
  for (const entries of [1, 10, 100]) {
    scenarios.push({
      id: `inv${S}-batch${entries}-sat`,
      group: "batch",
      title: `REST gateway, ${entries}-entry batch, ${S} items, ${HTTP_CONNECTIONS} connections`,
      server: svcSmall,
      target: restTarget(svcSmall.httpPort, BENCH_PROJECT, token.bench, pool(SIZES.small, entries), HTTP_CONNECTIONS),
      entries,
      concurrency: HTTP_CONNECTIONS,
      expect: allRestorable(entries),
    });
  }
  scenarios.push({
    id: `inv${L}-batch100-sat`,
    group: "batch",
    title: `REST gateway, 100-entry batch, ${L} items, ${HTTP_CONNECTIONS} connections`,
    server: svcLarge,
    target: restTarget(svcLarge.httpPort, BENCH_PROJECT, token.bench, pool(SIZES.large, 100), HTTP_CONNECTIONS),
    entries: 100,
    concurrency: HTTP_CONNECTIONS,
    expect: allRestorable(100),
  });

  if (opts.smoke) {
    // One scenario of every kind (each load generator, protocol, database and batch path).
    const keep = new Set([
      "rest-ceiling",
      "grpc-ceiling",
      "gateway-restorable",
      "grpc-failing",
      "connect-http1",
      `inv${S}-batch1-c1`,
      `inv${L}-batch1-c1`,
      `inv${L}-batch100-c1`,
      `inv${S}-batch100-sat`,
    ]);
    scenarios.splice(0, scenarios.length, ...scenarios.filter((x) => keep.has(x.id)));
  }
  log(`validating ${scenarios.length} scenarios (one request each) ...`);
  for (const s of scenarios) await validate(s);

  const records = new Map<string, RunRecord[]>(scenarios.map((s) => [s.id, []]));
  for (let round = 1; round <= opts.runs; round++) {
    log(`round ${round}/${opts.runs}`);
    for (const s of scenarios) {
      const r = await measureOrRetry(tools, s);
      records.get(s.id)!.push(r);
      log(
        `  ${s.id.padEnd(22)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  ` +
          `server p50 ${r.serverP50Ms.toFixed(2)} p99 ${r.serverP99Ms.toFixed(2)} ms  cpu/req ${r.serverCpuMsPerRequest.toFixed(3)} ms  ` +
          `rss ${Math.round(r.rssMb)} MB  load cpu ${(r.loadgenCpuShare * 100).toFixed(0)}%${r.errors ? `  ERRORS ${r.errors}` : ""}`,
      );
    }
  }
  for (const s of servers) await stop(s.proc);

  // Load generator cost: the other tool once against the ceilings (full runs with wrk/h2load).
  const calibration: { tool: string; scenario: string; record: RunRecord }[] = [];
  if (!opts.smoke && (tools.http === "wrk" || tools.grpc === "h2load")) {
    log("load generator cost: the Node fallbacks against the ceilings, once ...");
    const node: Tools = { http: "autocannon", grpc: "grpc-js" };
    const rc = await startCeiling("rest");
    const gc = await startCeiling("grpc");
    for (const [s, server] of [
      [scenarios[0]!, rc],
      [scenarios[1]!, gc],
    ] as const) {
      const t = s.target as Target;
      const target: Target =
        t.kind === "http"
          ? { ...t, url: t.url.replace(/:\d+\//, `:${server.httpPort}/`) }
          : { ...t, port: server.grpcPort };
      const record = await measure(node, { ...s, server, target }, opts.seconds, opts.warmup);
      calibration.push({ tool: record.tool, scenario: s.id, record });
      log(
        `  ${s.id} with ${record.tool}: ${Math.round(record.rps)} req/s, load cpu ${(record.loadgenCpuShare * 100).toFixed(0)}%`,
      );
    }
    await stop(rc.proc);
    await stop(gc.proc);
  }

  // PostgreSQL: one vs two instances on one database.
  let postgres: BenchResults["postgres"];
  if (opts.pg) postgres = await postgresScenario(tools, token.bench);

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
      sizes: { small: SIZES.small, large: SIZES.large },
      serviceLogLevel: LOG_LEVEL,
      serviceNodeOptions: opts.nodeOptions ?? "",
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
      large: { items: SIZES.large, ...startupLarge },
      small: { items: SIZES.small, ...startupSmall },
    },
    calibration,
    postgres,
  };
  results.conditions.totalSeconds = (Date.now() - began) / 1000;
  const summary = summarize(results);
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${results.date.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify({ ...results, summary }, null, 2)}\n`);
  const markdown = renderMarkdown(results, summary);
  if (opts.smoke) {
    writeFileSync(join(RESULTS, "BENCHMARKS.summary.md"), markdown);
  } else {
    updateBenchmarksMd(join(ROOT, "BENCHMARKS.md"), markdown);
  }
  console.log(`\n${markdown}`);
  log(`results: ${file}${opts.smoke ? "" : " and BENCHMARKS.md"}`);
  const failed = results.scenarios.filter((s) => s.runs.some((r) => r.errors > 0 || r.requests === 0));
  if (failed.length > 0) throw new Error(`bench: errors or no requests in ${failed.map((s) => s.id).join(", ")}`);
  if (opts.smoke) rmSync(CACHE, { recursive: true, force: true });
}

async function postgresScenario(tools: Tools, token: string): Promise<BenchResults["postgres"]> {
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster(SERVER_CORE);
  } catch (error) {
    log(`PostgreSQL: cannot start a cluster (${(error as Error).message.split("\n")[0]}); skipped`);
    return { skipped: `cannot start a PostgreSQL cluster: ${(error as Error).message.split("\n")[0]}` };
  }
  if (!cluster) {
    log("PostgreSQL: no initdb/pg_ctl on this machine; skipped");
    return { skipped: "no PostgreSQL server binaries (initdb, pg_ctl)" };
  }
  const items = SIZES.small;
  try {
    log(`PostgreSQL: importing ${items} items ...`);
    const out = await run(
      process.execPath,
      [dist("bench", "servers", "import-db.js"), cluster.url, String(items), String(SIZES.chunk)],
      {
        core: SERVER_CORE,
      },
    );
    const imported = JSON.parse(out.trim().split("\n").at(-1)!) as ImportResult;
    const bodies = restoreBodies(items, 1, 2000).map(restBody);
    const rows: { instances: number; runs: RunRecord[] }[] = [];
    const a = await startService("pg-a", cluster.url);
    const b = await startService("pg-b", cluster.url);
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
    });
    const one = scenario([a]);
    const two = scenario([a, b]);
    await validate(two);
    rows.push({ instances: 1, runs: [] }, { instances: 2, runs: [] });
    for (let round = 1; round <= opts.runs; round++) {
      for (const [i, s] of [one, two].entries()) {
        const r = await measureOrRetry(tools, s);
        rows[i]!.runs.push(r);
        log(
          `  ${s.id.padEnd(22)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms${r.errors ? `  ERRORS ${r.errors}` : ""}`,
        );
      }
    }
    await stop(a.proc);
    await stop(b.proc);
    return { items, importSeconds: imported.importSeconds, rows };
  } finally {
    cluster.stop();
  }
}

try {
  await main();
  rmSync(LOGS, { recursive: true, force: true });
  await sleep(0);
  process.exit(0);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
