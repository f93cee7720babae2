import { Worker } from "node:worker_threads";
import { InventoryError } from "./inventory-error.js";
import { formatOf, type InventoryFormat, type RawRecord } from "./read-inventory-file.js";
import type { ReaderData, ReaderMessage } from "./read-inventory-worker.js";

/** Batches the reader may post before the importer has taken them: reading stays this far ahead. */
const AHEAD = 4;

/**
 * The reader thread: its compiled module beside this one (`dist/src/store/`, or
 * `dist/read-inventory-worker.js` beside the bundle, which npm run build makes too); when this
 * module itself runs from source (tsx, vitest), the TypeScript module, loaded through tsx's
 * loader registered in the thread first.
 */
function startReader(workerData: ReaderData): Worker {
  if (!import.meta.url.endsWith(".ts"))
    return new Worker(new URL("./read-inventory-worker.js", import.meta.url), { workerData });
  const source = new URL("./read-inventory-worker.ts", import.meta.url).href;
  // tsx found from this module, not from the working directory (an eval'd thread's base).
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * readInventoryFile in a worker thread: the file is read, decoded and parsed there (stream-json's
 * tokenizer is the slowest part of a JSON document's import) while this thread validates and
 * stages the previous batches, so the two run on two cores. Same batches, same errors
 * (InventoryError with the path), memory bounded by a few batches; `position.bytes` follows
 * the reader. Stopping early (return, throw) stops the worker.
 */
export async function* readInventoryInWorker(
  file: string,
  format: InventoryFormat = formatOf(file),
  position: { bytes: number } = { bytes: 0 },
  batchSize = 1000,
): AsyncGenerator<RawRecord[]> {
  const worker = startReader({ file, format, batchSize, ahead: AHEAD });
  const queue: ReaderMessage[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  worker.on("message", (message: ReaderMessage) => {
    queue.push(message);
    wake?.();
  });
  worker.on("error", (error) => {
    failure = error;
    wake?.();
  });
  worker.on("exit", (code) => {
    failure ??= new Error(`the inventory reader stopped (exit code ${code})`);
    wake?.();
  });
  try {
    for (;;) {
      while (queue.length === 0) {
        if (failure) throw new InventoryError("(file)", `${file}: ${failure.message}`);
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      const message = queue.shift()!;
      if (message.kind === "error") throw new InventoryError(message.path ?? "(file)", message.message);
      position.bytes = message.bytes;
      if (message.kind === "done") return;
      worker.postMessage(1);
      yield message.records;
    }
  } finally {
    worker.removeAllListeners("exit");
    await worker.terminate();
  }
}
