import { Worker } from "node:worker_threads";
import { InventoryError } from "./inventory-error.js";
import { type InventoryFormat, type PackedBatch, type RawBatch, unpackBatch } from "./read-inventory-file.js";

/** What inventory-reader-worker posts. */
export type ReaderMessage =
  | { kind: "batch"; batch: RawBatch | PackedBatch }
  | { kind: "done" }
  | { kind: "error"; path?: string; message: string; stack?: string };

/**
 * The worker's entry beside this module: compiled (`.js`, also in the dist/server.mjs bundle,
 * which has it as a second entry) or, under tsx and vitest, the TypeScript source, which a
 * worker can only load through tsx's loader.
 */
function startWorker(workerData: { file: string; format?: InventoryFormat }): Worker {
  const source = import.meta.url.endsWith(".ts");
  const entry = new URL(`./inventory-reader-worker.${source ? "ts" : "js"}`, import.meta.url);
  if (!source) return new Worker(entry, { workerData });
  const boot = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * readRawBatches on a worker thread: the file is read and tokenized there while this thread
 * parses (unpackBatch), validates and stages the previous batches, so an import of a large
 * file uses two cores. Same batches, same errors (an InventoryError naming the file or where
 * in it). Each batch is acknowledged when the consumer asks for the next one; the worker
 * stops when the consumer does (break, throw) and never outlives the iteration.
 */
export async function* readInWorker(file: string, format?: InventoryFormat): AsyncGenerator<RawBatch> {
  const worker = startWorker({ file, ...(format ? { format } : {}) });
  const queue: ReaderMessage[] = [];
  let wake: (() => void) | undefined;
  const push = (message: ReaderMessage) => {
    queue.push(message);
    wake?.();
    wake = undefined;
  };
  worker.on("message", push);
  worker.on("error", (error) =>
    push({ kind: "error", message: error.message, ...(error.stack ? { stack: error.stack } : {}) }),
  );
  worker.on("exit", (code) => push({ kind: "error", message: `the inventory reader stopped (exit code ${code})` }));
  try {
    for (;;) {
      // One batch per turn of the event loop: a port's messages are delivered in a loop (up to
      // 1,000 at a time) and the consumer's work would run inside it, starving timers (progress
      // lines, the sampling of RSS) for the whole import.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const message = queue.shift()!;
      switch (message.kind) {
        case "batch":
          yield* unpackBatch(message.batch);
          worker.postMessage(0);
          break;
        case "done":
          return;
        case "error": {
          if (message.path !== undefined) throw new InventoryError(message.path, message.message);
          const error = new Error(message.message);
          if (message.stack) error.stack = message.stack;
          throw error;
        }
      }
    }
  } finally {
    await worker.terminate();
  }
}
