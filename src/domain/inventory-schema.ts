import { z } from "zod";
import { type Camelized, camelCase } from "./camelize.js";
import { PROJECT_ID, UUID } from "./id-patterns.js";
import type { CheckpointItem, Inventory, Server, Volume } from "./types.js";

/** A UUID in either case, stored in lower case (the form every lookup uses). */
const uuid = z
  .string()
  .regex(UUID, "must be a UUID")
  .transform((id) => id.toLowerCase());
const projectId = z.string().regex(PROJECT_ID, "must be 1-64 characters of [A-Za-z0-9-]");
/** Any C0/C1 control character (NUL included: PostgreSQL cannot store it in text). */
const CONTROL_CHARACTER = /\p{Cc}/u;
const text = z
  .string()
  .min(1, "must not be empty")
  .max(255, "must be at most 255 characters")
  .refine((s) => !CONTROL_CHARACTER.test(s), "must not contain control characters");
const gigabytes = z.number().int("must be a whole number of GB").min(0, "must not be negative").max(1_000_000);

/*
 * The one definition of the inventory's records: the file format (docs/contract.md §9,
 * snake_case) and, camelized, the domain types (types.ts). The stores' rows have the same
 * columns (src/store/rows.ts derives them from these shapes); only the SQL is per database.
 */

export const volumeBackupSchema = z.strictObject({
  id: uuid,
  source_volume_id: uuid,
  source_volume_size: gigabytes,
  bootable: z.boolean(),
  status: text,
});

export const checkpointItemSchema = z.strictObject({
  id: uuid,
  project_id: projectId,
  provider_id: uuid,
  checkpoint_id: uuid,
  resource_id: uuid,
  resource_type: text,
  status: text,
  resource_az: text,
  supported_restore_mode: text,
  volume_backups: z.array(volumeBackupSchema).max(256),
});

export const serverSchema = z.strictObject({
  id: uuid,
  project_id: projectId,
  type: text,
  status: text,
  availability_zone: text,
  restore_supported: z.boolean().default(true),
  backup_supported: z.boolean().default(true),
  restoring: z.boolean().default(false),
  policy_id: text.nullable().default(null),
});

export const volumeSchema = z.strictObject({
  id: uuid,
  project_id: projectId,
  server_id: uuid.nullable(),
  size: gigabytes,
  bootable: z.boolean(),
  shareable: z.boolean(),
  status: text,
});

const inventory = z.strictObject({
  checkpoint_items: z.array(checkpointItemSchema).default([]),
  servers: z.array(serverSchema).default([]),
  volumes: z.array(volumeSchema).default([]),
});

/** Inventory records as they appear in the JSON inventory file (snake_case). */
export type InventoryJson = z.input<typeof inventory>;

export type InventoryParse = { ok: true; inventory: Inventory } | { ok: false; path: string; message: string };

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    "",
  );
}

function duplicate<T extends { id: string }>(records: ReadonlyArray<T>, field: string): string | undefined {
  return firstDuplicateAt(records.map((r, i) => ({ id: r.id, at: `${field}[${i}].id` })));
}

/**
 * Parses an inventory document (the docs/contract.md §9 format). A bad record is reported with
 * its path, e.g. `servers[3].status: must not be empty`.
 */
export function parseInventory(json: unknown): InventoryParse {
  const parsed = inventory.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = pathOf(issue.path) || "(root)";
    return { ok: false, path, message: `${path}: ${issue.message}` };
  }
  const doc = parsed.data;
  const checkpointItems = doc.checkpoint_items.map(camelize);
  const servers = doc.servers.map(camelize);
  const volumes = doc.volumes.map(camelize);
  const backupIds = checkpointItems.flatMap((c, i) =>
    c.volumeBackups.map((b, j) => ({ id: b.id, at: `checkpoint_items[${i}].volume_backups[${j}].id` })),
  );
  const dup =
    duplicate(checkpointItems, "checkpoint_items") ??
    duplicate(servers, "servers") ??
    duplicate(volumes, "volumes") ??
    firstDuplicateAt(backupIds);
  if (dup) return { ok: false, path: dup, message: `${dup}: duplicate id in this inventory` };
  return { ok: true, inventory: { checkpointItems, servers, volumes } };
}

/** A parsed record (and its nested records) with the domain's camelCase keys. */
function camelize<T extends object>(record: T): Camelized<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    out[camelCase(key)] = Array.isArray(value) ? value.map((v) => camelize(v as object)) : value;
  }
  return out as Camelized<T>;
}

function firstDuplicateAt(entries: ReadonlyArray<{ id: string; at: string }>): string | undefined {
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.id)) return e.at;
    seen.add(e.id);
  }
  return undefined;
}

/** The three lists of an inventory document, by their file (snake_case) names. */
export type InventoryListName = "checkpoint_items" | "servers" | "volumes";

const RECORD_SCHEMAS = {
  checkpoint_items: checkpointItemSchema,
  servers: serverSchema,
  volumes: volumeSchema,
} as const;

export interface InventoryRecordOf {
  checkpoint_items: CheckpointItem;
  servers: Server;
  volumes: Volume;
}

export type RecordParse<L extends InventoryListName> =
  | { ok: true; record: InventoryRecordOf[L] }
  | { ok: false; path: string; message: string };

/**
 * Parses one record of an inventory list, as `parseInventory` parses it inside a document
 * (same rules, same messages); `at` is the record's path, e.g. `checkpoint_items[7]`. For
 * streamed imports, which see one record at a time (duplicates are checked by the store).
 */
export function parseInventoryRecord<L extends InventoryListName>(list: L, value: unknown, at: string): RecordParse<L> {
  const parsed = RECORD_SCHEMAS[list].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const inner = pathOf(issue.path);
    const path = inner ? (inner.startsWith("[") ? `${at}${inner}` : `${at}.${inner}`) : at;
    return { ok: false, path, message: `${path}: ${issue.message}` };
  }
  return { ok: true, record: camelize(parsed.data) as unknown as InventoryRecordOf[L] };
}
