import { randomUUID } from "node:crypto";
import { CSBS_PROVIDER } from "../../src/domain/csbs-provider.js";
import type { CheckpointItem, Inventory, Server, Volume, VolumeBackup } from "../../src/domain/types.js";

/**
 * Domain objects for tests, valid and passing every rule unless told otherwise: the rule
 * tests (fixed readable ids) and the store contract (random ids) build from these, so a
 * field added to the inventory model is added here once. Ids default to random UUIDs.
 */

export const NOVA = "OS::Nova::Server";
export const BMS = "OS::Ironic::BareMetalServer";
/** The project of tests that need only one. */
export const TEST_PROJECT = "project-a";

/** An available volume backup: a 40 GB data disk. */
export function aVolumeBackup(overrides: Partial<VolumeBackup> = {}): VolumeBackup {
  return {
    id: randomUUID(),
    sourceVolumeId: randomUUID(),
    sourceVolumeSize: 40,
    bootable: false,
    status: "available",
    ...overrides,
  };
}

/** An available Nova checkpoint item of the CSBS provider in az1 (no volume backups unless given). */
export function aCheckpointItem(overrides: Partial<CheckpointItem> = {}): CheckpointItem {
  return {
    id: randomUUID(),
    projectId: TEST_PROJECT,
    providerId: CSBS_PROVIDER.id,
    checkpointId: randomUUID(),
    resourceId: randomUUID(),
    resourceType: NOVA,
    status: "available",
    resourceAz: "az1",
    supportedRestoreMode: "backup",
    volumeBackups: [],
    ...overrides,
  };
}

/** An ACTIVE Nova server in az1 that supports restore and backup, unlocked, with no policy. */
export function aServer(overrides: Partial<Server> = {}): Server {
  return {
    id: randomUUID(),
    projectId: TEST_PROJECT,
    type: NOVA,
    status: "ACTIVE",
    availabilityZone: "az1",
    restoreSupported: true,
    backupSupported: true,
    restoring: false,
    policyId: null,
    ...overrides,
  };
}

/** A 40 GB data volume, not shareable; `in-use` when attached (serverId set), else `available`. */
export function aVolume(overrides: Partial<Volume> = {}): Volume {
  const serverId = overrides.serverId ?? null;
  return {
    id: randomUUID(),
    projectId: TEST_PROJECT,
    serverId,
    size: 40,
    bootable: false,
    shareable: false,
    status: serverId ? "in-use" : "available",
    ...overrides,
  };
}

/** An inventory of the given parts (the others empty). */
export function anInventory(parts: Partial<Inventory>): Inventory {
  return { checkpointItems: [], servers: [], volumes: [], ...parts };
}

/** Readable fixed ids of the restore-rule worlds: each a valid UUID whose first group names the object. */
export const RESTORE_IDS = {
  item: "11111111-0000-4000-8000-000000000001",
  source: "22222222-0000-4000-8000-000000000002",
  server: "33333333-0000-4000-8000-000000000003",
  sysBackup: "44444444-0000-4000-8000-000000000004",
  dataBackup: "55555555-0000-4000-8000-000000000005",
  sysVolume: "66666666-0000-4000-8000-000000000006",
  dataVolume: "77777777-0000-4000-8000-000000000007",
  checkpoint: "99999999-0000-4000-8000-000000000009",
  unknownA: "aaaaaaaa-0000-4000-8000-00000000000a",
  unknownB: "bbbbbbbb-0000-4000-8000-00000000000b",
  unknownC: "cccccccc-0000-4000-8000-00000000000c",
} as const;

export interface Mapping {
  backupId: string;
  volumeId: string;
}

/** A mutable world of one restore entry: the entry and the facts the store would find for it. */
export interface RestoreWorld {
  entry: { checkpointItemId: string; target: { resourceId: string; resourceType: string; volumes: Mapping[] } };
  item: CheckpointItem | undefined;
  server: Server | undefined;
  volumes: Volume[];
}

/** A volume attached to the world's server (100 GB data disk unless told otherwise). */
export function attachedVolume(id: string, over: Partial<Volume> = {}): Volume {
  return aVolume({ id, projectId: TEST_PROJECT, serverId: RESTORE_IDS.server, size: 100, ...over });
}

/**
 * A restorable world: a Nova item with a 40 GB system and a 100 GB data backup, onto a Nova
 * server with two disks that fit, each backup mapped onto its disk.
 */
export function restorableWorld(): RestoreWorld {
  const ID = RESTORE_IDS;
  return {
    entry: {
      checkpointItemId: ID.item,
      target: {
        resourceId: ID.server,
        resourceType: NOVA,
        volumes: [
          { backupId: ID.sysBackup, volumeId: ID.sysVolume },
          { backupId: ID.dataBackup, volumeId: ID.dataVolume },
        ],
      },
    },
    item: aCheckpointItem({
      id: ID.item,
      checkpointId: ID.checkpoint,
      resourceId: ID.source,
      volumeBackups: [
        aVolumeBackup({ id: ID.sysBackup, sourceVolumeId: ID.unknownA, sourceVolumeSize: 40, bootable: true }),
        aVolumeBackup({ id: ID.dataBackup, sourceVolumeId: ID.unknownB, sourceVolumeSize: 100 }),
      ],
    }),
    server: aServer({ id: ID.server }),
    volumes: [attachedVolume(ID.sysVolume, { size: 40, bootable: true }), attachedVolume(ID.dataVolume)],
  };
}
