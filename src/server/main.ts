/**
 * The production entry point, bundled by `npm run build` into `dist/server.mjs` (what
 * `npm start`, with AUTH_DEV=1, and the Dockerfile run; scripts/bundle-server.ts). Refuses
 * to start without a key source; a start-up failure is one line naming the variable or file
 * (the stack only at LOG_LEVEL=debug), exit 1.
 * SIGTERM/SIGINT drain then stop (see RunningServer.stop); a second signal exits at once.
 */
import * as grpc from "@grpc/grpc-js";
import { ConfigError, loadConfig } from "./config.js";
import { startServer } from "./start-server.js";

/** A repeated signal this soon after the first is the same stop delivered twice (process group + npm). */
const DUPLICATE_SIGNAL_MS = 1000;

const debug = process.env.LOG_LEVEL === "debug" || process.env.LOG_LEVEL === "trace";
// grpc-js writes its own errors to stderr ("E No address added ..."); the service reports
// them itself (one line), so grpc-js's lines only at LOG_LEVEL=debug.
if (!debug) grpc.setLogVerbosity(grpc.logVerbosity.NONE);

function startUpFailure(error: unknown): never {
  if (error instanceof ConfigError) {
    for (const p of error.problems) console.error(`configuration error: ${p.variable}: ${p.reason}`);
  } else {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`start-up failed: ${message.replace(/\s*\n\s*/g, " ")}`);
    if (debug && error instanceof Error) console.error(error.stack);
  }
  process.exit(1);
}

let server: Awaited<ReturnType<typeof startServer>>;
try {
  server = await startServer(loadConfig(process.env, { requireAuth: true }));
} catch (error) {
  startUpFailure(error);
}

let firstSignalAt: number | undefined;
const onSignal = (signal: NodeJS.Signals) => {
  const { logger } = server;
  if (firstSignalAt !== undefined) {
    if (Date.now() - firstSignalAt < DUPLICATE_SIGNAL_MS) return;
    logger.warn({ signal, open_connections: server.openConnections() }, "second signal: exiting now");
    logger.flush(() => process.exit(1));
    return;
  }
  firstSignalAt = Date.now();
  logger.info({ signal }, "shutting down: draining");
  // The log is written asynchronously: flush it before the process exits.
  const exit = (code: number) => logger.flush(() => process.exit(code));
  server.stop().then(
    () => {
      logger.info("stopped");
      exit(0);
    },
    (error: unknown) => {
      logger.error({ err: error }, "shutdown failed");
      exit(1);
    },
  );
};
process.on("SIGTERM", onSignal);
process.on("SIGINT", onSignal);
