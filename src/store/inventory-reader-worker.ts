/**
 * The worker thread of readInWorker: reads one inventory file (readInventoryBatches: a JSON
 * document tokenized and cut into packed batches of its records' bytes, transferred, not
 * copied; NDJSON lines parsed) and posts its batches to the importing thread, at most
 * IN_FLIGHT of them not yet taken, so memory stays bounded when the importing thread is the
 * slower side.
 * Messages: { kind: "batch", batch } …, then { kind: "done" } or { kind: "error", … }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { InventoryError } from "./inventory-error.js";
import type { ReaderMessage } from "./read-in-worker.js";
import { type InventoryFormat, readInventoryBatches } from "./read-inventory-file.js";

/** Batches posted and not yet taken (each at most 250 records, a JSON one at most 96 KiB: readInventoryBatches'). */
const IN_FLIGHT = 4;

const port = parentPort!;
const { file, format } = workerData as { file: string; format?: InventoryFormat };
let credit = IN_FLIGHT;
let wake: (() => void) | undefined;
port.on("message", () => {
  credit++;
  wake?.();
  wake = undefined;
});
const post = (message: ReaderMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

try {
  for await (const batch of readInventoryBatches(file, format)) {
    while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
    credit--;
    // A packed batch's buffer is handed over, not copied.
    post({ kind: "batch", batch }, "text" in batch ? [batch.text.buffer] : []);
  }
  post({ kind: "done" });
} catch (error) {
  const { message, stack } = error as Error;
  post(
    error instanceof InventoryError
      ? { kind: "error", path: error.path, message }
      : { kind: "error", message: String(message ?? error), stack },
  );
}
port.close();
