/**
 * The worker thread of readInventoryInWorker: reads and parses an inventory file with
 * readInventoryFile and posts its batches of raw records to the main thread, at most
 * `ahead` batches before the main thread has taken them (so memory stays bounded by a few
 * batches). Every message is one of ReaderMessage.
 */
import { parentPort, workerData } from "node:worker_threads";
import { InventoryError } from "./inventory-error.js";
import { type InventoryFormat, type RawRecord, readInventoryFile } from "./read-inventory-file.js";

export interface ReaderData {
  file: string;
  format: InventoryFormat;
  batchSize: number;
  ahead: number;
}

export type ReaderMessage =
  | { kind: "batch"; records: RawRecord[]; bytes: number }
  | { kind: "done"; bytes: number }
  | { kind: "error"; path: string | undefined; message: string };

const port = parentPort;
if (port === null) throw new Error("read-inventory-worker: run as a worker thread");
const { file, format, batchSize, ahead } = workerData as ReaderData;
const post = (message: ReaderMessage) => port.postMessage(message);

// Credits: one per batch the main thread may still receive without asking.
let credits = ahead;
let wake: (() => void) | undefined;
port.on("message", () => {
  credits++;
  wake?.();
});

const position = { bytes: 0 };
try {
  for await (const records of readInventoryFile(file, format, position, batchSize)) {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    credits--;
    post({ kind: "batch", records, bytes: position.bytes });
  }
  post({ kind: "done", bytes: position.bytes });
} catch (error) {
  post({
    kind: "error",
    path: error instanceof InventoryError ? error.path : undefined,
    message: error instanceof Error ? error.message : String(error),
  });
}
port.close();
