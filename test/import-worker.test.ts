import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeInventoryFile } from "../bench/lib/inventory.js";
import { createStore } from "../src/store/create-store.js";
import { InventoryError, importInventoryFile, WORKER_MIN_BYTES } from "../src/store/import-inventory.js";
import { readInWorker } from "../src/store/read-in-worker.js";
import type { Store } from "../src/store/store.js";

/**
 * The import's reader thread (src/store/read-in-worker.ts) on real files and a real SQLite
 * store: the event loop keeps turning while it feeds the importing thread, and its thread is
 * gone when the import ends, however it ends. (Both ways of reading are run through every
 * import case in import-stream.test.ts.)
 */
const ITEMS = 4_000;
const dir = mkdtempSync(join(os.tmpdir(), "import-worker-"));
const file = join(dir, "inventory.json");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => writeInventoryFile(file, ITEMS, "json"));

/** The threads of this process (a worker is one, joined when it has stopped). */
const threads = () => readdirSync("/proc/self/task").length;

async function settledThreads(expected: number): Promise<number> {
  for (let i = 0; i < 100 && threads() !== expected; i++) await new Promise((r) => setTimeout(r, 20));
  return threads();
}

describe("an import read on a worker thread", () => {
  let store: Store;
  beforeAll(async () => {
    store = await createStore({ kind: "sqlite", path: join(dir, "inventory.db") });
  });
  afterAll(() => store.close());

  it("is the default from WORKER_MIN_BYTES on, and a small file stays on this thread", () => {
    expect(WORKER_MIN_BYTES).toBe(16 * 2 ** 20);
    expect(statSync(file).size).toBeLessThan(WORKER_MIN_BYTES);
  });

  it("leaves the event loop turning: timers fire between batches", async () => {
    let ticks = 0;
    let first: number | undefined;
    let last = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await importInventoryFile(store, file, {
        worker: true,
        onProgress: (p) => {
          if (p.phase !== "reading") return;
          first ??= ticks;
          last = ticks;
          // A slow store: the worker is always ahead, a batch always waiting on the port.
          const until = performance.now() + 4;
          while (performance.now() < until);
        },
      });
    } finally {
      clearInterval(timer);
    }
    // 5,200 records in batches of 250 at 4 ms each: ~20 turns of the loop from the first batch
    // to the last. A port delivers its waiting messages in one go (up to 1,000), so without a
    // turn per batch no timer fires in between (by hand, 1M items: none for 30 s).
    expect(last - first!).toBeGreaterThanOrEqual(10);
  });

  it("its thread is gone after a successful import", async () => {
    const before = threads();
    await importInventoryFile(store, file, { worker: true });
    expect(await settledThreads(before)).toBe(before);
  });

  it("a bad record: InventoryError with its path, and the thread is gone", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ servers: [{ id: "nope" }] }));
    const before = threads();
    const error = await importInventoryFile(store, bad, { worker: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InventoryError);
    expect((error as InventoryError).path).toBe("servers[0].id");
    expect(await settledThreads(before)).toBe(before);
  });

  it("a consumer that stops early stops the worker (break), with batches still unread", async () => {
    const before = threads();
    let batches = 0;
    for await (const batch of readInWorker(file)) {
      expect(batch.records.length).toBeGreaterThan(0);
      if (++batches === 2) break;
    }
    expect(await settledThreads(before)).toBe(before);
  });

  it("a file the worker cannot read: InventoryError naming the file", async () => {
    const missing = join(dir, "missing.json");
    const batches = readInWorker(missing);
    const error = await batches.next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InventoryError);
    expect((error as InventoryError).path).toBe("(file)");
    expect((error as InventoryError).message).toContain("ENOENT");
  });
});
