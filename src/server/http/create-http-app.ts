import type { ConnectRouter } from "@connectrpc/connect";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import { ResourceService } from "../../../gen/csbs/v1/resource_service_pb.js";
import { createGateway } from "../../gateway/create-gateway.js";
import type { CallGuard } from "../../service/call-guard.js";
import { csbsError, viewError } from "../../service/csbs-error.js";
import type { UseCaseDeps } from "../../service/use-case-deps.js";
import { grpcStatusName, type Telemetry } from "../telemetry.js";
import { createConnectHandler } from "./create-connect-handler.js";
import { createCors } from "./create-cors.js";
import { createErrorHandler, sendError } from "./create-error-handler.js";
import { assignRequestId, requestIdInterceptor } from "./request-id.js";

export interface HttpAppOptions {
  /** What the REST gateway's use cases need. */
  deps: UseCaseDeps;
  guard: CallGuard;
  telemetry: Telemetry;
  logger: Logger;
  /** Registers the Connect / gRPC-Web services on the HTTP port. */
  connectRoutes: (router: ConnectRouter) => void;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  /** When set, GET /metrics requires `Authorization: Bearer <metricsToken>`. */
  metricsToken: string | undefined;
  /** Ready to serve: the store answers and the service is not draining. */
  isReady: () => Promise<boolean>;
  /** The OpenAPI document of the REST path, served at GET /openapi.json. */
  openApiDocument?: unknown;
  /** Browser origins allowed by CORS (`*`: any); empty or absent: no CORS, OPTIONS is a 404. */
  corsAllowedOrigins?: readonly string[];
}

/** REST routes that are not calls: not counted, not logged. */
const PROBES = new Set(["/healthz", "/readyz", "/metrics", "/openapi.json"]);
const REST_SERVICE = ResourceService.typeName;
const REST_METHODS = new Set(ResourceService.methods.map((m) => m.name));

/**
 * The edge of every HTTP request, one layer: its request id (assignRequestId), and for a
 * REST call its log line and metrics when its response is finished: the RPC the body named
 * (`unknown` when the call failed before), its code and CSBS error code. Probes and scrapes
 * are not calls; another route (a 404) is logged, not counted; Connect and gRPC-Web calls are
 * reported by the connect interceptor instead.
 */
function httpEdge(telemetry: Telemetry, logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const requestId = assignRequestId(req, res);
    const path = req.path;
    if (path.startsWith("/csbs.") || PROBES.has(path)) return next();
    const start = performance.now();
    res.once("finish", () => {
      const method = res.locals.method;
      if (method === undefined) {
        logger.info(
          {
            request_id: requestId,
            protocol: "rest",
            status: String(res.statusCode),
            error_code: res.locals.errorCode,
            path: path.slice(0, 128),
          },
          "no such route",
        );
        return;
      }
      telemetry.observeRequest({
        protocol: "rest",
        service: REST_SERVICE,
        method: REST_METHODS.has(String(method)) ? String(method) : "unknown",
        code: res.statusCode < 400 ? 0 : Number(res.locals.code ?? 2),
        status: String(res.statusCode),
        errorCode: String(res.locals.errorCode ?? ""),
        seconds: (performance.now() - start) / 1000,
        requestId,
        projectId: res.locals.projectId,
      });
    });
    next();
  };
}

/**
 * The HTTP/1.1 port: the REST gateway, Connect and gRPC-Web for the same ServiceImpl,
 * probes, metrics; every error a flat CSBS body.
 */
export function createHttpApp(options: HttpAppOptions): Express {
  const { telemetry } = options;
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.use(httpEdge(telemetry, options.logger));
  if (options.corsAllowedOrigins?.length) app.use(createCors(options.corsAllowedOrigins));
  // The REST action first: the layers before it are passed on every call.
  app.use(
    createGateway({
      deps: options.deps,
      guard: options.guard,
      maxBodyBytes: options.maxBodyBytes,
    }),
  );

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  const openApi = options.openApiDocument === undefined ? undefined : JSON.stringify(options.openApiDocument);
  if (openApi !== undefined) app.get("/openapi.json", (_req, res) => void res.type("application/json").send(openApi));
  app.get("/readyz", async (_req, res) => {
    const ready = await options.isReady();
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready" });
  });
  app.get("/metrics", async (req, res) => {
    if (options.metricsToken !== undefined && req.get("authorization") !== `Bearer ${options.metricsToken}`) {
      sendError(
        res,
        csbsError("unauthenticated", "Incorrect IAM authentication information: /metrics needs the metrics token"),
      );
      return;
    }
    res.type(telemetry.registry.contentType).send(await telemetry.registry.metrics());
  });

  app.use(
    createConnectHandler({
      routes: options.connectRoutes,
      guard: options.guard,
      readMaxBytes: options.maxBodyBytes,
      maxTimeoutMs: options.requestTimeoutMs,
      interceptors: [requestIdInterceptor, telemetry.connectInterceptor],
      onEdgeFailure: (f) =>
        telemetry.observeRequest({
          protocol: f.protocol,
          service: f.service,
          method: f.method,
          code: f.error.code,
          status: grpcStatusName(f.error.code),
          errorCode: viewError(f.error).errorCode,
          seconds: f.seconds,
          requestId: f.requestId,
          error: f.error,
        }),
    }),
  );
  app.use((_req, res) => {
    sendError(res, csbsError("not_found", "The API does not exist or has not been published"));
  });
  app.use(createErrorHandler(options.logger));
  return app;
}
