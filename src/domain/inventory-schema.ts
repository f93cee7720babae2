import { z } from "zod";
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

const volumeBackup = z.strictObject({
  id: uuid,
  source_volume_id: uuid,
  source_volume_size: gigabytes,
  bootable: z.boolean(),
  status: text,
});

const checkpointItem = z.strictObject({
  id: uuid,
  project_id: projectId,
  provider_id: uuid,
  checkpoint_id: uuid,
  resource_id: uuid,
  resource_type: text,
  status: text,
  resource_az: text,
  supported_restore_mode: text,
  volume_backups: z.array(volumeBackup).max(256),
});

const server = z.strictObject({
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

const volume = z.strictObject({
  id: uuid,
  project_id: projectId,
  server_id: uuid.nullable(),
  size: gigabytes,
  bootable: z.boolean(),
  shareable: z.boolean(),
  status: text,
});

const inventory = z.strictObject({
  checkpoint_items: z.array(checkpointItem).default([]),
  servers: z.array(server).default([]),
  volumes: z.array(volume).default([]),
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
 * Parses an inventory document (the SPEC section 5 format). A bad record is reported with
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
  const checkpointItems: CheckpointItem[] = doc.checkpoint_items.map((c) => ({
    id: c.id,
    projectId: c.project_id,
    providerId: c.provider_id,
    checkpointId: c.checkpoint_id,
    resourceId: c.resource_id,
    resourceType: c.resource_type,
    status: c.status,
    resourceAz: c.resource_az,
    supportedRestoreMode: c.supported_restore_mode,
    volumeBackups: c.volume_backups.map((b) => ({
      id: b.id,
      sourceVolumeId: b.source_volume_id,
      sourceVolumeSize: b.source_volume_size,
      bootable: b.bootable,
      status: b.status,
    })),
  }));
  const servers: Server[] = doc.servers.map((s) => ({
    id: s.id,
    projectId: s.project_id,
    type: s.type,
    status: s.status,
    availabilityZone: s.availability_zone,
    restoreSupported: s.restore_supported,
    backupSupported: s.backup_supported,
    restoring: s.restoring,
    policyId: s.policy_id,
  }));
  const volumes: Volume[] = doc.volumes.map((v) => ({
    id: v.id,
    projectId: v.project_id,
    serverId: v.server_id,
    size: v.size,
    bootable: v.bootable,
    shareable: v.shareable,
    status: v.status,
  }));
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

function firstDuplicateAt(entries: ReadonlyArray<{ id: string; at: string }>): string | undefined {
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.id)) return e.at;
    seen.add(e.id);
  }
  return undefined;
}
