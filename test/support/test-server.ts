import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Logger, pino } from "pino";
import { mintToken } from "../../src/auth/mint-token.js";
import { type Config, loadConfig } from "../../src/server/config.js";
import { type RunningServer, startServer } from "../../src/server/start-server.js";

/** The HS256 secret of test servers. DEVELOPMENT/TEST ONLY. */
export const TEST_SECRET = "test-only-secret-0123456789abcdef-not-for-production";
export const DEMO_INVENTORY = new URL("../../data/demo-inventory.json", import.meta.url).pathname;

export interface TestServer {
  server: RunningServer;
  config: Config;
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  /** 127.0.0.1:PORT */
  grpcAddress: string;
  dir: string;
  /** A token for the project (default: the demo project), signed with TEST_SECRET. */
  token(projectId?: string, roles?: string[], ttl?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the real service on ports 0 with a temporary SQLite file and the demo inventory
 * (unless told otherwise). Close it in afterAll.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { logger?: Logger } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "restorability-test-"));
  const config = loadConfig({
    HTTP_PORT: "0",
    GRPC_PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: join(dir, "test.db"),
    INVENTORY_FILE: DEMO_INVENTORY,
    AUTH_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    SHUTDOWN_TIMEOUT_MS: "2000",
    ...env,
  });
  const server = await startServer(config, { logger: options.logger ?? pino({ level: config.logLevel }) });
  return {
    server,
    config,
    dir,
    httpUrl: `http://127.0.0.1:${server.httpPort}`,
    grpcAddress: `127.0.0.1:${server.grpcPort}`,
    token: (projectId = "demo-project", roles = [], ttl = "10m") =>
      mintToken({ secret: TEST_SECRET, projectId, roles, ttl }),
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
