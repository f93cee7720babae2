import { suggestVolumes, type VolumeMapping } from "./suggest-volumes.js";
import type { CheckpointItem, Server, Volume, VolumeBackup } from "./types.js";
import { SERVER_TYPES } from "./types.js";
import { type RuleFailure, type RuleMode, ruleFailure, type Verdict, verdictOf } from "./verdict.js";

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

/** The element of `list` with this id (lists here are a few dozen long at most). */
function byId<T extends { id: string }>(list: ReadonlyArray<T>, id: string): T | undefined {
  for (const x of list) if (x.id === id) return x;
  return undefined;
}

/** `list` with `value` added; a list is made only for the first value (most checks find none). */
function append(list: string[] | undefined, value: string): string[] {
  if (list === undefined) return [value];
  list.push(value);
  return list;
}

/** Some mapping restores the backup `backupId`. */
function mapsBackup(mappings: ReadonlyArray<{ backupId: string }>, backupId: string): boolean {
  for (const m of mappings) if (m.backupId === backupId) return true;
  return false;
}

/**
 * The 18 restorability rules of the CSBS API (docs/contract.md §5), in rule order.
 *
 * `first` (the default answer) returns at the first failure, so it does no more work than
 * the verdict needs. `all` (explain, docs/contract.md §8) returns every failing rule: a rule runs
 * only when the objects it reads exist (rule 4 always; 2, 3, 13, 15 need the item; 6-9, 12,
 * 14 the server; 10, 11, 16-18 both), and rules 16-18 consider only the mappings whose
 * backup is a volume backup of the item and whose volume is attached to the server. In both
 * modes the first element is the same failure.
 */
