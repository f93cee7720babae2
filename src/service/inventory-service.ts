import { toJson } from "@bufbuild/protobuf";
import {
  InventoryService,
  type UpsertInventoryRequest,
  UpsertInventoryRequestSchema,
} from "../../gen/csbs/admin/v1/inventory_service_pb.js";
import { ADMIN_ROLE } from "../auth/principal.js";
import { deleteInventory, InventoryError, importInventory } from "../store/import-inventory.js";
import type { InventoryCounts, Store } from "../store/store.js";
import type { CallGuard, GuardedServiceImpl } from "./call-guard.js";
import { csbsError } from "./csbs-error.js";

export { InventoryService };

export interface InventoryServiceOptions {
  store: Store;
  guard: CallGuard;
}

type JsonRecord = Record<string, unknown>;

/**
 * The request's records as an inventory document (docs/contract.md §9 JSON, snake_case), so
 * that they are validated by the same parser as the inventory file. Unset `optional`
 * fields are left out (the document's defaults apply), except `server_id`, whose absence
 * means detached (null). An empty `project_id` is the request's.
 */
function toInventoryJson(req: UpsertInventoryRequest): JsonRecord {
  const { project_id: _, ...doc } = toJson(UpsertInventoryRequestSchema, req, {
    useProtoFieldName: true,
    alwaysEmitImplicit: true,
  }) as JsonRecord;
  for (const field of ["checkpoint_items", "servers", "volumes"]) {
    for (const record of (doc[field] as JsonRecord[] | undefined) ?? []) {
      if (record.project_id === "") record.project_id = req.projectId;
      if (field === "volumes" && !("server_id" in record)) record.server_id = null;
    }
  }
  return doc;
}

function countsOf(counts: InventoryCounts) {
  return { checkpointItems: counts.checkpointItems, servers: counts.servers, volumes: counts.volumes };
}

/** A rejected inventory is INVALID_ARGUMENT (CSBS.9001) naming the record's path. */
async function rejectingBadRecords<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof InventoryError) throw csbsError("invalid_argument", error.message);
    throw error;
  }
}

/**
 * csbs.admin.v1.InventoryService: batch upserts and deletes of the inventory, each call
 * one transaction, for a `csbs_admin` of the request's project, behind the shared call guard.
 */
export function createInventoryService(options: InventoryServiceOptions): GuardedServiceImpl<typeof InventoryService> {
  const { store, guard } = options;
  return {
    upsertInventory(req, ctx) {
      return guard.run(ctx, req.projectId, ADMIN_ROLE, async () =>
        countsOf(
          await rejectingBadRecords(() => importInventory(store, toInventoryJson(req), { projectId: req.projectId })),
        ),
      );
    },
    deleteInventory(req, ctx) {
      return guard.run(ctx, req.projectId, ADMIN_ROLE, async () =>
        countsOf(
          await rejectingBadRecords(() =>
            deleteInventory(store, {
              projectId: req.projectId,
              checkpoint_item_ids: req.checkpointItemIds,
              server_ids: req.serverIds,
              volume_ids: req.volumeIds,
            }),
          ),
        ),
      );
    },
  };
}
