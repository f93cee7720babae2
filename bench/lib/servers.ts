import { join } from "node:path";
import { freePort } from "../../scripts/lib/free-port.js";
import { type BenchContext, SECRET } from "./context.js";
import { dist } from "./paths.js";
import { type Proc, start, waitHttp, waitTcp } from "./procs.js";

/** A server the bench started and measures. */
export interface Server {
  name: string;
  proc: Proc;
  httpPort: number;
  grpcPort: number;
  /** The service's GET /metrics and the token it needs (lib/metrics.ts); ceilings have none. */
  metrics?: { url: string; token: string };
}

/**
 * The service on the generated inventories measures the store at scale: its SQLite cache of
 * looked-up objects (src/store/facts-cache.ts) would hold every body pool of those scenarios
 * (2,000 / 500 / 100 distinct bodies), so they run with it off and read the database on every
 * request. The demo-data scenarios keep the shipped default (cache on).
 */
export const STORE_CACHE_OFF: Record<string, string> = { STORE_CACHE_ENTRIES: "0" };
/** How scenario titles and the report name it. */
export const CACHE_OFF_LABEL = "cache off (STORE_CACHE_ENTRIES=0)";

/** The bench's own metrics token: its services' GET /metrics needs it (the store cache's counters). */
export const METRICS_TOKEN = "bench-only-metrics-token";

/** The environment of a service process. */
export function serviceEnv(
  ctx: BenchContext,
  database: string,
  httpPort: number,
  grpcPort: number,
  extra: Record<string, string> = {},
) {
  return {
    HTTP_PORT: String(httpPort),
    GRPC_PORT: String(grpcPort),
    HOST: "127.0.0.1",
    DATABASE_URL: database,
    AUTH_JWT_SECRET: SECRET,
    LOG_LEVEL: ctx.logLevel,
    // Set, so that no METRICS_TOKEN of the caller's environment locks the bench out of /metrics.
    METRICS_TOKEN,
    ...(ctx.opts.nodeOptions ? { NODE_OPTIONS: ctx.opts.nodeOptions } : {}),
    ...extra,
  };
}

/** The service (bench/servers/service.js: main plus the timing hook) on free ports; resolves once ready. */
export async function startService(
  ctx: BenchContext,
  name: string,
  database: string,
  extra: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<Server> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const proc = start(process.execPath, [...nodeArgs, dist("bench", "servers", "service.js")], {
    core: ctx.serverCore,
    env: serviceEnv(ctx, database, httpPort, grpcPort, extra),
    ipc: true,
    stdoutFile: join(ctx.logs, `${name}.log`),
  });
  await waitHttp(`http://127.0.0.1:${httpPort}/readyz`, proc);
  return {
    name,
    proc,
    httpPort,
    grpcPort,
    metrics: { url: `http://127.0.0.1:${httpPort}/metrics`, token: METRICS_TOKEN },
  };
}

/** A bare Express route or grpc-js unary with a canned answer: what the framework alone costs. */
export async function startCeiling(ctx: BenchContext, kind: "rest" | "grpc", nodeArgs: string[] = []): Promise<Server> {
  const port = await freePort();
  const proc = start(process.execPath, [...nodeArgs, dist("bench", "servers", `${kind}-ceiling.js`)], {
    core: ctx.serverCore,
    env: { PORT: String(port) },
    ipc: true,
  });
  await waitTcp(port, proc);
  return { name: `${kind}-ceiling`, proc, httpPort: port, grpcPort: port };
}
