import http from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { type Logger, pino } from "pino";
import { InventoryService } from "../../gen/csbs/admin/v1/inventory_service_pb.js";
import { ResourceService } from "../../gen/csbs/v1/resource_service_pb.js";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { createAuthenticator, trustedForMs } from "../auth/authenticator.js";
import { loadOrCreateDevSecret } from "../auth/dev-secret.js";
import { mintToken } from "../auth/mint-token.js";
import { ADMIN_ROLE } from "../auth/principal.js";
import { cacheVerifiedTokens } from "../auth/token-cache.js";
import { createOpenApiDocument } from "../gateway/openapi.js";
import { createCallGuard } from "../service/call-guard.js";
import { viewError } from "../service/csbs-error.js";
import { createInventoryService } from "../service/inventory-service.js";
import { createResourceService } from "../service/resource-service.js";
import type { UseCaseDeps } from "../service/use-case-deps.js";
import { createStore } from "../store/create-store.js";
import { importInventoryFile } from "../store/import-inventory.js";
import type { Store } from "../store/store.js";
import type { Config } from "./config.js";
import { createLogDestination } from "./create-log-destination.js";
import { addConnectService, type GrpcCallRecord } from "./grpc/add-connect-service.js";
import { addHealth } from "./grpc/add-health.js";
import { addReflection } from "./grpc/add-reflection.js";
import { createMessageTimeout } from "./grpc/message-timeout.js";
import { answerClientError } from "./http/answer-client-error.js";
import { createHttpApp } from "./http/create-http-app.js";
import { drainHttpServer } from "./http/drain-http-server.js";
import { createStoreMonitor } from "./store-monitor.js";
import { createTelemetry, grpcStatusName, type Telemetry } from "./telemetry.js";

export interface RunningServer {
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly store: Store;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  /** The development token, when the service runs on a generated development secret. */
  readonly devToken: string | undefined;
  /**
   * Drain, then stop: readiness (/readyz) and gRPC health go NOT_SERVING at once and every
   * HTTP response says `Connection: close`; calls are still accepted and served for
   * `shutdownDelayMs` (load balancers stop sending); then both listeners stop accepting,
   * every request that reached the process is answered (see drainHttpServer), HTTP/2
   * sessions get GOAWAY and their started streams finish, the store closes. What is still
   * open `shutdownTimeoutMs` after the signal is closed by force, with a logged count.
   */
  stop(): Promise<void>;
  /** HTTP connections open now (for the log of a forced exit). */
  openConnections(): number;
}

export interface StartOptions {
  logger?: Logger;
}

const HEALTH_SERVICES = ["", ResourceService.typeName, InventoryService.typeName] as const;

