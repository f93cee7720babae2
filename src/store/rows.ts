import type { CheckpointItem, Server, Volume, VolumeBackup } from "../domain/types.js";

/** A boolean column: SQLite answers 0/1, PostgreSQL true/false. */
export type Flag = number | boolean;
const flag = (value: Flag): boolean => value === true || value === 1;

/** The rows both stores read, column for column (the schemas are the same). */
export interface ItemRow {
  project_id: string;
  id: string;
  provider_id: string;
  checkpoint_id: string;
  resource_id: string;
  resource_type: string;
  status: string;
  resource_az: string;
  supported_restore_mode: string;
}
export interface BackupRow {
  checkpoint_item_id: string;
  id: string;
  source_volume_id: string;
  source_volume_size: number;
  bootable: Flag;
  status: string;
}
export interface ServerRow {
  project_id: string;
  id: string;
  type: string;
  status: string;
  availability_zone: string;
  restore_supported: Flag;
  backup_supported: Flag;
  restoring: Flag;
  policy_id: string | null;
}
export interface VolumeRow {
  project_id: string;
  id: string;
  server_id: string | null;
  size: number;
  bootable: Flag;
  shareable: Flag;
  status: string;
}

export function toCheckpointItem(r: ItemRow, volumeBackups: VolumeBackup[]): CheckpointItem {
  return {
    id: r.id,
    projectId: r.project_id,
    providerId: r.provider_id,
    checkpointId: r.checkpoint_id,
    resourceId: r.resource_id,
    resourceType: r.resource_type,
    status: r.status,
    resourceAz: r.resource_az,
    supportedRestoreMode: r.supported_restore_mode,
    volumeBackups,
  };
}

export function toVolumeBackup(r: BackupRow): VolumeBackup {
  return {
    id: r.id,
    sourceVolumeId: r.source_volume_id,
    sourceVolumeSize: r.source_volume_size,
    bootable: flag(r.bootable),
    status: r.status,
  };
}

export function toServer(r: ServerRow): Server {
  return {
    id: r.id,
    projectId: r.project_id,
    type: r.type,
    status: r.status,
    availabilityZone: r.availability_zone,
    restoreSupported: flag(r.restore_supported),
    backupSupported: flag(r.backup_supported),
    restoring: flag(r.restoring),
    policyId: r.policy_id,
  };
}

export function toVolume(r: VolumeRow): Volume {
  return {
    id: r.id,
    projectId: r.project_id,
    serverId: r.server_id,
    size: r.size,
    bootable: flag(r.bootable),
    shareable: flag(r.shareable),
    status: r.status,
  };
}
