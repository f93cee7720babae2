import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import {
  DeleteInventoryRequestSchema,
  DeleteInventoryResponseSchema,
  UpsertInventoryRequestSchema,
  UpsertInventoryResponseSchema,
} from "../../gen/csbs/admin/v1/inventory_service_pb.js";
import {
  type CheckResp,
  CheckRestorableRequestSchema,
  CheckRestorableResponseSchema,
} from "../../gen/csbs/v1/resource_service_pb.js";
import { CSBS_PROVIDER } from "../../src/domain/csbs-provider.js";
import { callUnary } from "./grpc-client.js";

export const UPSERT_PATH = "/csbs.admin.v1.InventoryService/UpsertInventory";
export const DELETE_PATH = "/csbs.admin.v1.InventoryService/DeleteInventory";
export const CHECK_PATH = "/csbs.v1.ResourceService/CheckRestorable";

export type UpsertRequest = MessageInitShape<typeof UpsertInventoryRequestSchema>;
export type DeleteRequest = MessageInitShape<typeof DeleteInventoryRequestSchema>;

/**
 * A restorable setup of one project, as an admin API request: a checkpoint item with a
 * system-disk and a data-disk backup, and a target server with two matching volumes.
 * Records leave `project_id` empty (the request's project applies) except the item.
 */
export function restorableSetup(projectId: string) {
  const ids = {
    item: randomUUID(),
    source: randomUUID(),
    target: randomUUID(),
    backups: [randomUUID(), randomUUID()] as const,
    volumes: [randomUUID(), randomUUID()] as const,
  };
  const server = {
    id: ids.target,
    type: "OS::Nova::Server",
    status: "ACTIVE",
    availabilityZone: "az1",
  };
  const upsert: UpsertRequest = {
    projectId,
    checkpointItems: [
      {
        id: ids.item,
        projectId,
        providerId: CSBS_PROVIDER.id,
        checkpointId: randomUUID(),
        resourceId: ids.source,
        resourceType: "OS::Nova::Server",
        status: "available",
        resourceAz: "az1",
        supportedRestoreMode: "backup",
        volumeBackups: [
          {
            id: ids.backups[0],
            sourceVolumeId: randomUUID(),
            sourceVolumeSize: 40,
            bootable: true,
            status: "available",
          },
          {
            id: ids.backups[1],
            sourceVolumeId: randomUUID(),
            sourceVolumeSize: 20,
            bootable: false,
            status: "available",
          },
        ],
      },
    ],
    servers: [server],
    volumes: [
      { id: ids.volumes[0], serverId: ids.target, size: 40, bootable: true, shareable: false, status: "in-use" },
      { id: ids.volumes[1], serverId: ids.target, size: 20, bootable: false, shareable: false, status: "in-use" },
    ],
  };
  const check = {
    projectId,
    providerId: CSBS_PROVIDER.id,
    checkRestorable: [
      {
        checkpointItemId: ids.item,
        target: {
          resourceId: ids.target,
          resourceType: "OS::Nova::Server",
          volumes: [
            { backupId: ids.backups[0], volumeId: ids.volumes[0] },
            { backupId: ids.backups[1], volumeId: ids.volumes[1] },
          ],
        },
      },
    ],
  };
  return { ids, server, upsert, check };
}

export function upsert(client: grpc.Client, token: string, request: UpsertRequest) {
  return callUnary(client, UPSERT_PATH, UpsertInventoryRequestSchema, UpsertInventoryResponseSchema, request, {
    token,
  });
}

export function deleteRecords(client: grpc.Client, token: string, request: DeleteRequest) {
  return callUnary(client, DELETE_PATH, DeleteInventoryRequestSchema, DeleteInventoryResponseSchema, request, {
    token,
  });
}

/** The single verdict of a one-entry CheckRestorable over gRPC. */
export async function checkOne(
  client: grpc.Client,
  token: string,
  request: MessageInitShape<typeof CheckRestorableRequestSchema>,
  deadlineMs?: number,
): Promise<Pick<CheckResp, "result" | "errorCode" | "errorMsg">> {
  const res = await callUnary(
    client,
    CHECK_PATH,
    CheckRestorableRequestSchema,
    CheckRestorableResponseSchema,
    request,
    {
      token,
      ...(deadlineMs ? { deadlineMs } : {}),
    },
  );
  const [r] = res.restorable;
  return { result: r!.result, errorCode: r!.errorCode, errorMsg: r!.errorMsg };
}
