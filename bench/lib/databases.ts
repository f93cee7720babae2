import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "./context.js";
import { GENERATOR_VERSION } from "./inventory.js";
import { dist } from "./paths.js";
import { run } from "./procs.js";

/** What bench/servers/import-db.js reports. */
export interface ImportResult {
  items: number;
  servers: number;
  volumes: number;
  /** The file format imported (one file, streamed: docs/contract.md §9). */
  format?: "json" | "ndjson";
  /** Before the streamed import: the items were imported in files of this many items each. */
  chunkItems?: number;
  importSeconds: number;
  /** Peak RSS of the importing process during the import. */
  importPeakRssMb?: number;
  importCpuSeconds: number;
  generateSeconds: number;
  wallSeconds: number;
  measuredAt?: string;
  cached?: boolean;
}

/**
 * The Node flags of `npm run import` (package.json). A 96 MB old space: the importing thread
 * holds a few batches of records and the id fingerprints (outside the heap); with the file read
 * on a worker thread (src/store/read-in-worker.ts) the 1M import peaked at 244-278 MB by hand
 * (2026-12-08). A smaller young generation (--max-semi-space-size=8) saved another ~20 MB but
 * cost 30-40% more CPU: left at V8's default.
 */
export const IMPORT_NODE_FLAGS = ["--max-old-space-size=96"];

/**
 * Generates and imports `items` checkpoint items into `database` (a SQLite path or a PostgreSQL
 * URL), on every core: nothing else runs during the import, and `npm run import` has the
 * machine's cores (V8's GC helper threads and libuv's file reads run beside the main thread).
 * Pinned to one core the 1M import took 71-72 s in the full runs of 2026-12-02 where it took
 * 51-68 s by hand on both cores (BENCHMARKS.md).
 */
export async function importDb(database: string, items: number): Promise<ImportResult> {
  const out = await run(
    process.execPath,
    [...IMPORT_NODE_FLAGS, dist("bench", "servers", "import-db.js"), database, String(items), "json"],
    { core: "all" },
  );
  return JSON.parse(out.trim().split("\n").at(-1)!) as ImportResult;
}

/** The SQLite database of `items` items: cached in ctx.cache unless `fresh`. */
export async function ensureDb(
  ctx: BenchContext,
  items: number,
  fresh: boolean,
): Promise<{ path: string; result: ImportResult }> {
  mkdirSync(ctx.cache, { recursive: true });
  const path = join(ctx.cache, `inventory-${items}-v${GENERATOR_VERSION}.db`);
  const meta = `${path}.json`;
  if (!fresh && existsSync(path) && existsSync(meta)) {
    const result = JSON.parse(readFileSync(meta, "utf8")) as ImportResult;
    ctx.log(`using the cached ${items}-item database ${path} (imported ${result.measuredAt})`);
    return { path, result: { ...result, cached: true } };
  }
  ctx.log(`generating and importing ${items.toLocaleString("en-US")} checkpoint items into ${path} ...`);
  const result = { ...(await importDb(path, items)), measuredAt: new Date().toISOString() };
  writeFileSync(meta, JSON.stringify(result, null, 2));
  ctx.log(
    `imported in ${result.importSeconds.toFixed(1)} s (generation ${result.generateSeconds.toFixed(1)} s, not counted)`,
  );
  return { path, result: { ...result, cached: false } };
}
