import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
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
 * ports 0, with a temporary SQLite file and the demo inventory; reads its ports from the
 * "listening" log line.
 */
export async function startChildServer(env: Record<string, string> = {}): Promise<ChildServer> {
  const dir = mkdtempSync(join(tmpdir(), "restorability-child-"));
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    env: {
      ...process.env,
      HTTP_PORT: "0",
      GRPC_PORT: "0",
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
  const ports = await new Promise<{ http: number; grpc: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === "restorability service listening") {
          resolve({ http: Number(entry.http_port), grpc: Number(entry.grpc_port) });
        }
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
  return {
    child,
    httpPort: ports.http,
    grpcPort: ports.grpc,
    logs,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
