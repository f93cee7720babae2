import { readFile } from "node:fs/promises";
import { parseInventory } from "../domain/inventory-schema.js";
import { isUuid } from "../domain/request-validation.js";
import type { Inventory } from "../domain/types.js";
import type { InventoryCounts, InventoryDeletes, Store } from "./store.js";

/** An inventory that was rejected whole: the path of the first bad record and why. */
export class InventoryError extends Error {
  override name = "InventoryError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

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

/** Reads an inventory file (docs/contract.md §9 format) and imports it. */
export async function importInventoryFile(store: Store, file: string): Promise<InventoryCounts> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new InventoryError("(file)", `${file}: ${(error as Error).message}`);
  }
  return importInventory(store, json);
}
