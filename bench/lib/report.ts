/** Results: the JSON record of a bench run, its summary, and the Markdown table in BENCHMARKS.md. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fmt, fmtSpread, type Spread, spread } from "./stats.js";

/** One measured run of one scenario. Latencies in ms; rssMb is the server's peak during the run. */
export interface RunRecord {
  tool: string;
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Server-side time per request (timing hook: request in → response written). */
  serverP50Ms: number;
  serverP99Ms: number;
  /** Server process CPU time per request (all threads). */
  serverCpuMsPerRequest: number;
  /** CPU time per request of the database server's processes (PostgreSQL scenarios only). */
  databaseCpuMsPerRequest?: number;
  /** Server CPU time ÷ wall time (1 = one core busy). */
  serverCpuShare: number;
  loadgenCpuShare: number;
  loadgenCpuMsPerRequest: number;
  rssMb: number;
  /** Peak anonymous part of the RSS (without file-backed pages such as a memory-mapped database). */
  rssAnonMb: number;
  /** V8 heap of the server at the end of the run (the largest, with several servers). */
  heapTotalMb: number;
  heapUsedMb: number;
  /**
   * The store cache's lookups during the run (csbs_store_cache_lookups_total from GET /metrics,
   * before and after; summed over the instances) and the share it answered. Absent where there
   * is no store cache (ceilings, PostgreSQL) or in older results.
   */
  cacheHits?: number;
  cacheMisses?: number;
  cacheHitShare?: number;
}

export interface ScenarioResult {
  id: string;
  group: string;
  title: string;
  entries: number;
  concurrency: number;
  runs: RunRecord[];
}

export interface BenchResults {
  date: string;
  mode: "full" | "smoke";
  machine: {
    cpuModel: string;
    cores: number;
    memoryGb: number;
    node: string;
    platform: string;
    commit: string;
    pinned: boolean;
  };
  conditions: {
    runs: number;
    secondsPerRun: number;
    warmupSeconds: number;
    loadavgBefore: number[];
    loadavgAfter: number[];
    httpLoadgen: string;
    grpcLoadgen: string;
    httpConnections: number;
    grpcConnections: number;
    grpcStreamsPerConnection: number;
    sizes: { small: number; large: number };
    serviceLogLevel: string;
    serviceNodeOptions: string;
    /**
     * What the service on the generated databases (the inv* scenarios) runs with beyond the
     * shipped defaults: STORE_CACHE_ENTRIES=0 (its cache off: the database path). Absent in
     * runs before the cache, which had none.
     */
    inventoryServiceEnv?: Record<string, string>;
    totalSeconds: number;
  };
  scenarios: ScenarioResult[];
  import: {
    items: number;
    servers: number;
    volumes: number;
    importSeconds: number;
    importPeakRssMb?: number;
    format?: string;
    chunkItems?: number;
    importCpuSeconds: number;
    generateSeconds: number;
    measuredAt?: string;
    cached?: boolean;
  };
  startup: Record<"large" | "small", { items: number; readyMs: number[]; rssMb: number[] }>;
  calibration: { tool: string; scenario: string; record: RunRecord }[];
  postgres?: { skipped: string } | PostgresResults;
}

export interface PostgresResults {
  items: number;
  importSeconds: number;
  rows: { instances: number; runs: RunRecord[] }[];
  /**
   * The SQLite twin of the one-instance row: the same items, bodies, connections and checks on
   * the SQLite store, measured in the same rounds (runs[i] pairs with rows[0].runs[i]).
   * Absent in older results.
   */
  sqlite?: { id: string; title: string; runs: RunRecord[] };
  /**
   * The same pair with both stores' caches off (STORE_CACHE_ENTRIES=0): every request reads the
   * database, PostgreSQL in one round trip. Measured in the same rounds; absent in older results.
   */
  uncached?: { postgres: RunRecord[]; sqlite: RunRecord[] };
  /** The services' settings beyond the bench's common ones, per store (scenarios/postgres.ts: STORE_ENV). */
  serviceEnv?: { sqlite: Record<string, string>; postgres: Record<string, string> };
  /**
   * After the load: the large inventory (ctx.sizes.large items, the SQLite import's file) imported
   * into an empty database of the same cluster, as `npm run import` does. Absent in older results.
   */
  largeImport?: { items: number; importSeconds: number; importCpuSeconds: number; importPeakRssMb?: number };
}

