import type { z } from "zod";
import type { Camelized } from "./camelize.js";
import type { checkpointItemSchema, serverSchema, volumeBackupSchema, volumeSchema } from "./inventory-schema.js";

/** The resource types CSBS can protect and restore. */
export const SERVER_TYPES: ReadonlySet<string> = new Set(["OS::Nova::Server", "OS::Ironic::BareMetalServer"]);

/*
 * The domain's records are the inventory file's records (inventory-schema.ts, the one
 * definition of every field) with camelCase keys.
 */

/** A backup of one disk of the source server; `sourceVolumeSize` in GB, `bootable` for the system disk. */
export type VolumeBackup = Camelized<z.output<typeof volumeBackupSchema>>;

/** A checkpoint item: the backup of one server (`resourceId`) with its volume backups. */
export type CheckpointItem = Camelized<z.output<typeof checkpointItemSchema>>;

/** A server; `restoring` is the restore lock, `policyId` the backup policy it is bound to (or null). */
export type Server = Camelized<z.output<typeof serverSchema>>;

/** A volume; `serverId` null when detached, `size` in GB, `bootable` for the system disk. */
export type Volume = Camelized<z.output<typeof volumeSchema>>;

/** The inventory: what the service knows of backups, servers and volumes. */
export interface Inventory {
  checkpointItems: CheckpointItem[];
  servers: Server[];
  volumes: Volume[];
}
