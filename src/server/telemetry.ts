import type { Interceptor } from "@connectrpc/connect";
import { ConnectError } from "@connectrpc/connect";
import { status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { viewError } from "../service/csbs-error.js";

export type Protocol = "rest" | "grpc" | "connect" | "grpc-web";

/** One finished request, as each port's edge reports it. */
export interface RequestRecord {
  protocol: Protocol;
  /** The RPC method (CheckRestorable, …) or, for other HTTP routes, the route. */
  method: string;
  /** HTTP status (REST) or gRPC status code name (gRPC, Connect, gRPC-Web). */
  status: string;
  /** The CSBS/APIGW code of a whole-request failure, or "". */
  errorCode: string;
  seconds: number;
  requestId?: string | undefined;
  projectId?: string | undefined;
  /** The failure, logged with its stack only in the log. */
  error?: unknown;
}

export interface Telemetry {
  readonly registry: Registry;
  observeRequest(record: RequestRecord): void;
  observeVerdict(method: string, errorCode: string): void;
  observeQuery(table: string, seconds: number): void;
  /** A connect-es interceptor that reports Connect and gRPC-Web calls. */
  readonly connectInterceptor: Interceptor;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Prometheus metrics (prom-client) and one pino log line per request. */
export function createTelemetry(logger: Logger): Telemetry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "csbs_requests_total",
    help: "Requests by protocol, method or route, status and CSBS error code.",
    labelNames: ["protocol", "method", "status", "error_code"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "csbs_request_duration_seconds",
    help: "Request latency by protocol and method or route.",
    labelNames: ["protocol", "method"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const verdicts = new Counter({
    name: "csbs_check_verdicts_total",
    help: 'Per-entry check verdicts by method and error_code ("" when the entry passes).',
    labelNames: ["method", "error_code"] as const,
    registers: [registry],
  });
  const queries = new Histogram({
    name: "csbs_store_query_duration_seconds",
    help: "Store query latency by table.",
    labelNames: ["table"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  const observeRequest = (r: RequestRecord) => {
    requests.inc({ protocol: r.protocol, method: r.method, status: r.status, error_code: r.errorCode });
    duration.observe({ protocol: r.protocol, method: r.method }, r.seconds);
    const line = {
      request_id: r.requestId,
      protocol: r.protocol,
      method: r.method,
      project_id: r.projectId,
      status: r.status,
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
      method: req.method.name,
      requestId: req.header.get("x-request-id") ?? undefined,
      projectId: (req.message as { projectId?: string }).projectId,
    };
    try {
      const res = await next(req);
      observeRequest({ ...record, status: "OK", errorCode: "", seconds: (performance.now() - start) / 1000 });
      return res;
    } catch (error) {
      const view = viewError(error);
      const code = ConnectError.from(error).code;
      observeRequest({
        ...record,
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
    observeVerdict: (method, errorCode) => verdicts.inc({ method, error_code: errorCode }),
    observeQuery: (table, seconds) => queries.observe({ table }, seconds),
    connectInterceptor,
  };
}

/** The gRPC status name of a code (grpc-js's own enum), e.g. 3 → INVALID_ARGUMENT. */
export function grpcStatusName(code: number): string {
  return status[code] ?? String(code);
}
