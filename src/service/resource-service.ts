import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { type CheckRespSchema, ResourceService } from "../../gen/csbs/v1/resource_service_pb.js";
import { checkProtectable } from "../domain/protect-rules.js";
import {
  type RequestLimits,
  type Validation,
  validateProtectEntries,
  validateProviderId,
  validateRestoreEntries,
} from "../domain/request-validation.js";
import { checkRestorable, type RestoreEntry } from "../domain/restore-rules.js";
import type { Verdict } from "../domain/verdict.js";
import type { Store } from "../store/store.js";
import type { CallGuard } from "./call-guard.js";
import { csbsError } from "./csbs-error.js";

export { ResourceService };

export interface ResourceServiceOptions {
  store: Store;
  guard: CallGuard;
  limits: RequestLimits;
  /** Told of every verdict (for metrics). */
  onVerdict?: (method: "CheckRestorable" | "CheckProtectable", errorCode: string) => void;
}

type CheckResp = MessageInitShape<typeof CheckRespSchema>;

function ensure(validation: Validation): void {
  if (!validation.ok) throw csbsError("invalid_argument", validation.message);
}

function unique(ids: Iterable<string>): string[] {
  return [...new Set(ids)];
}

function toCheckResp(resourceId: string, resourceType: string, verdict: Verdict): CheckResp {
  return verdict.ok
    ? { result: true, resourceType, errorCode: "", errorMsg: "", resourceId }
    : { result: false, resourceType, errorCode: verdict.code, errorMsg: verdict.message, resourceId };
}

/**
 * The ResourceService: validation, batched store lookups (one query per table per request)
 * and the domain rules, behind the shared call guard.
 */
export function createResourceService(options: ResourceServiceOptions): ServiceImpl<typeof ResourceService> {
  const { store, guard, limits, onVerdict } = options;

  /**
   * The lookups of a validated request, run beside the provider's (one query each, in
   * parallel: no extra round trip on PostgreSQL); an unknown provider fails the request.
   */
  async function lookUp<T>(providerId: string, lookups: Promise<T>): Promise<T> {
    const [known, found] = await Promise.all([store.hasProvider(providerId), lookups]);
    if (!known) throw csbsError("invalid_argument", `provider_id: provider invalid (${providerId})`);
    return found;
  }

  return {
    checkRestorable(req, ctx) {
      return guard.run(ctx, req.projectId, undefined, async () => {
        ensure(validateProviderId(req.providerId));
        ensure(validateRestoreEntries(req.checkRestorable, limits));
        // Validated: every entry has a target.
        const entries = req.checkRestorable as ReadonlyArray<RestoreEntry>;
        const serverIds = unique(entries.map((e) => e.target.resourceId));
        const [items, servers, volumes] = await lookUp(
          req.providerId,
          Promise.all([
            store.getCheckpointItems(req.projectId, req.providerId, unique(entries.map((e) => e.checkpointItemId))),
            store.getServers(req.projectId, serverIds),
            store.getAttachedVolumes(req.projectId, serverIds),
          ]),
        );
        const restorable = entries.map((entry) => {
          const verdict = checkRestorable(entry, {
            item: items.get(entry.checkpointItemId),
            server: servers.get(entry.target.resourceId),
            serverVolumes: volumes.get(entry.target.resourceId) ?? [],
          });
          onVerdict?.("CheckRestorable", verdict.ok ? "" : verdict.code);
          return toCheckResp(entry.target.resourceId, entry.target.resourceType, verdict);
        });
        return { restorable };
      });
    },

    checkProtectable(req, ctx) {
      return guard.run(ctx, req.projectId, undefined, async () => {
        ensure(validateProviderId(req.providerId));
        ensure(validateProtectEntries(req.checkProtectable, limits));
        const entries = req.checkProtectable;
        const serverIds = unique(entries.map((e) => e.resourceId));
        const [servers, volumes] = await lookUp(
          req.providerId,
          Promise.all([store.getServers(req.projectId, serverIds), store.getAttachedVolumes(req.projectId, serverIds)]),
        );
        const protectable = entries.map((entry) => {
          const verdict = checkProtectable(entry, {
            server: servers.get(entry.resourceId),
            serverVolumes: volumes.get(entry.resourceId) ?? [],
          });
          onVerdict?.("CheckProtectable", verdict.ok ? "" : verdict.code);
          return toCheckResp(entry.resourceId, entry.resourceType, verdict);
        });
        return { protectable };
      });
    },
  };
}
