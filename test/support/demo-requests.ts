import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  CheckProtectableRequestSchema,
  CheckRestorableRequestSchema,
} from "../../gen/csbs/v1/resource_service_pb.js";
import { demoCases, type ProtectCase, type RestoreCase } from "./demo-cases.js";

/** A restore entry as the demo cases and the REST body spell it (snake_case JSON). */
export type RestoreEntry = RestoreCase["request"];
/** A protect entry as the demo cases and the REST body spell it. */
export type ProtectEntry = ProtectCase["request"];

/** The project and provider of a call (default: the demo cases'), and explain (default: unset). */
export interface CallScope {
  projectId?: string;
  providerId?: string;
  explain?: boolean;
}

/** The REST body of a CheckRestorable call. */
export function restoreBody(entries: readonly RestoreEntry[]): { check_restorable: RestoreEntry[] } {
  return { check_restorable: [...entries] };
}

/** The REST body of a CheckProtectable call. */
export function protectBody(entries: readonly ProtectEntry[]): { check_protectable: ProtectEntry[] } {
  return { check_protectable: [...entries] };
}

/** The same entries as a CheckRestorableRequest, for a gRPC call (callUnary) or a Connect client. */
export function restoreMessage(entries: readonly RestoreEntry[], scope: CallScope = {}) {
  return {
    projectId: scope.projectId ?? demoCases.project_id,
    providerId: scope.providerId ?? demoCases.provider_id,
    ...(scope.explain === undefined ? {} : { explain: scope.explain }),
    checkRestorable: entries.map((e) => ({
      checkpointItemId: e.checkpoint_item_id,
      target: {
        resourceId: e.target.resource_id,
        resourceType: e.target.resource_type,
        volumes: e.target.volumes.map((v) => ({ backupId: v.backup_id, volumeId: v.volume_id })),
      },
    })),
  } satisfies MessageInitShape<typeof CheckRestorableRequestSchema>;
}

/** The same entries as a CheckProtectableRequest, for a gRPC call (callUnary) or a Connect client. */
export function protectMessage(entries: readonly ProtectEntry[], scope: CallScope = {}) {
  return {
    projectId: scope.projectId ?? demoCases.project_id,
    providerId: scope.providerId ?? demoCases.provider_id,
    ...(scope.explain === undefined ? {} : { explain: scope.explain }),
    checkProtectable: entries.map((e) => ({ resourceId: e.resource_id, resourceType: e.resource_type })),
  } satisfies MessageInitShape<typeof CheckProtectableRequestSchema>;
}