interface Goal {
  name: string;
  value: Spread;
  unit: string;
  target: string;
  /** undefined: not measured in this run (shown as –). */
  met: boolean | undefined;
  note: string;
}

export interface Summary {
  scenarios: Record<string, Record<string, Spread>>;
  goals: Goal[];
  batch: { entries: number; serverP50PerEntryMs: Spread; cpuPerEntryMs: Spread; entriesPerSecond: Spread }[];
}

const FIELDS = [
  "rps",
  "p50Ms",
  "p99Ms",
  "serverP50Ms",
  "serverP99Ms",
  "serverCpuMsPerRequest",
  "rssMb",
  "heapTotalMb",
  "loadgenCpuShare",
  "serverCpuShare",
  "cacheHitShare",
] as const;

function byId(results: BenchResults, id: string): ScenarioResult | undefined {
  return results.scenarios.find((s) => s.id === id);
}

/** Per-round ratio a/b of a field (paired: both measured in the same round). */
function pairedRatio(a: ScenarioResult | undefined, b: ScenarioResult | undefined, field: keyof RunRecord): Spread {
  return pairedRuns(a?.runs, b?.runs, (r) => r[field] as number);
}

/** Per-round ratio a/b of a value of the runs (run i of a with run i of b). */
function pairedRuns(a: RunRecord[] | undefined, b: RunRecord[] | undefined, value: (r: RunRecord) => number): Spread {
  if (!a || !b) return spread([]);
  return spread(a.map((r, i) => value(r) / (b[i] ? value(b[i]) : Number.NaN)));
}

/** The PostgreSQL results of a run, when it has them. */
function postgresOf(results: BenchResults): PostgresResults | undefined {
  return results.postgres && "rows" in results.postgres ? results.postgres : undefined;
}