export function restoreFailures(entry: RestoreEntry, facts: RestoreFacts, mode: RuleMode): RuleFailure[] {
  const { target } = entry;
  const { item, server, serverVolumes } = facts;
  const first = mode === "first";
  const out: RuleFailure[] = [];

  // 1-3: the checkpoint item
  if (item === undefined) {
    out.push(ruleFailure(1, "CSBS.3001", "Checkpoint_item (%s) is not found.", entry.checkpointItemId));
    if (first) return out;
  } else {
    if (BUSY_ITEM_STATUSES.has(item.status)) {
      out.push(ruleFailure(2, "CSBS.2003", "item in executing"));
      if (first) return out;
    }
    if (item.status !== "available" || item.supportedRestoreMode === "na") {
      out.push(ruleFailure(3, "CSBS.4000", "checkpoint item not available"));
      if (first) return out;
    }
  }

  // 4-9: the target server
  if (!SERVER_TYPES.has(target.resourceType)) {
    out.push(
      ruleFailure(
        4,
        "CSBS.6013",
        "Resource (%s) type (%s) is not support restoration.",
        target.resourceId,
        target.resourceType,
      ),
    );
    if (first) return out;
  }
  if (server === undefined) {
    out.push(ruleFailure(5, "CSBS.6000", "server do not exist"));
    if (first) return out;
  } else {
    if (server.type !== target.resourceType) {
      out.push(ruleFailure(6, "CSBS.6016", "can not restore server type is not allow"));
      if (first) return out;
    }
    if (TERMINATED_SERVER_STATUSES.has(server.status)) {
      out.push(ruleFailure(7, "CSBS.6001", "The server has stopped."));
      if (first) return out;
    }
    if (UNSTABLE_SERVER_STATUSES.has(server.status) || server.restoring) {
      out.push(ruleFailure(8, "CSBS.6015", "The server is restoring."));
      if (first) return out;
    }
    if (!server.restoreSupported) {
      out.push(ruleFailure(9, "CSBS.6061", "volume of server in this pod does not support backup"));
      if (first) return out;
    }
  }

  // 10-11: source and target agree
  if (item !== undefined && server !== undefined) {
    if (item.resourceType !== server.type) {
      out.push(
        ruleFailure(
          10,
          "CSBS.6019",
          "The source server (%s) type (%s) is not the same as the target server (%s) type (%s).",
          item.resourceId,
          item.resourceType,
          server.id,
          server.type,
        ),
      );
      if (first) return out;
    }
    if (item.resourceAz !== server.availabilityZone) {
      out.push(
        ruleFailure(
          11,
          "CSBS.6025",
          "The AZ of local checkpoint item (%s) is not support to restore the resource (%s).",
          item.id,
          server.id,
        ),
      );
      if (first) return out;
    }
  }

  // 12-18: the disk mapping. Plain loops and linear lookups: a target maps at most a few
  // dozen volumes (MAX_VOLUMES), and the default answer must not pay for maps and closures.
  const mappings = target.volumes;
  if (server !== undefined && serverVolumes.length === 0) {
    out.push(ruleFailure(12, "CSBS.6020", "No volume attached to the server (%s) for restore.", server.id));
    if (first) return out;
  }
  if (item !== undefined) {
    let unknownBackups: string[] | undefined;
    for (const m of mappings) {
      if (byId(item.volumeBackups, m.backupId) === undefined) unknownBackups = append(unknownBackups, m.backupId);
    }
    if (unknownBackups !== undefined) {
      out.push(
        ruleFailure(
          13,
          "CSBS.6017",
          "Can not find backup(s) (%s) in checkpoint item (%s).",
          unknownBackups.join(","),
          item.id,
        ),
      );
      if (first) return out;
    }
  }
  if (server !== undefined) {
    let unknownVolumes: string[] | undefined;
    for (const m of mappings) {
      if (byId(serverVolumes, m.volumeId) === undefined) unknownVolumes = append(unknownVolumes, m.volumeId);
    }
    if (unknownVolumes !== undefined) {
      out.push(ruleFailure(14, "CSBS.6014", "Volume(s) (%s) not found in target server.", unknownVolumes.join(",")));
      if (first) return out;
    }
  }
  if (item !== undefined) {
    let unassigned: string[] | undefined;
    for (const b of item.volumeBackups) {
      if (!mapsBackup(mappings, b.id)) unassigned = append(unassigned, b.id);
    }
    if (unassigned !== undefined) {
      out.push(
        ruleFailure(
          15,
          "CSBS.6018",
          "Not assign backup(s) (%s) to volume(s), partial restore is not supported.",
          unassigned.join(","),
        ),
      );
      if (first) return out;
    }
  }
  if (item === undefined || server === undefined) return out;

  // 16-18: the mappings of a known backup onto an attached volume, in request order (in
  // `first` mode, rules 13 and 14 passed: that is every mapping). One pass finds the first
  // shareable volume (16), any data backup on a system disk (17), the first too small (18).
  let shared: Volume | undefined;
  let dataOnSystem = false;
  let smallBackup: VolumeBackup | undefined;
  let smallVolume: Volume | undefined;
  for (const m of mappings) {
    const backup = byId(item.volumeBackups, m.backupId);
    const volume = byId(serverVolumes, m.volumeId);
    if (backup === undefined || volume === undefined) continue;
    if (shared === undefined && volume.shareable) shared = volume;
    if (!backup.bootable && volume.bootable) dataOnSystem = true;
    if (smallVolume === undefined && volume.size < backup.sourceVolumeSize) {
      smallBackup = backup;
      smallVolume = volume;
    }
  }
  if (shared !== undefined) {
    out.push(
      ruleFailure(16, "CSBS.6021", "Volume (%s) attached to server (%s) is shareable volume.", shared.id, server.id),
    );
    if (first) return out;
  }
  if (dataOnSystem) {
    out.push(
      ruleFailure(17, "CSBS.6023", "Can not restore data volume to system volume. server id is (%s).", server.id),
    );
    if (first) return out;
  }
  if (smallVolume !== undefined && smallBackup !== undefined) {
    out.push(
      ruleFailure(
        18,
        "CSBS.6024",
        "Target volume (%s) size (%s) small than volume backup (%s) size (%s).",
        smallVolume.id,
        smallVolume.size,
        smallBackup.id,
        smallBackup.sourceVolumeSize,
      ),
    );
  }
  return out;
}

/** The 18 restorability rules; the first failure decides. */
export function checkRestorable(entry: RestoreEntry, facts: RestoreFacts): Verdict {
  return verdictOf(restoreFailures(entry, facts, "first"));
}

/** The explain answer of one entry (docs/contract.md §8). */
export interface RestoreExplanation {
  /** Every failing rule, in rule order; empty exactly when the entry passes. */
  failures: RuleFailure[];
  /** A mapping of every backup of the item that passes rules 13-18, or empty. */
  suggestedVolumes: VolumeMapping[];
}

const isMappingRule = (f: RuleFailure) => f.rule >= 13 && f.rule <= 18;

/**
 * Every failing rule of the entry, and a suggested disk mapping when the item and the server
 * both exist and the entry's own mapping fails one of rules 13-18 (docs/contract.md §8).
 */
export function explainRestorable(entry: RestoreEntry, facts: RestoreFacts): RestoreExplanation {
  const failures = restoreFailures(entry, facts, "all");
  const suggestedVolumes =
    facts.item !== undefined && facts.server !== undefined && failures.some(isMappingRule)
      ? suggestVolumes(facts.item, facts.serverVolumes)
      : [];
  return { failures, suggestedVolumes };
}
