import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expressConnectMiddleware } from "@connectrpc/connect-express";
import * as grpc from "@grpc/grpc-js";
import express from "express";
import { HealthImplementation } from "grpc-health-check";
import { type Logger, pino } from "pino";
import { file_csbs_v1_resource_service, ResourceService } from "../../gen/csbs/v1/resource_service_pb.js";
import { type Authenticator, createAuthenticator } from "../auth/authenticator.js";
import { loadOrCreateDevSecret } from "../auth/dev-secret.js";
import { mintToken } from "../auth/mint-token.js";
import { ADMIN_ROLE } from "../auth/principal.js";
import { ACTION_PATH, createGateway } from "../gateway/create-gateway.js";
import { requestIdMiddleware } from "../gateway/request-id.js";
import { createErrorHandler, sendError } from "../gateway/send-error.js";
import { createCallGuard } from "../service/call-guard.js";
import { csbsError } from "../service/csbs-error.js";
import { createResourceService } from "../service/resource-service.js";
import { createStore } from "../store/create-store.js";
import { importInventoryFile } from "../store/import-inventory.js";
import type { Store } from "../store/store.js";
import type { AuthConfig, Config } from "./config.js";
import { addConnectService } from "./grpc-host.js";
import { addReflection } from "./reflection.js";
import { createStoreMonitor } from "./store-monitor.js";

export interface RunningServer {
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly store: Store;
  readonly logger: Logger;
  /** The development token, when the service runs on a generated development secret. */
  readonly devToken: string | undefined;
  /** Drains both ports, closes the store; resolves when everything is closed. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

const HEALTH_SERVICES = ["", ResourceService.typeName] as const;

async function createAuth(
  auth: AuthConfig,
  config: Config,
): Promise<{ authenticator: Authenticator; devSecret?: string }> {
  const common = { issuer: config.authIssuer, audience: config.authAudience };
  switch (auth.mode) {
    case "hs256":
      return { authenticator: createAuthenticator({ ...common, jwtSecret: auth.secret }) };
    case "jwks-file":
      return { authenticator: createAuthenticator({ ...common, jwksFile: auth.file }) };
    case "jwks-url":
      return { authenticator: createAuthenticator({ ...common, jwksUrl: auth.url }) };
    case "dev": {
      const devSecret = loadOrCreateDevSecret(auth.secretFile);
      return { authenticator: createAuthenticator({ ...common, jwtSecret: devSecret }), devSecret };
    }
  }
}

/** Wires the store, the service, the gRPC port and the HTTP port, and starts listening. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const store = await createStore(config.database);
  try {
    if (config.inventoryFile) {
      const counts = await importInventoryFile(store, config.inventoryFile);
      logger.info({ file: config.inventoryFile, ...counts }, "inventory imported");
    }
    const { authenticator, devSecret } = await createAuth(config.auth, config);
    let devToken: string | undefined;
    if (devSecret !== undefined) {
      devToken = await mintToken({
        secret: devSecret,
        projectId: config.demoProjectId,
        roles: [ADMIN_ROLE],
        ttl: "12h",
        issuer: config.authIssuer,
        audience: config.authAudience,
      });
      logger.warn(
        { project_id: config.demoProjectId, dev_token: devToken },
        "DEVELOPMENT AUTH: no AUTH_JWT_SECRET / AUTH_JWKS_FILE / AUTH_JWKS_URL set; using a generated development secret. Use dev_token as X-Auth-Token.",
      );
    }

    const guard = createCallGuard({ authenticator, logger });
    const service = createResourceService({
      store,
      guard,
      limits: { maxItems: config.maxCheckItems, maxVolumes: config.maxVolumes },
    });

    // gRPC port: the ServiceImpl on a grpc-js Server, with health and reflection.
    const grpcServer = new grpc.Server({
      "grpc.max_receive_message_length": config.maxBodyBytes,
      "grpc.max_send_message_length": 4 * config.maxBodyBytes,
    });
    addConnectService(grpcServer, { desc: ResourceService, impl: service });
    const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, "SERVING"])));
    health.addToServer(grpcServer);
    let draining = false;
    const monitor = createStoreMonitor(store, {
      onChange: (healthy) => {
        if (draining) return;
        for (const s of HEALTH_SERVICES) health.setStatus(s, healthy ? "SERVING" : "NOT_SERVING");
        if (!healthy) logger.warn("store unreachable: health NOT_SERVING");
        else logger.info("store reachable: health SERVING");
      },
    });
    await monitor.probe();
    addReflection(grpcServer, [file_csbs_v1_resource_service]);
    const grpcPort = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync(`${config.host}:${config.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );

    // HTTP port: the REST gateway, plus Connect and gRPC-Web for the same ServiceImpl.
    const app = express();
    app.disable("x-powered-by");
    app.disable("etag");
    app.use(requestIdMiddleware);
    app.get("/healthz", (_req, res) => {
      res.json({ status: "ok" });
    });
    app.get("/readyz", async (_req, res) => {
      try {
        if (draining) throw new Error("draining");
        if (!(await monitor.probe())) throw new Error("store unreachable");
        res.json({ status: "ready" });
      } catch {
        res.status(503).json({ status: "not ready" });
      }
    });
    app.use(
      expressConnectMiddleware({
        routes: (router) => router.service(ResourceService, service),
        readMaxBytes: config.maxBodyBytes,
      }),
    );
    app.use(createGateway({ service, guard, maxBodyBytes: config.maxBodyBytes }));
    app.all(ACTION_PATH, (_req, res) => {
      sendError(res, csbsError("not_found", "The API does not exist or has not been published: method not allowed"));
    });
    app.use((_req, res) => {
      sendError(res, csbsError("not_found", "The API does not exist or has not been published"));
    });
    app.use(createErrorHandler(logger));

    const httpServer = http.createServer(
      { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 },
      app,
    );
    httpServer.listen(config.httpPort, config.host);
    await once(httpServer, "listening");
    const httpPort = (httpServer.address() as AddressInfo).port;
    logger.info({ http_port: httpPort, grpc_port: grpcPort, store: store.kind }, "restorability service listening");

    let stopping: Promise<void> | undefined;
    return {
      httpPort,
      grpcPort,
      store,
      logger,
      devToken,
      stop() {
        stopping ??= (async () => {
          draining = true;
          monitor.stop();
          for (const s of HEALTH_SERVICES) health.setStatus(s, "NOT_SERVING");
          const httpClosed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
          httpServer.closeIdleConnections();
          const grpcClosed = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
          const timer = setTimeout(() => {
            httpServer.closeAllConnections();
            grpcServer.forceShutdown();
          }, config.shutdownTimeoutMs);
          await Promise.all([httpClosed, grpcClosed]);
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