export function summarize(results: BenchResults): Summary {
  const scenarios: Summary["scenarios"] = {};
  for (const s of results.scenarios) {
    scenarios[s.id] = Object.fromEntries(FIELDS.map((f) => [f, spread(s.runs.map((r) => r[f] ?? Number.NaN))]));
  }
  const { small, large } = results.conditions.sizes;
  const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));
  const S = label(small);
  const L = label(large);
  // The inv* scenarios run without the SQLite cache (STORE_CACHE_ENTRIES=0): these goals are about the database path.
  const off = "cache off";
  const smoke = results.mode === "smoke";
  const goals: Goal[] = [];
  const goal = (name: string, value: Spread, unit: string, target: string, ok: (v: number) => boolean, note = "") =>
    goals.push({ name, value, unit, target, met: ok(value.median), note: smoke ? "smoke run: not meaningful" : note });

  const cpuRatio = (id: string, ceiling: string) => {
    const r = pairedRatio(byId(results, ceiling), byId(results, id), "serverCpuMsPerRequest");
    return `by server CPU per request: ${fmtSpread(r)}`;
  };
  for (const kind of ["restorable", "failing"]) {
    goal(
      `REST gateway ÷ REST ceiling, requests/s, ${kind}`,
      pairedRatio(byId(results, `gateway-${kind}`), byId(results, "rest-ceiling"), "rps"),
      "×",
      "≥ 0.70",
      (v) => v >= 0.7,
      cpuRatio(`gateway-${kind}`, "rest-ceiling"),
    );
  }
  for (const kind of ["restorable", "failing"]) {
    goal(
      `gRPC ÷ gRPC ceiling, requests/s, ${kind}`,
      pairedRatio(byId(results, `grpc-${kind}`), byId(results, "grpc-ceiling"), "rps"),
      "×",
      "≥ 0.60 (issue 13)",
      (v) => v >= 0.6,
      cpuRatio(`grpc-${kind}`, "grpc-ceiling"),
    );
  }
  goal(
    `p50 at ${L} ÷ p50 at ${S} items, 1 entry, concurrency 1, ${off} (server time)`,
    pairedRatio(byId(results, `inv${L}-batch1-c1`), byId(results, `inv${S}-batch1-c1`), "serverP50Ms"),
    "×",
    "≤ 1.3",
    (v) => v <= 1.3,
  );
  goal(
    `p50 at ${L} ÷ p50 at ${S} items, 1 entry, concurrency 1, ${off} (client latency)`,
    pairedRatio(byId(results, `inv${L}-batch1-c1`), byId(results, `inv${S}-batch1-c1`), "p50Ms"),
    "×",
    "≤ 1.3",
    (v) => v <= 1.3,
  );
  goal(
    `100-entry batch at ${L} items, server p99 (concurrency 1, ${off})`,
    spread(byId(results, `inv${L}-batch100-c1`)?.runs.map((r) => r.serverP99Ms) ?? []),
    "ms",
    "≤ 10",
    (v) => v <= 10,
  );
  goal(
    `start-up to ready on the ${L}-item database`,
    spread(results.startup.large.readyMs),
    "ms",
    "≤ 1000",
    (v) => v <= 1000,
  );
  goal(
    `import ${L} checkpoint items`,
    spread([results.import.importSeconds]),
    "s",
    "≤ 60",
    (v) => v <= 60,
    results.import.cached ? `cached database, imported ${results.import.measuredAt}` : "",
  );
  const saturated = results.scenarios.filter((s) => s.concurrency > 1 && !s.id.includes("ceiling"));
  const peak = (field: "rssMb" | "rssAnonMb") =>
    spread(
      Array.from({ length: results.conditions.runs }, (_, i) =>
        Math.max(...saturated.map((s) => s.runs[i]?.[field] ?? 0)),
      ),
    );
  goal(
    "service anonymous RSS at saturation (peak over all saturated scenarios; median over rounds)",
    peak("rssAnonMb"),
    "MB",
    "≤ 150",
    (v) => v <= 150,
    `without file-backed pages such as the memory-mapped database; whole RSS ${fmtSpread(peak("rssMb"))} MB`,
  );

  const pgImport = postgresOf(results)?.largeImport;
  if (pgImport) {
    goal(
      `import ${label(pgImport.items)} checkpoint items into PostgreSQL`,
      spread([pgImport.importSeconds]),
      "s",
      "≤ 60",
      (v) => v <= 60,
      `the bench's cluster (durable settings) pinned to the server core, the import on both cores; ${fmt(pgImport.importCpuSeconds)} s CPU of the importing process${pgImport.importPeakRssMb ? `, its peak RSS ${Math.round(pgImport.importPeakRssMb)} MB` : ""}`,
    );
  }
  postgresGoal(results, goals, label(postgresOf(results)?.items ?? small), false);
  postgresGoal(results, goals, label(postgresOf(results)?.items ?? small), true);

  const batch = [1, 10, 100].map((entries) => {
    const c1 = byId(results, `inv${S}-batch${entries}-c1`);
    const sat = byId(results, `inv${S}-batch${entries}-sat`);
    return {
      entries,
      serverP50PerEntryMs: spread(c1?.runs.map((r) => r.serverP50Ms / entries) ?? []),
      cpuPerEntryMs: spread(sat?.runs.map((r) => r.serverCpuMsPerRequest / entries) ?? []),
      entriesPerSecond: spread(sat?.runs.map((r) => r.rps * entries) ?? []),
    };
  });
  const falls = batch.every(
    (b, i) => i === 0 || b.serverP50PerEntryMs.median < batch[i - 1]!.serverP50PerEntryMs.median,
  );
  goals.push({
    name: `server time per entry falls as batches grow (1 → 10 → 100, concurrency 1, ${off})`,
    value: batch.at(-1)!.serverP50PerEntryMs,
    unit: "ms/entry at 100",
    target: "falls",
    met: falls,
    note: smoke
      ? "smoke run: not meaningful"
      : batch.map((b) => `${b.entries}: ${fmt(b.serverP50PerEntryMs.median)}`).join(", "),
  });
  return { scenarios, goals, batch };
}

