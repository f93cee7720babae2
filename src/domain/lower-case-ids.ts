import type { ProtectEntry } from "./protect-rules.js";
import type { RestoreEntryInput } from "./request-validation.js";

/*
 * UUIDs are case-insensitive (RFC 9562): requests may send either case, the inventory is
 * stored in lower case (the inventory schema lowers every id it accepts). A request's ids
 * are lowered before validation and lookups; its answer echoes the ids as the caller sent them.
 */

/** The entries of a restorability check with every id in lower case (plain data, the input left as it was). */
export function lowerCaseRestoreEntries(entries: ReadonlyArray<RestoreEntryInput>): RestoreEntryInput[] {
  return entries.map(({ checkpointItemId, target }) => ({
    checkpointItemId: checkpointItemId.toLowerCase(),
    ...(target === undefined
      ? {}
      : {
          target: {
            resourceId: target.resourceId.toLowerCase(),
            resourceType: target.resourceType,
            volumes: target.volumes.map((m) => ({
              backupId: m.backupId.toLowerCase(),
              volumeId: m.volumeId.toLowerCase(),
            })),
          },
        }),
  }));
}

/** The entries of a protectability check with every id in lower case. */
export function lowerCaseProtectEntries(entries: ReadonlyArray<ProtectEntry>): ProtectEntry[] {
  return entries.map(({ resourceId, resourceType }) => ({ resourceId: resourceId.toLowerCase(), resourceType }));
}
