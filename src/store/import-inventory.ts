import { readFile } from "node:fs/promises";
import { parseInventory } from "../domain/inventory-schema.js";
import type { InventoryCounts, Store } from "./store.js";

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

/** Validates an inventory document and writes all of it in one transaction, or nothing. */
export async function importInventory(store: Store, json: unknown): Promise<InventoryCounts> {
  const parsed = parseInventory(json);
  if (!parsed.ok) throw new InventoryError(parsed.path, parsed.message);
  return store.write(parsed.inventory);
}

/** Reads an inventory file (SPEC section 5 format) and imports it. */
export async function importInventoryFile(store: Store, file: string): Promise<InventoryCounts> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new InventoryError("(file)", `${file}: ${(error as Error).message}`);
  }
  return importInventory(store, json);
}
