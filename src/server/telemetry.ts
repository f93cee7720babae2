import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Code, Interceptor } from "@connectrpc/connect";
import { ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { viewError } from "../service/csbs-error.js";
import type { FactsCacheStats } from "../store/facts-cache.js";
import { PROJECT_DIR } from "./config.js";
import { createFoldedHistogram, type HistogramSeries } from "./folded-histogram.js";

export type Protocol = "rest" | "grpc" | "connect" | "grpc-web";

/** One finished RPC call (probes and scrapes are not calls), as each port's edge reports it. */
export interface RequestRecord {
  protocol: Protocol;
  /** The RPC's service, e.g. csbs.v1.ResourceService. */
  service: string;
  /** The RPC (CheckRestorable, …), also for REST; "unknown" when a REST call failed before its body named it. */
  method: string;
  /** The outcome as a gRPC/Connect code number (0: ok). */
  code: number;
  /** For the log line: the HTTP status (REST) or the gRPC status name. */
  status: string;
  /** The CSBS/APIGW code of a whole-request failure, or "". */
  errorCode: string;
  seconds: number;
  requestId?: string | undefined;
  projectId?: string | undefined;
  /** The failure, logged with its stack only in the log. */
  error?: unknown;
}

/** What the gauges read when scraped. */
export interface TelemetrySources {
  /** Calls admitted and not finished (all protocols). */
  inFlight: () => number;
  /** The store answered its last probe. */
  storeUp: () => boolean;
  /** The store's cache of looked-up objects, if it has one. */
  storeCache?: (() => FactsCacheStats) | undefined;
}

export interface Telemetry {
  readonly registry: Registry;
  observeRequest(record: RequestRecord): void;
  observeVerdict(method: string, errorCode: string): void;
  observeQuery(table: string, seconds: number): void;
  /** Gives the in-flight and store-up gauges their sources (read at scrape time only). */
  watch(sources: TelemetrySources): void;
  /** A connect-es interceptor that reports Connect and gRPC-Web calls. */
  readonly connectInterceptor: Interceptor;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The `code` label: the Connect/gRPC code name in snake case (`ok`, `invalid_argument`, …). */
export function codeLabel(code: number): string {
  return code === 0 ? "ok" : codeToString(code as Code);
}

/** The metrics of one (protocol, service, method), made once: no label hashing per call. */
interface MethodSeries {
  ok: Tally;
  /** protocol, service and method, made once (the failure tallies' labels start from them). */
  labels: Record<"protocol" | "service" | "method", string>;
  /** Its series of the duration histogram. */
  duration: HistogramSeries;
  /** Failure tallies by `code error_code`. */
  failures: Map<string, Tally>;
}

/** One series of a folded counter: a plain number, folded into the counter when scraped. */
interface Tally {
  count: number;
}

/**
 * A prom-client Counter counted in plain numbers on the hot path (prom-client hashes the label
 * set on every inc, children included) and folded in at scrape time only: `tally(labels)` makes
 * a series, which the caller keeps and increments.
 */
function foldedCounter<L extends string>(config: {
  name: string;
  help: string;
  labelNames: readonly L[];
  registry: Registry;
}): (labels: Record<L, string>) => Tally {
  const tallies: Array<Tally & { labels: Record<L, string> }> = [];
  new Counter({
    name: config.name,
    help: config.help,
    labelNames: config.labelNames,
    registers: [config.registry],
    collect() {
      this.reset();
      for (const t of tallies) if (t.count > 0) this.inc(t.labels, t.count);
    },
  });
  return (labels) => {
    const t = { labels, count: 0 };
    tallies.push(t);
    return t;
  };
}

function packageVersion(): string {
  try {
    // The project's package.json, found the same way from src/ (tsx), dist/src/ and the bundle.
    const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Prometheus metrics (prom-client) in the conventions of grpc-ecosystem's middleware, and
 * one pino log line per call: `csbs_requests_total{protocol,service,method,code,error_code}`
 * and `csbs_request_duration_seconds{protocol,service,method}` count RPC calls only (not
 * probes or scrapes); `csbs_requests_in_flight`, `csbs_store_up` and `csbs_build_info`.
 */
export function createTelemetry(logger: Logger): Telemetry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const tally = foldedCounter({
    name: "csbs_requests_total",
    help: "RPC calls by protocol (rest, grpc, connect, grpc-web), service, method, code (ok, invalid_argument, …) and CSBS error code.",
    labelNames: ["protocol", "service", "method", "code", "error_code"] as const,
    registry,
  });
  const duration = createFoldedHistogram({
    name: "csbs_request_duration_seconds",
    help: "RPC call latency by protocol, service and method.",
    labelNames: ["protocol", "service", "method"] as const,
    buckets: LATENCY_BUCKETS,
    registry,
  });
  const verdictTally = foldedCounter({
    name: "csbs_check_verdicts_total",
    help: 'Per-entry check verdicts by method and error_code ("" when the entry passes).',
    labelNames: ["method", "error_code"] as const,
    registry,
  });
  // `method error_code` → its tally (a handful: the methods' error codes).
  const verdicts = new Map<string, Tally>();
  const observeVerdict = (method: string, errorCode: string) => {
    const key = `${method} ${errorCode}`;
    let found = verdicts.get(key);
    if (found === undefined) {
      found = verdictTally({ method, error_code: errorCode });
      verdicts.set(key, found);
    }
    found.count++;
  };
  const queries = createFoldedHistogram({
    name: "csbs_store_query_duration_seconds",
    help: "Store query latency by table.",
    labelNames: ["table"] as const,
    buckets: LATENCY_BUCKETS,
    registry,
  });
  // table → its series (the store reports a handful of tables).
  const queryTables = new Map<string, HistogramSeries>();
  const queryTable = (table: string) => {
    let found = queryTables.get(table);
    if (found === undefined) {
      found = queries.series({ table });
      queryTables.set(table, found);
    }
    return found;
  };
  let sources: TelemetrySources | undefined;
  new Gauge({
    name: "csbs_requests_in_flight",
    help: "Calls admitted by the call guard and not finished (all protocols).",
    registers: [registry],
    collect() {
      this.set(sources?.inFlight() ?? 0);
    },
  });
  new Counter({
    name: "csbs_store_cache_lookups_total",
    help: "Objects (checkpoint items, servers) the hot path looked for in the store's cache, by result: hit, or miss (read from the database).",
    labelNames: ["result"] as const,
    registers: [registry],
    collect() {
      const stats = sources?.storeCache?.();
      if (stats === undefined) return;
      this.reset();
      this.inc({ result: "hit" }, stats.hits);
      this.inc({ result: "miss" }, stats.misses);
    },
  });
  new Gauge({
    name: "csbs_store_cache_entries",
    help: "Objects held in the store's cache (emptied whenever the database changes).",
    registers: [registry],
    collect() {
      this.set(sources?.storeCache?.().entries ?? 0);
    },
  });
  new Gauge({
    name: "csbs_store_up",
    help: "1 when the store answered its last probe, else 0.",
    registers: [registry],
    collect() {
      this.set(sources === undefined || sources.storeUp() ? 1 : 0);
    },
  });
  new Gauge({
    name: "csbs_build_info",
    help: "The service's version and Node.js version (always 1).",
    labelNames: ["version", "node_version"] as const,
    registers: [registry],
  }).set({ version: packageVersion(), node_version: process.version }, 1);

  // protocol → service → method → series, filled on first use.
  const series = new Map<Protocol, Map<string, Map<string, MethodSeries>>>();
  function seriesOf(protocol: Protocol, service: string, method: string): MethodSeries {
    let byService = series.get(protocol);
    if (byService === undefined) {
      byService = new Map();
      series.set(protocol, byService);
    }
    let byMethod = byService.get(service);
    if (byMethod === undefined) {
      byMethod = new Map();
      byService.set(service, byMethod);
    }
    let found = byMethod.get(method);
    if (found === undefined) {
      found = {
        ok: tally({ protocol, service, method, code: "ok", error_code: "" }),
        labels: { protocol, service, method },
        duration: duration.series({ protocol, service, method }),
        failures: new Map(),
      };
      byMethod.set(method, found);
    }
    return found;
  }

  const observeRequest = (r: RequestRecord) => {
    const m = seriesOf(r.protocol, r.service, r.method);
    if (r.code === 0) {
      m.ok.count++;
    } else {
      const key = `${r.code} ${r.errorCode}`;
      let failure = m.failures.get(key);
      if (failure === undefined) {
        failure = tally({ ...m.labels, code: codeLabel(r.code), error_code: r.errorCode });
        m.failures.set(key, failure);
      }
      failure.count++;
    }
    m.duration.observe(r.seconds);
    const line = {
      request_id: r.requestId,
      protocol: r.protocol,
      method: r.method,
      project_id: r.projectId,
      status: r.status,
      code: r.code === 0 ? undefined : codeLabel(r.code),
      error_code: r.errorCode || undefined,
      duration_ms: Math.round(r.seconds * 1e6) / 1e3,
    };
    // An internal failure's stack is logged once, where it is caught (the call guard).
    const internal = r.error !== undefined && viewError(r.error).http === 500;
    if (internal) logger.error(line, "request failed");
    else logger.info(line, "request");
  };

  const connectInterceptor: Interceptor = (next) => async (req) => {
    const start = performance.now();
    const protocol: Protocol = (req.header.get("content-type") ?? "").startsWith("application/grpc-web")
      ? "grpc-web"
      : "connect";
    const record = {
      protocol,
      service: req.service.typeName,
      method: req.method.name,
      requestId: req.header.get("x-request-id") ?? undefined,
      projectId: (req.message as { projectId?: string }).projectId,
    };
    try {
      const res = await next(req);
      observeRequest({ ...record, code: 0, status: "OK", errorCode: "", seconds: (performance.now() - start) / 1000 });
      return res;
    } catch (error) {
      const view = viewError(error);
      const code = ConnectError.from(error).code;
      observeRequest({
        ...record,
        code,
        status: grpcStatusName(code),
        errorCode: view.errorCode,
        seconds: (performance.now() - start) / 1000,
        error,
      });
      throw error;
    }
  };

  return {
    registry,
    observeRequest,
    observeVerdict,
    observeQuery: (table, seconds) => queryTable(table).observe(seconds),
    watch: (next) => {
      sources = next;
    },
    connectInterceptor,
  };
}

/** The gRPC status name of a code (grpc-js's own enum), e.g. 3 → INVALID_ARGUMENT. */
export function grpcStatusName(code: number): string {
  return status[code] ?? String(code);
}