/**
 * REST gateway on PostgreSQL ÷ on SQLite, one instance each, requests/s, paired per round
 * (issue 13: at least half), with each side's CPU per request beside it.
 */
function postgresGoal(results: BenchResults, goals: Goal[], items: string, uncached: boolean): void {
  const name = `REST gateway on PostgreSQL ÷ on SQLite, 1 entry, ${items} items, requests/s${uncached ? ", both caches off (the database path)" : ""}`;
  const target = "≥ 0.50 (issue 13)";
  const pg = postgresOf(results);
  const onPg = uncached ? pg?.uncached?.postgres : pg?.rows.find((r) => r.instances === 1)?.runs;
  const onLite = uncached ? pg?.uncached?.sqlite : pg?.sqlite?.runs;
  if (!onPg || !onLite) {
    const why =
      results.postgres && "skipped" in results.postgres
        ? `PostgreSQL skipped: ${results.postgres.skipped}`
        : results.postgres
          ? "no SQLite twin in this run"
          : results.mode === "smoke"
            ? "not run in smoke runs (--pg to include it)"
            : "PostgreSQL not run (--no-pg)";
    goals.push({ name, value: spread([]), unit: "×", target, met: undefined, note: why });
    return;
  }
  const value = pairedRuns(onPg, onLite, (r) => r.rps);
  const cpu = (runs: RunRecord[], f: (r: RunRecord) => number | undefined) =>
    fmtSpread(spread(runs.map((r) => f(r) ?? Number.NaN)));
  // The whole CPU of a request: the service's, plus PostgreSQL's processes' on PostgreSQL.
  const whole = (r: RunRecord) => r.serverCpuMsPerRequest + (r.databaseCpuMsPerRequest ?? 0);
  const note =
    `CPU ms/req: service on PostgreSQL ${cpu(onPg, (r) => r.serverCpuMsPerRequest)} + PostgreSQL's processes ` +
    `${cpu(onPg, (r) => r.databaseCpuMsPerRequest)}, service on SQLite ${cpu(onLite, (r) => r.serverCpuMsPerRequest)}; ` +
    `CPU per request on SQLite ÷ on PostgreSQL (service + PostgreSQL), paired: ${fmtSpread(pairedRuns(onLite, onPg, whole))}; ` +
    `store cache hits: PostgreSQL ${pct(spread(onPg.map((r) => r.cacheHitShare ?? Number.NaN)))}, SQLite ${pct(spread(onLite.map((r) => r.cacheHitShare ?? Number.NaN)))}`;
  goals.push({
    name,
    value,
    unit: "×",
    target,
    met: value.median >= 0.5,
    note: results.mode === "smoke" ? `smoke run: not meaningful; ${note}` : note,
  });
}

const cell = (s: Spread | undefined) => (s ? fmtSpread(s) : "–");
/** A share (0–1) as a percentage; – when not measured (no store cache). */
const pct = (s: Spread | undefined) => {
  if (!s || s.n === 0) return "–";
  const p = (x: number) => (x * 100).toFixed(1);
  return s.n <= 1 || s.min === s.max ? `${p(s.median)}%` : `${p(s.median)}% (${p(s.min)}–${p(s.max)})`;
};

/** A run's results file: its UTC start to the second, so no run replaces another (bench/results keeps one file per run). */
export function resultsFileName(date: string): string {
  return `${date.slice(0, 19).replaceAll(":", "-")}Z.json`;
}

/** The previous run: the newest results file in `dir` (names sort by time), summarized by today's code. */
export interface PreviousRun {
  file: string;
  date: string;
  summary: Summary;
}

