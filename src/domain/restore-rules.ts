import type { CheckpointItem, Server, Volume } from "./types.js";
import { SERVER_TYPES } from "./types.js";
import { fail, PASS, type Verdict } from "./verdict.js";

/** One entry of a restorability check, as plain data. */
export interface RestoreEntry {
  checkpointItemId: string;
  target: {
    resourceId: string;
    resourceType: string;
    volumes: ReadonlyArray<{ backupId: string; volumeId: string }>;
  };
}

/** What the store knows of the entry's objects, already scoped to the caller's project. */
export interface RestoreFacts {
  /** The checkpoint item, when it exists in this project and provider. */
  item: CheckpointItem | undefined;
  /** The target server, when it exists in this project. */
  server: Server | undefined;
  /** The volumes attached to the target server. */
  serverVolumes: ReadonlyArray<Volume>;
}

const BUSY_ITEM_STATUSES: ReadonlySet<string> = new Set([
  "waiting_protect",
  "protecting",
  "waiting_restore",
  "restoring",
  "waiting_delete",
  "deleting",
]);
const TERMINATED_SERVER_STATUSES: ReadonlySet<string> = new Set(["DELETED", "SOFT_DELETED"]);
const UNSTABLE_SERVER_STATUSES: ReadonlySet<string> = new Set(["ERROR", "RESIZE", "VERIFY_RESIZE"]);

/**
 * The 18 restorability rules of the CSBS API, in order; the first failure decides.
 */
export function checkRestorable(entry: RestoreEntry, facts: RestoreFacts): Verdict {
  const { target } = entry;
  const { item, server, serverVolumes } = facts;

  // 1-3: the checkpoint item
  if (item === undefined) return fail("CSBS.3001", "Checkpoint_item (%s) is not found.", entry.checkpointItemId);
  if (BUSY_ITEM_STATUSES.has(item.status)) return fail("CSBS.2003", "item in executing");
  if (item.status !== "available" || item.supportedRestoreMode === "na") {
    return fail("CSBS.4000", "checkpoint item not available");
  }

  // 4-9: the target server
  if (!SERVER_TYPES.has(target.resourceType)) {
    return fail(
      "CSBS.6013",
      "Resource (%s) type (%s) is not support restoration.",
      target.resourceId,
      target.resourceType,
    );
  }
  if (server === undefined) return fail("CSBS.6000", "server do not exist");
  if (server.type !== target.resourceType) return fail("CSBS.6016", "can not restore server type is not allow");
  if (TERMINATED_SERVER_STATUSES.has(server.status)) return fail("CSBS.6001", "The server has stopped.");
  if (UNSTABLE_SERVER_STATUSES.has(server.status) || server.restoring) {
    return fail("CSBS.6015", "The server is restoring.");
  }
  if (!server.restoreSupported) return fail("CSBS.6061", "volume of server in this pod does not support backup");

  // 10-11: source and target agree
  if (item.resourceType !== server.type) {
    return fail(
      "CSBS.6019",
      "The source server (%s) type (%s) is not the same as the target server (%s) type (%s).",
      item.resourceId,
      item.resourceType,
      server.id,
      server.type,
    );
  }
  if (item.resourceAz !== server.availabilityZone) {
    return fail(
      "CSBS.6025",
      "The AZ of local checkpoint item (%s) is not support to restore the resource (%s).",
      item.id,
      server.id,
    );
  }

  // 12-18: the disk mapping
  if (serverVolumes.length === 0) {
    return fail("CSBS.6020", "No volume attached to the server (%s) for restore.", server.id);
  }
  const backups = new Map(item.volumeBackups.map((b) => [b.id, b]));
  const volumes = new Map(serverVolumes.map((v) => [v.id, v]));

  const unknownBackups = target.volumes.filter((m) => !backups.has(m.backupId)).map((m) => m.backupId);
  if (unknownBackups.length > 0) {
    return fail("CSBS.6017", "Can not find backup(s) (%s) in checkpoint item (%s).", unknownBackups.join(","), item.id);
  }
  const unknownVolumes = target.volumes.filter((m) => !volumes.has(m.volumeId)).map((m) => m.volumeId);
  if (unknownVolumes.length > 0) {
    return fail("CSBS.6014", "Volume(s) (%s) not found in target server.", unknownVolumes.join(","));
  }
  const mapped = new Set(target.volumes.map((m) => m.backupId));
  const unassigned = item.volumeBackups.filter((b) => !mapped.has(b.id)).map((b) => b.id);
  if (unassigned.length > 0) {
    return fail(
      "CSBS.6018",
      "Not assign backup(s) (%s) to volume(s), partial restore is not supported.",
      unassigned.join(","),
    );
  }

  // Every mapping now names a known backup and an attached volume.
  const pairs = target.volumes.map((m) => ({ backup: backups.get(m.backupId)!, volume: volumes.get(m.volumeId)! }));
  const shared = pairs.find((p) => p.volume.shareable);
  if (shared) {
    return fail("CSBS.6021", "Volume (%s) attached to server (%s) is shareable volume.", shared.volume.id, server.id);
  }
  if (pairs.some((p) => !p.backup.bootable && p.volume.bootable)) {
    return fail("CSBS.6023", "Can not restore data volume to system volume. server id is (%s).", server.id);
  }
  const small = pairs.find((p) => p.volume.size < p.backup.sourceVolumeSize);
  if (small) {
    return fail(
      "CSBS.6024",
      "Target volume (%s) size (%s) small than volume backup (%s) size (%s).",
      small.volume.id,
      small.volume.size,
      small.backup.id,
      small.backup.sourceVolumeSize,
    );
  }
  return PASS;
}
