import { PROJECT_ID, UUID } from "./id-patterns.js";
import type { ProtectEntry } from "./protect-rules.js";

/** A request that failed validation: the field path and what is wrong with it. */
export type Validation = { ok: true } | { ok: false; field: string; message: string };

export interface RequestLimits {
  /** Entries per request. */
  maxCheckItems: number;
  /** Volume mappings per target. */
  maxVolumes: number;
}

const VALID: Validation = Object.freeze({ ok: true });

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

function invalid(field: string, message: string): Validation {
  return { ok: false, field, message: `${field}: ${message}` };
}

function uuid(field: string, value: string): Validation {
  if (value === "") return invalid(field, "is required");
  return UUID.test(value) ? VALID : invalid(field, "must be a UUID");
}

function list(field: string, length: number, max: number): Validation {
  if (length === 0) return invalid(field, "must not be empty");
  return length > max ? invalid(field, `must have at most ${max} entries`) : VALID;
}

/** The project id of a path or request: 1-64 characters of [A-Za-z0-9-]. */
export function validateProjectId(projectId: string): Validation {
  if (projectId === "") return invalid("project_id", "is required");
  return PROJECT_ID.test(projectId) ? VALID : invalid("project_id", "must be 1-64 characters of [A-Za-z0-9-]");
}

/** The provider id of a path or request: a UUID. */
export function validateProviderId(providerId: string): Validation {
  return uuid("provider_id", providerId);
}

/** A restorability entry as it arrives: the target may be absent. */
export interface RestoreEntryInput {
  checkpointItemId: string;
  target?: {
    resourceId: string;
    resourceType: string;
    volumes: ReadonlyArray<{ backupId: string; volumeId: string }>;
  };
}

export function validateRestoreEntries(entries: ReadonlyArray<RestoreEntryInput>, limits: RequestLimits): Validation {
  const listCheck = list("check_restorable", entries.length, limits.maxCheckItems);
  if (!listCheck.ok) return listCheck;
  for (const [i, entry] of entries.entries()) {
    const at = `check_restorable[${i}]`;
    const id = uuid(`${at}.checkpoint_item_id`, entry.checkpointItemId);
    if (!id.ok) return id;
    const { target } = entry;
    if (target === undefined) return invalid(`${at}.target`, "is required");
    const resource = uuid(`${at}.target.resource_id`, target.resourceId);
    if (!resource.ok) return resource;
    if (target.resourceType === "") return invalid(`${at}.target.resource_type`, "is required");
    const volumes = list(`${at}.target.volumes`, target.volumes.length, limits.maxVolumes);
    if (!volumes.ok) return volumes;
    const backupIds = new Set<string>();
    const volumeIds = new Set<string>();
    for (const [j, mapping] of target.volumes.entries()) {
      const vat = `${at}.target.volumes[${j}]`;
      const backup = uuid(`${vat}.backup_id`, mapping.backupId);
      if (!backup.ok) return backup;
      const volume = uuid(`${vat}.volume_id`, mapping.volumeId);
      if (!volume.ok) return volume;
      if (backupIds.has(mapping.backupId)) return invalid(`${vat}.backup_id`, "duplicate backup_id in this target");
      if (volumeIds.has(mapping.volumeId)) return invalid(`${vat}.volume_id`, "duplicate volume_id in this target");
      backupIds.add(mapping.backupId);
      volumeIds.add(mapping.volumeId);
    }
  }
  return VALID;
}

export function validateProtectEntries(entries: ReadonlyArray<ProtectEntry>, limits: RequestLimits): Validation {
  const listCheck = list("check_protectable", entries.length, limits.maxCheckItems);
  if (!listCheck.ok) return listCheck;
  for (const [i, entry] of entries.entries()) {
    const id = uuid(`check_protectable[${i}].resource_id`, entry.resourceId);
    if (!id.ok) return id;
    if (entry.resourceType === "") return invalid(`check_protectable[${i}].resource_type`, "is required");
  }
  return VALID;
}