/** Wires the store, the service, the gRPC port and the HTTP port, and starts listening. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  // Stdout written asynchronously, in batches of lines (at most LOG_FLUSH_MS late).
  const logger = options.logger ?? pino({ level: config.logLevel }, createLogDestination());
  const telemetry = createTelemetry(logger);
  const store = await connectStore(config, logger, telemetry);
  try {
    if (config.inventoryFile) {
      const file = config.inventoryFile;
      const counts = await importInventoryFile(store, file).catch((error: Error) => {
        const reason = error.message.startsWith(`${file}: `) ? error.message.slice(file.length + 2) : error.message;
        throw new Error(`INVENTORY_FILE ${file}: ${reason}`, { cause: error });
      });
      logger.info({ file: config.inventoryFile, ...counts }, "inventory imported");
    }
    const { auth } = config;
    // The development secret, read (or made) once: it signs the dev token and verifies tokens.
    const devSecret =
      auth.mode === "dev" ? loadOrCreateDevSecret(auth.secretFile, (message) => logger.warn(message)) : undefined;
    const onKeySourceError = (err: unknown) =>
      logger.warn(
        { err, jwks_url: auth.mode === "jwks-url" ? auth.url : undefined },
        "JWKS URL unreachable: calls get 503",
      );
    const authenticator = cacheVerifiedTokens(
      createAuthenticator(devSecret === undefined ? auth : { ...auth, mode: "hs256", secret: devSecret }, {
        onKeySourceError,
      }),
      {
        max: auth.cacheSize,
        ttlMs: trustedForMs(auth),
      },
    );
    let devToken: string | undefined;
    if (devSecret !== undefined) {
      devToken = await mintToken({
        secret: devSecret,
        projectId: config.demoProjectId,
        roles: [ADMIN_ROLE],
        // 12 h, or the longest lifetime the service accepts when that is shorter.
        ttl: `${Math.min(12 * 3600, auth.maxTokenTtlSeconds)}s`,
        issuer: auth.issuer,
        audience: auth.audience,
      });
      logger.warn(
        { project_id: config.demoProjectId, dev_token: devToken },
        "DEVELOPMENT AUTH (AUTH_DEV=1), NOT FOR PRODUCTION: a generated development secret signs tokens; production sets AUTH_JWT_SECRET, AUTH_JWKS_FILE or AUTH_JWKS_URL. Use dev_token as X-Auth-Token.",
      );
    }

    const guard = createCallGuard({
      authenticator,
      logger,
      maxConcurrent: config.maxConcurrentRequests,
      requestTimeoutMs: config.requestTimeoutMs,
    });
    const deps: UseCaseDeps = {
      store,
      limits: { maxCheckItems: config.maxCheckItems, maxVolumes: config.maxVolumes },
      onVerdict: telemetry.observeVerdict,
    };
    const service = createResourceService({ ...deps, guard });
    const inventoryService = createInventoryService({ store, guard });

    // gRPC port: the ServiceImpl on a grpc-js Server, with health and reflection. The message
    // timeout: kept by addConnectService's handlers for their methods, by the interceptor for the others.
    const messageTimeout = createMessageTimeout(config.grpcMessageTimeoutMs);
    const grpcServer = new grpc.Server({
      "grpc.max_receive_message_length": config.maxBodyBytes,
      "grpc.max_send_message_length": 4 * config.maxBodyBytes,
      "grpc.keepalive_time_ms": config.grpcKeepaliveTimeMs,
      "grpc.keepalive_timeout_ms": config.grpcKeepaliveTimeoutMs,
      "grpc.max_connection_idle_ms": config.grpcMaxConnectionIdleMs,
      "grpc.max_connection_age_ms": config.grpcMaxConnectionAgeMs,
      "grpc.max_connection_age_grace_ms": config.grpcMaxConnectionAgeGraceMs,
      interceptors: [messageTimeout.interceptor],
    });
    const onFinishedFor =
      (service: string) =>
      (r: GrpcCallRecord): void =>
        telemetry.observeRequest({
          protocol: "grpc",
          service,
          method: r.method,
          code: r.code,
          status: grpcStatusName(r.code),
          errorCode: r.code === 0 ? "" : viewError(r.error).errorCode,
          seconds: r.seconds,
          requestId: r.requestId,
          projectId: r.projectId,
          error: r.error,
        });
    addConnectService(
      grpcServer,
      { desc: ResourceService, impl: service },
      { onFinished: onFinishedFor(ResourceService.typeName), verifyFirst: guard.verifyFirst, messageTimeout },
    );
    addConnectService(
      grpcServer,
      { desc: InventoryService, impl: inventoryService },
      { onFinished: onFinishedFor(InventoryService.typeName), verifyFirst: guard.verifyFirst, messageTimeout },
    );
    const health = addHealth(grpcServer, Object.fromEntries(HEALTH_SERVICES.map((s) => [s, "SERVING"] as const)));
    // Reflection also describes google.rpc.ErrorInfo, so clients can decode error details.
    addReflection(grpcServer, [ResourceService, InventoryService, Health], [file_google_rpc_error_details]);

    let draining = false;
    const monitor = createStoreMonitor(store, {
      onChange: (healthy) => {
        if (draining) return;
        for (const s of HEALTH_SERVICES) health.setStatus(s, healthy ? "SERVING" : "NOT_SERVING");
        if (healthy) logger.info("store reachable: health SERVING");
        else logger.warn("store unreachable: health NOT_SERVING");
      },
    });
    await monitor.probe();
    telemetry.watch({
      inFlight: () => guard.inFlight(),
      storeUp: () => monitor.healthy,
      storeCache: store.cacheStats ? () => store.cacheStats!() : undefined,
    });

    const grpcPort = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync(`${config.host}:${config.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(listenError("GRPC_PORT", config.grpcPort, config.host, err)) : resolve(port),
      ),
    );

    // HTTP port: the REST gateway, plus Connect and gRPC-Web for the same ServiceImpl.
    const app = createHttpApp({
      deps,
      guard,
      telemetry,
      logger,
      connectRoutes: (router) => {
        router.service(ResourceService, service);
        router.service(InventoryService, inventoryService);
      },
      maxBodyBytes: config.maxBodyBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      metricsToken: config.metricsToken,
      corsAllowedOrigins: config.corsAllowedOrigins,
      isReady: async () => !draining && (await monitor.probe()),
      openApiDocument: createOpenApiDocument(config, [ResourceService, InventoryService]),
    });
    const httpServer = http.createServer(
      {
        // Slow-loris protection: headers and whole requests must arrive in bounded time,
        // checked every second (Node's default interval is 30 s).
        headersTimeout: config.httpHeadersTimeoutMs,
        requestTimeout: Math.max(config.requestTimeoutMs, config.httpHeadersTimeoutMs) + 5_000,
        connectionsCheckingInterval: 1_000,
        keepAliveTimeout: 5_000,
      },
      app,
    );
    httpServer.on("clientError", answerClientError(logger));
    const drain = drainHttpServer(httpServer);
    httpServer.listen(config.httpPort, config.host);
    await new Promise<void>((resolve, reject) => {
      httpServer.once("listening", resolve);
      httpServer.once("error", (err) => reject(listenError("HTTP_PORT", config.httpPort, config.host, err)));
    });
    const httpPort = (httpServer.address() as AddressInfo).port;
    logger.info({ http_port: httpPort, grpc_port: grpcPort, store: store.kind }, "restorability service listening");

    let stopping: Promise<void> | undefined;
    return {
      httpPort,
      grpcPort,
      store,
      logger,
      telemetry,
      devToken,
      openConnections: () => drain.open(),
      stop() {
        stopping ??= (async () => {
          draining = true;
          monitor.stop();
          for (const s of HEALTH_SERVICES) health.setStatus(s, "NOT_SERVING");
          drain.startDraining();
          let forced = false;
          const timer = setTimeout(() => {
            forced = true;
            const count = drain.destroyAll();
            logger.warn(
              { http_connections: count, shutdown_timeout_ms: config.shutdownTimeoutMs },
              `shutdown timeout: closing ${count} HTTP connection(s) and the gRPC sessions left by force`,
            );
            grpcServer.forceShutdown();
          }, config.shutdownTimeoutMs);
          if (config.shutdownDelayMs > 0) {
            logger.info({ shutdown_delay_ms: config.shutdownDelayMs }, "not ready; serving until the delay ends");
            await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
          }
          // GOAWAY on every HTTP/2 session; started streams finish.
          const grpcClosed = forced
            ? Promise.resolve()
            : new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
          await Promise.all([drain.close(), grpcClosed]);
          clearTimeout(timer);
          await store.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** A listen failure naming the variable, the address and the cause (EADDRINUSE, EADDRNOTAVAIL, ...). */
