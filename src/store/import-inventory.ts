import { stat } from "node:fs/promises";
import { parseInventory } from "../domain/inventory-schema.js";
import { isUuid } from "../domain/request-validation.js";
import type { Inventory } from "../domain/types.js";
import type { BulkImport, DuplicateCandidate } from "./bulk-import.js";
import { InventoryError } from "./inventory-error.js";
import { readInWorker } from "./read-in-worker.js";
import { type InventoryFormat, readRawBatches } from "./read-inventory-file.js";
import type { InventoryCounts, InventoryDeletes, Store } from "./store.js";
import { validateBatches } from "./validate-batches.js";

export { InventoryError };

export interface InventoryValidationOptions {
  /** Every record must belong to this project (the admin API's request project). */
  projectId?: string;
}

/**
 * Validates an inventory document (docs/contract.md §9 format): the one validation path of the
 * file import and the admin API. Throws InventoryError naming the first bad record's path.
 */
function validateInventory(json: unknown, options: InventoryValidationOptions = {}): Inventory {
  const parsed = parseInventory(json);
  if (!parsed.ok) throw new InventoryError(parsed.path, parsed.message);
  const { inventory } = parsed;
  const { projectId } = options;
  if (projectId !== undefined) {
    const records: [string, ReadonlyArray<{ projectId: string }>][] = [
      ["checkpoint_items", inventory.checkpointItems],
      ["servers", inventory.servers],
      ["volumes", inventory.volumes],
    ];
    for (const [field, list] of records) {
      const index = list.findIndex((r) => r.projectId !== projectId);
      if (index >= 0) {
        const path = `${field}[${index}].project_id`;
        throw new InventoryError(path, `${path}: must be the request's project_id (${projectId})`);
      }
    }
  }
  return inventory;
}

/** Validates an inventory document and writes all of it in one transaction, or nothing. */
export async function importInventory(
  store: Store,
  json: unknown,
  options: InventoryValidationOptions = {},
): Promise<InventoryCounts> {
  return store.write(validateInventory(json, options));
}

/** Ids to delete, by their request field names. */
export interface InventoryDeleteRequest {
  projectId: string;
  checkpoint_item_ids: ReadonlyArray<string>;
  server_ids: ReadonlyArray<string>;
  volume_ids: ReadonlyArray<string>;
}

/** Checks that every id to delete is a UUID (naming the first bad one), then deletes in one transaction. */
export async function deleteInventory(store: Store, request: InventoryDeleteRequest): Promise<InventoryCounts> {
  for (const field of ["checkpoint_item_ids", "server_ids", "volume_ids"] as const) {
    const index = request[field].findIndex((id) => !isUuid(id));
    if (index >= 0) throw new InventoryError(`${field}[${index}]`, `${field}[${index}]: must be a UUID`);
  }
  // Ids are stored in lower case; the caller may send either.
  const lower = (ids: ReadonlyArray<string>) => ids.map((id) => id.toLowerCase());
  const deletes: InventoryDeletes = {
    projectId: request.projectId,
    checkpointItemIds: lower(request.checkpoint_item_ids),
    serverIds: lower(request.server_ids),
    volumeIds: lower(request.volume_ids),
  };
  return store.write({ checkpointItems: [], servers: [], volumes: [] }, [deletes]);
}

/** Where a streamed import is. */
export interface ImportProgress {
  /** reading: records are read, validated and staged; checking: duplicate ids; merging: the one transaction. */
  phase: "reading" | "checking" | "merging" | "done";
  /** Records read (checkpoint items, servers, volumes; volume backups are part of their item). */
  read: number;
  /** Records written to the store's staging area (merged into the inventory when phase is done). */
  written: number;
  /** Bytes of the file read so far, and its size. */
  bytes: number;
  totalBytes: number;
  /** merging: the table being written. */
  step?: string;
}

export interface ImportFileOptions {
  /** Default: by the file name (`.ndjson`, `.jsonl`: NDJSON; else a JSON document). */
  format?: InventoryFormat;
  /** Called after every batch of records and at every phase change. */
  onProgress?: (progress: ImportProgress) => void;
  /**
   * Read and tokenize the file on a worker thread while this one parses, validates and stages (readInWorker).
   * Default: for files of WORKER_MIN_BYTES or more; a small file is done before a worker starts.
   */
  worker?: boolean;
}

/**
 * From this size the file is read on a worker thread. A worker costs ~50 ms to start (more
 * than a demo file's whole import: the server's start-up imports INVENTORY_FILE); on the 1M-item
 * file (750 MB) it takes the tokenizer, ~40% of the reading's CPU, off the importing thread.
 */
export const WORKER_MIN_BYTES = 16 * 2 ** 20;

function duplicatePath(d: DuplicateCandidate): string {
  return d.list === "volume_backups"
    ? `checkpoint_items[${d.index}].volume_backups[${d.position}].id`
    : `${d.list}[${d.index}].id`;
}

/**
 * Reads an inventory file (docs/contract.md §9: a JSON document or NDJSON) as a stream and
 * imports it through the store's bulk path: every record validated as it is read and staged,
 * duplicate ids checked, then all of it merged in one transaction. A bad record anywhere
 * throws InventoryError naming its path, and nothing of the file is written. Memory stays
 * bounded by a few batches of records, whatever the file's size.
 */
export async function importInventoryFile(
  store: Store,
  file: string,
  options: ImportFileOptions = {},
): Promise<InventoryCounts> {
  const { onProgress } = options;
  let totalBytes = 0;
  try {
    totalBytes = (await stat(file)).size;
  } catch (error) {
    throw new InventoryError("(file)", `${file}: ${(error as Error).message}`);
  }
  let bytes = 0;
  const at = () => ({ bytes, totalBytes });
  let read = 0;
  let written = 0;
  let bulk: BulkImport | undefined;
  // Repeated ids by fingerprint, first in file order; confirmed against the staged records at
  // the end, list by list in the document's order (as parseInventory reports them).
  const candidates: Record<DuplicateCandidate["list"], DuplicateCandidate[]> = {
    checkpoint_items: [],
    servers: [],
    volumes: [],
    volume_backups: [],
  };
  const worker = options.worker ?? totalBytes >= WORKER_MIN_BYTES;
  const batches = validateBatches((worker ? readInWorker : readRawBatches)(file, options.format));
  try {
    for await (const batch of batches) {
      for (const candidate of batch.candidates) candidates[candidate.list].push(candidate);
      read += batch.read;
      bytes = batch.bytes;
      bulk ??= await store.openBulkImport();
      await bulk.stage(batch.records);
      written += batch.read;
      onProgress?.({ phase: "reading", read, written, ...at() });
    }
    bulk ??= await store.openBulkImport();
    onProgress?.({ phase: "checking", read, written, ...at() });
    await bulk.endStaging();
    for (const list of Object.values(candidates)) {
      for (const candidate of list) {
        if (await bulk.hasEarlier(candidate)) {
          const path = duplicatePath(candidate);
          throw new InventoryError(path, `${path}: duplicate id in this inventory`);
        }
      }
    }
    const counts = await bulk.commit((step) => onProgress?.({ phase: "merging", read, written, step, ...at() }));
    onProgress?.({ phase: "done", read, written, ...at() });
    return counts;
  } catch (error) {
    await bulk?.abort().catch(() => {});
    throw error;
  } finally {
    await batches.return(undefined);
  }
}
