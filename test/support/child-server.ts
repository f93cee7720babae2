import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { freePort } from "../../scripts/lib/free-port.js";
import { DEMO_INVENTORY, TEST_SECRET } from "./test-server.js";

const MAIN = new URL("../../src/server/main.ts", import.meta.url).pathname;

export interface ChildServer {
  child: ChildProcess;
  httpPort: number;
  grpcPort: number;
  /** Every JSON log line the process printed so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

/**
 * Runs the real service as its own process (`node --import tsx src/server/main.ts`) on
 * free ports, with a temporary SQLite file and the demo inventory; resolves once /readyz
 * answers 200.
 */
export async function startChildServer(env: Record<string, string> = {}): Promise<ChildServer> {
  const dir = mkdtempSync(join(tmpdir(), "restorability-child-"));
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: {
      ...process.env,
      HTTP_PORT: String(httpPort),
      GRPC_PORT: String(grpcPort),
      HOST: "127.0.0.1",
      DATABASE_URL: join(dir, "child.db"),
      INVENTORY_FILE: DEMO_INVENTORY,
      AUTH_JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  exited.finally(() => rmSync(dir, { recursive: true, force: true }));
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  });
  const failed = exited.then((code) => {
    throw new Error(`server exited (${code}) before it was ready: ${stderr}`);
  });
  failed.catch(() => undefined); // only the race below cares
  await Promise.race([waitReady(httpPort), failed]);
  return {
    child,
    httpPort,
    grpcPort,
    logs,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on port ${port} not ready in 60 s`);
}
