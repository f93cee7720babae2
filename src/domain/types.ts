/** The resource types CSBS can protect and restore. */
export const SERVER_TYPES: ReadonlySet<string> = new Set(["OS::Nova::Server", "OS::Ironic::BareMetalServer"]);

export interface VolumeBackup {
  id: string;
  sourceVolumeId: string;
  /** GB */
  sourceVolumeSize: number;
  bootable: boolean;
  status: string;
}

export interface CheckpointItem {
  id: string;
  projectId: string;
  providerId: string;
  checkpointId: string;
  /** The source server. */
  resourceId: string;
  resourceType: string;
  status: string;
  resourceAz: string;
  supportedRestoreMode: string;
  volumeBackups: VolumeBackup[];
}

export interface Server {
  id: string;
  projectId: string;
  type: string;
  status: string;
  availabilityZone: string;
  restoreSupported: boolean;
  backupSupported: boolean;
  /** The restore lock. */
  restoring: boolean;
  policyId: string | null;
}

export interface Volume {
  id: string;
  projectId: string;
  /** The server the volume is attached to, or null when detached. */
  serverId: string | null;
  /** GB */
  size: number;
  /** True for the system disk. */
  bootable: boolean;
  shareable: boolean;
  status: string;
}

/** The inventory: what the service knows of backups, servers and volumes. */
export interface Inventory {
  checkpointItems: CheckpointItem[];
  servers: Server[];
  volumes: Volume[];
}
