import { ConfigError, loadConfig } from "./config.js";
import { startServer } from "./start-server.js";

try {
  const server = await startServer(loadConfig());
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      server.logger.info({ signal }, "shutting down");
      // The log is written asynchronously: flush it before the process exits.
      const exit = (code: number) => server.logger.flush(() => process.exit(code));
      server.stop().then(
        () => exit(0),
        (error: unknown) => {
          server.logger.error({ err: error }, "shutdown failed");
          exit(1);
        },
      );
    });
  }
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
}
