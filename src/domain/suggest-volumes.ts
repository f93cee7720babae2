import type { CheckpointItem, Volume, VolumeBackup } from "./types.js";

/** One volume backup restored onto one target volume. */
export interface VolumeMapping {
  backupId: string;
  volumeId: string;
}

/** Orders strings by their UTF-8 bytes (the same order as their code points). */
export function compareBytewise(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** A volume can take a backup: same kind of disk (system or data) and large enough. */
function fits(backup: VolumeBackup, volume: Volume): boolean {
  return volume.bootable === backup.bootable && volume.size >= backup.sourceVolumeSize;
}

/**
 * A mapping of every volume backup of the item onto a distinct volume of the server that
 * passes rules 13-18 with every system-disk backup on a bootable volume, or an empty list
 * when none exists (docs/contract.md §8, "The suggested mapping"):
 * 1. eligible volumes are the attached, non-shareable ones of the backup's kind and size;
 * 2. in place first: in the item's backup order, a backup whose source volume is eligible
 *    and still free takes it;
 * 3. then the remaining backups, by ascending size (ties: the item's order), each take the
 *    smallest eligible free volume (ties: volume id, bytewise);
 * 4. if a backup is left without a volume, step 3 alone from scratch; if one is still left
 *    without a volume, none exists;
 * 5. listed in the item's backup order.
 * Step 3 alone is an optimal threshold matching within each kind, so an empty list means
 * that no such mapping exists. The result does not depend on the order of `serverVolumes`.
 */
export function suggestVolumes(item: CheckpointItem, serverVolumes: ReadonlyArray<Volume>): VolumeMapping[] {
  const backups = item.volumeBackups;
  if (backups.length === 0) return [];
  // Smallest first, ties by id: the first fitting free volume of this list is the one step 3 takes.
  const eligible = serverVolumes
    .filter((v) => !v.shareable)
    .sort((a, b) => a.size - b.size || compareBytewise(a.id, b.id));
  const bySize = backups
    .map((_, i) => i)
    .sort((i, j) => backups[i]!.sourceVolumeSize - backups[j]!.sourceVolumeSize || i - j);

  const assign = (inPlace: boolean): Volume[] | undefined => {
    const taken = new Set<string>();
    const assigned: Array<Volume | undefined> = new Array(backups.length);
    if (inPlace) {
      const byId = new Map(eligible.map((v) => [v.id, v]));
      backups.forEach((backup, i) => {
        const volume = byId.get(backup.sourceVolumeId);
        if (volume !== undefined && !taken.has(volume.id) && fits(backup, volume)) {
          assigned[i] = volume;
          taken.add(volume.id);
        }
      });
    }
    for (const i of bySize) {
      if (assigned[i] !== undefined) continue;
      const backup = backups[i]!;
      const volume = eligible.find((v) => !taken.has(v.id) && fits(backup, v));
      if (volume === undefined) return undefined;
      assigned[i] = volume;
      taken.add(volume.id);
    }
    return assigned as Volume[];
  };

  const assigned = assign(true) ?? assign(false);
  return assigned === undefined ? [] : backups.map((b, i) => ({ backupId: b.id, volumeId: assigned[i]!.id }));
}