export function previousRun(dir: string): PreviousRun | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}-\d{2}-\d{2}.*\.json$/.test(f))
    .sort();
  for (const file of files.reverse()) {
    try {
      const results = JSON.parse(readFileSync(join(dir, file), "utf8")) as BenchResults;
      if (results.mode !== "full") continue;
      return { file, date: results.date, summary: summarize(results) };
    } catch {
      // An unreadable or older-shaped file: look further back.
    }
  }
  return undefined;
}

export function renderMarkdown(results: BenchResults, summary: Summary, previous?: PreviousRun): string {
  const m = results.machine;
  const c = results.conditions;
  const lines: string[] = [];
  lines.push(
    `Run of ${results.date.slice(0, 16).replace("T", " ")} UTC (${results.mode}), commit ${m.commit}: ${m.cpuModel}, ${m.cores} cores, ` +
      `${m.memoryGb} GB, Node ${m.node}, ${m.platform}. ${m.pinned ? "Server(s) pinned to core 0, load generator to core 1 (taskset)." : "Not pinned (no taskset)."} ` +
      `${c.runs} round(s) × ${c.secondsPerRun} s per scenario after ${c.warmupSeconds} s warm-up, rounds interleaved; medians with (min–max). ` +
      `HTTP load: ${c.httpLoadgen} (${c.httpConnections} connections); gRPC load: ${c.grpcLoadgen} (${c.grpcConnections} connections × ${c.grpcStreamsPerConnection} streams). ` +
      `Service: LOG_LEVEL=${c.serviceLogLevel} (stdout to a file)${c.serviceNodeOptions ? `, NODE_OPTIONS="${c.serviceNodeOptions}"` : ", default Node flags"}. ` +
      `${inventoryEnv(c.inventoryServiceEnv)}` +
      `Load average before/after: ${c.loadavgBefore.map((x) => x.toFixed(2)).join(" ")} / ${c.loadavgAfter.map((x) => x.toFixed(2)).join(" ")}. ` +
      `Whole run: ${Math.round(c.totalSeconds)} s.`,
  );
  lines.push("");
  lines.push("### Goals");
  lines.push("");
  const before = (name: string) => previous?.summary.goals.find((g) => g.name === name);
  const previousHead = previous
    ? `previous (${previous.date.slice(0, 16).replace("T", " ")}, ${previous.file})`
    : "previous";
  lines.push(`| goal | measured | ${previousHead} | target | met |`);
  lines.push("|---|---|---|---|---|");
  for (const g of summary.goals) {
    const b = before(g.name);
    const was = b && b.value.n > 0 ? `${cell(b.value)} ${b.unit}` : "–";
    lines.push(
      `| ${g.name} | ${cell(g.value)} ${g.unit} | ${was} | ${g.target} | ${g.met === undefined ? "–" : g.met ? "yes" : "**no**"}${g.note ? ` (${g.note})` : ""} |`,
    );
  }
  lines.push("");
  lines.push("### Scenarios");
  lines.push("");
  lines.push(
    "| scenario | entries × concurrency | req/s | p50 ms | p99 ms | server p50 ms | server p99 ms | server CPU ms/req | server RSS MB (V8 heap at end) | load gen CPU | store cache hits |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const s of results.scenarios) {
    const x = summary.scenarios[s.id]!;
    lines.push(
      `| \`${s.id}\` ${s.title} | ${s.entries} × ${s.concurrency} | ${cell(x.rps)} | ${cell(x.p50Ms)} | ${cell(x.p99Ms)} | ` +
        `${cell(x.serverP50Ms)} | ${cell(x.serverP99Ms)} | ${cell(x.serverCpuMsPerRequest)} | ${cell(x.rssMb)} (heap ${fmt(x.heapTotalMb?.median ?? Number.NaN)}) | ` +
        `${fmt((x.loadgenCpuShare?.median ?? Number.NaN) * 100)}% | ${pct(x.cacheHitShare)} |`,
    );
  }
  lines.push("");
  lines.push(
    "*store cache hits*: the share of the run's lookups of objects (checkpoint items, servers) that the service's SQLite cache answered " +
      "(csbs_store_cache_lookups_total on GET /metrics, read before and after the run): near 100% means the number is cache-served, " +
      "0% that every request read the database (cache off: STORE_CACHE_ENTRIES=0); – where there is no store cache (ceilings, PostgreSQL).",
  );
  lines.push("");
  lines.push(
    `### Batch size (REST gateway, ${results.conditions.sizes.small} items${c.inventoryServiceEnv?.STORE_CACHE_ENTRIES === "0" ? ", SQLite cache off (STORE_CACHE_ENTRIES=0): the database path" : ""})`,
  );
  lines.push("");
  lines.push(
    "| entries | server p50 per entry, concurrency 1 (ms) | server CPU per entry, saturated (ms) | entries/s, saturated |",
  );
  lines.push("|---|---|---|---|");
  for (const b of summary.batch) {
    lines.push(
      `| ${b.entries} | ${cell(b.serverP50PerEntryMs)} | ${cell(b.cpuPerEntryMs)} | ${cell(b.entriesPerSecond)} |`,
    );
  }
  lines.push("");
  lines.push("### Start-up and import");
  lines.push("");
  const st = results.startup;
  const imp = results.import;
  lines.push("| what | measured |");
  lines.push("|---|---|");
  lines.push(
    `| start-up to ready (spawn → GET /readyz 200), ${st.large.items.toLocaleString("en-US")}-item DB | ${cell(spread(st.large.readyMs))} ms, RSS when ready ${cell(spread(st.large.rssMb))} MB |`,
  );
  lines.push(
    `| start-up to ready, ${st.small.items.toLocaleString("en-US")}-item DB | ${cell(spread(st.small.readyMs))} ms, RSS when ready ${cell(spread(st.small.rssMb))} MB |`,
  );
  lines.push(
    `| import ${imp.items.toLocaleString("en-US")} checkpoint items (+ ${imp.servers.toLocaleString("en-US")} servers, ${imp.volumes.toLocaleString("en-US")} volumes; ${importHow(imp)}) | ` +
      `${fmt(imp.importSeconds)} s wall, ${fmt(imp.importCpuSeconds)} s CPU${imp.importPeakRssMb ? `, peak RSS ${fmt(imp.importPeakRssMb)} MB` : ""}${imp.cached ? ` (cached database, measured ${imp.measuredAt})` : ""} |`,
  );
  if (results.calibration.length > 0) {
    lines.push("");
    lines.push("### Load generator cost (CPU of the load core per request)");
    lines.push("");
    lines.push("| scenario | tool | req/s | load gen CPU | load gen CPU ms/req |");
    lines.push("|---|---|---|---|---|");
    for (const s of results.scenarios.filter((x) => x.group === "ceiling")) {
      const x = summary.scenarios[s.id]!;
      const r = s.runs;
      lines.push(
        `| \`${s.id}\` | ${r[0]?.tool} | ${cell(x.rps)} | ${fmt(x.loadgenCpuShare!.median * 100)}% | ${fmt(spread(r.map((y) => y.loadgenCpuMsPerRequest)).median)} |`,
      );
    }
    for (const k of results.calibration) {
      lines.push(
        `| \`${k.scenario}\` | ${k.tool} | ${fmt(k.record.rps)} | ${fmt(k.record.loadgenCpuShare * 100)}% | ${fmt(k.record.loadgenCpuMsPerRequest)} |`,
      );
    }
  }
  lines.push("");
  lines.push("### PostgreSQL: one vs two instances on one database, and one on SQLite");
  lines.push("");
  const pg = results.postgres;
  const env = (e: Record<string, string> | undefined) =>
    e && Object.keys(e).length > 0 ? envText(e) : "the shipped defaults";
  if (!pg) lines.push(results.mode === "smoke" ? "Not run in smoke runs (--pg to include it)." : "Not run (--no-pg).");
  else if ("skipped" in pg) lines.push(`Skipped: ${pg.skipped}.`);
  else {
    lines.push(
      `REST gateway, 1 entry, ${pg.items.toLocaleString("en-US")} items (imported in ${fmt(pg.importSeconds)} s); ` +
        "PostgreSQL and the instance(s) share core 0, the load generator(s) core 1: on 2 cores this shows the cost of a second instance, not scale-out." +
        (pg.sqlite
          ? ` The SQLite row is the one-instance row's twin: the same items in a SQLite database, the same bodies, connections and checks, measured in the same rounds (PostgreSQL ÷ SQLite is paired per round, goal above); services: on SQLite ${env(pg.serviceEnv?.sqlite)}, on PostgreSQL ${env(pg.serviceEnv?.postgres)} (each store's cache on, as shipped)${pg.uncached ? "; the cache-off rows are the same pair with STORE_CACHE_ENTRIES=0: every request reads the database (PostgreSQL: one round trip)" : ""}.`
          : ""),
    );
    lines.push("");
    lines.push(
      "| store, instances | req/s | p50 ms | p99 ms | server CPU ms/req (instances) | PostgreSQL CPU ms/req (its processes) | store cache hits |",
    );
    lines.push("|---|---|---|---|---|---|---|");
    const table = [
      ...pg.rows.map((row) => ({ what: `PostgreSQL, ${row.instances}`, runs: row.runs })),
      ...(pg.sqlite ? [{ what: "SQLite, 1", runs: pg.sqlite.runs }] : []),
      ...(pg.uncached
        ? [
            { what: "PostgreSQL, 1, cache off", runs: pg.uncached.postgres },
            { what: "SQLite, 1, cache off", runs: pg.uncached.sqlite },
          ]
        : []),
    ];
    for (const row of table) {
      const f = (k: keyof RunRecord) => cell(spread(row.runs.map((r) => (r[k] as number | undefined) ?? Number.NaN)));
      lines.push(
        `| ${row.what} | ${f("rps")} | ${f("p50Ms")} | ${f("p99Ms")} | ${f("serverCpuMsPerRequest")} | ${f("databaseCpuMsPerRequest")} | ` +
          `${pct(spread(row.runs.map((r) => r.cacheHitShare ?? Number.NaN)))} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

export const BEGIN = "<!-- bench:results:begin (written by npm run bench) -->";
export const END = "<!-- bench:results:end -->";

/** Replaces the generated part of BENCHMARKS.md (between the markers), keeping the rest. */
export function updateBenchmarksMd(path: string, markdown: string): void {
  const block = `${BEGIN}\n${markdown}${END}`;
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n\n";
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + block + current.slice(end + END.length)
      : `${current.trimEnd()}\n\n## Latest results\n\n${block}\n`;
  writeFileSync(path, next);
}

const envText = (env: Record<string, string>) =>
  Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

/** The sentence on the service's settings on the generated databases (runs before the SQLite cache: none). */
function inventoryEnv(env: Record<string, string> | undefined): string {
  if (!env) return "";
  const set = Object.keys(env).length > 0 ? envText(env) : "the shipped defaults";
  const off = env.STORE_CACHE_ENTRIES === "0" ? " (SQLite cache off: every request reads the database)" : "";
  return `Service on the generated databases (\`inv*\` scenarios): ${set}${off}; on the demo data: the shipped defaults (SQLite cache on). `;
}

/** How the import was measured: one streamed file (npm run import's path), or (older results) files of N items. */
function importHow(imp: { format?: string; chunkItems?: number }): string {
  if (imp.format)
    return `one ${imp.format === "ndjson" ? "NDJSON" : "JSON"} file streamed: parse + validation + staging + one merge transaction`;
  return `JSON.parse + validation + write, in files of ${imp.chunkItems?.toLocaleString("en-US") ?? "?"} items`;
}