function listenError(variable: string, port: number, host: string, err: Error): Error {
  // grpc-js puts the cause in the message only ("... [listen EADDRINUSE: ...]").
  const code = (err as NodeJS.ErrnoException).code ?? /\b(E[A-Z]+):/.exec(err.message)?.[1];
  const cause =
    code === "EADDRINUSE"
      ? "the port is in use"
      : code === "EADDRNOTAVAIL" || code === "ENOTFOUND"
        ? `HOST ${host} is not an address of this machine`
        : err.message;
  return new Error(`${variable}=${port} on HOST=${host}: cannot listen: ${cause}`, { cause: err });
}

/**
 * Opens the store. PostgreSQL not reachable yet (a database starting with the service) is
 * retried with backoff until STORE_CONNECT_TIMEOUT_MS, then one error naming DATABASE_URL.
 */
async function connectStore(config: Config, logger: Logger, telemetry: Telemetry): Promise<Store> {
  const open = () =>
    createStore(config.database, {
      onQuery: telemetry.observeQuery,
      dbConnectTimeoutMs: config.dbConnectTimeoutMs,
      dbQueryTimeoutMs: config.dbQueryTimeoutMs,
      dbPoolMax: config.dbPoolMax,
      sqliteMmapMb: config.sqliteMmapMb,
      storeCacheEntries: config.storeCacheEntries,
      onBackgroundError: (err) => logger.warn({ err }, "store connection lost (the pool reconnects on the next call)"),
    });
  if (config.database.kind === "sqlite") {
    try {
      return await open();
    } catch (error) {
      throw new Error(
        `DATABASE_URL ${config.database.path}: cannot open the SQLite file: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
  const deadline = Date.now() + config.storeConnectTimeoutMs;
  for (let attempt = 1, backoff = 250; ; attempt++, backoff = Math.min(backoff * 2, 5000)) {
    try {
      return await open();
    } catch (error) {
      const message = (error as Error).message || (error as NodeJS.ErrnoException).code || String(error);
      const left = deadline - Date.now();
      if (left <= 0) {
        const where = safeUrl(config.database.url);
        throw new Error(
          `DATABASE_URL ${where}: PostgreSQL unreachable after ${attempt} attempt(s) in ${config.storeConnectTimeoutMs} ms (STORE_CONNECT_TIMEOUT_MS): ${message}`,
          { cause: error },
        );
      }
      logger.warn({ attempt, retry_in_ms: Math.min(backoff, left), err: message }, "PostgreSQL unreachable: retrying");
      await new Promise((resolve) => setTimeout(resolve, Math.min(backoff, left)));
    }
  }
}

/** The URL without its password, for a log line. */
function safeUrl(raw: string): string {
  const url = new URL(raw);
  if (url.password) url.password = "***";
  return url.toString();
}
