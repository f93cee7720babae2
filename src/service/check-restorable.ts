import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CheckRestorableRequest, CheckRestorableResponseSchema } from "../../gen/csbs/v1/resource_service_pb.js";
import { lowerCaseRestoreEntries } from "../domain/lower-case-ids.js";
import { validateProviderId, validateRestoreEntries } from "../domain/request-validation.js";
import { checkRestorable as checkEntry, explainRestorable, type RestoreEntry } from "../domain/restore-rules.js";
import { verdictOf } from "../domain/verdict.js";
import {
  ensureValid,
  lookUpFacts,
  toCheckResp,
  toExplainedCheckResp,
  type UseCaseDeps,
  unique,
} from "./use-case-deps.js";

/**
 * The CheckRestorable use case, transport-free: validates the request, looks up its
 * objects (one store call: the provider, the items with their backups, the servers with their volumes) and applies the 18 rules
 * to every entry; with `explain`, every entry also carries all its failing rules and a
 * suggested disk mapping (docs/contract.md §8). Invalid requests throw a CSBS `invalid_argument`
 * ConnectError.
 */
export async function checkRestorable(
  deps: UseCaseDeps,
  request: CheckRestorableRequest,
): Promise<MessageInitShape<typeof CheckRestorableResponseSchema>> {
  const { store, limits, onVerdict } = deps;
  // Ids in lower case, as stored; the answer echoes resource_id as the caller sent it.
  const providerId = request.providerId.toLowerCase();
  const lowered = lowerCaseRestoreEntries(request.checkRestorable);
  ensureValid(validateProviderId(providerId));
  ensureValid(validateRestoreEntries(lowered, limits));
  // Validated: every entry has a target.
  const entries = lowered as ReadonlyArray<RestoreEntry>;
  const { items, servers, volumes } = await lookUpFacts(store, {
    projectId: request.projectId,
    providerId,
    checkpointItemIds: unique(entries.map((e) => e.checkpointItemId)),
    serverIds: unique(entries.map((e) => e.target.resourceId)),
  });
  const restorable = entries.map((entry, i) => {
    const facts = {
      item: items.get(entry.checkpointItemId),
      server: servers.get(entry.target.resourceId),
      serverVolumes: volumes.get(entry.target.resourceId) ?? [],
    };
    const resourceId = request.checkRestorable[i]!.target!.resourceId;
    if (request.explain) {
      const { failures, suggestedVolumes } = explainRestorable(entry, facts);
      const verdict = verdictOf(failures);
      onVerdict?.("CheckRestorable", verdict.ok ? "" : verdict.code);
      return toExplainedCheckResp(resourceId, entry.target.resourceType, verdict, failures, suggestedVolumes);
    }
    const verdict = checkEntry(entry, facts);
    onVerdict?.("CheckRestorable", verdict.ok ? "" : verdict.code);
    return toCheckResp(resourceId, entry.target.resourceType, verdict);
  });
  return { restorable };
}
