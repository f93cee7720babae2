import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import type { BenchOptions } from "./args.js";
import { ROOT } from "./paths.js";
import { canPin } from "./procs.js";

/** What every part of a bench run shares: options, cores, sizes, directories, the log. */
export interface BenchContext {
  opts: BenchOptions;
  /** The core of the servers and of the load (undefined: not pinned). */
  serverCore: number | undefined;
  loadCore: number | undefined;
  sizes: { small: number; large: number; chunk: number };
  /** Generated databases (bench/.cache; a temporary directory in smoke runs). */
  cache: string;
  /** Where the results JSON goes. */
  results: string;
  /** Server logs (the service logs one line per request at the default LOG_LEVEL=info). */
  logs: string;
  logLevel: string;
  began: number;
  log(message: string): void;
  /** A temporary directory, removed when the process exits (also after a failure). */
  tempDir(prefix: string): string;
}

export const HTTP_CONNECTIONS = 32;
export const GRPC_CONNECTIONS = 2;
export const GRPC_STREAMS = 16;
export const SECRET = "bench-only-secret-0123456789abcdef-not-for-production";

export function createBenchContext(opts: BenchOptions): BenchContext {
  const began = Date.now();
  const temp: string[] = [];
  process.once("exit", () => {
    for (const dir of temp) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(os.tmpdir(), prefix));
    temp.push(dir);
    return dir;
  };
  const pinned = canPin();
  return {
    opts,
    serverCore: pinned ? 0 : undefined,
    loadCore: pinned ? 1 : undefined,
    sizes: opts.smoke ? { small: 200, large: 2_000, chunk: 1_000 } : { small: 10_000, large: 1_000_000, chunk: 50_000 },
    cache: opts.smoke ? tempDir("restorability-bench-smoke-") : join(ROOT, "bench", ".cache"),
    results:
      opts.out ??
      (opts.smoke
        ? mkdtempSync(join(os.tmpdir(), "restorability-bench-smoke-results-"))
        : join(ROOT, "bench", "results")),
    logs: tempDir("restorability-bench-logs-"),
    logLevel: process.env.BENCH_LOG_LEVEL ?? "info",
    began,
    log(message) {
      const t = ((Date.now() - began) / 1000).toFixed(1).padStart(6);
      console.log(`[bench ${t}s] ${message}`);
    },
    tempDir,
  };
}
