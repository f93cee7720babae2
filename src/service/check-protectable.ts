import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CheckProtectableRequest, CheckProtectableResponseSchema } from "../../gen/csbs/v1/resource_service_pb.js";
import { lowerCaseProtectEntries } from "../domain/lower-case-ids.js";
import { checkProtectable as checkEntry, protectFailures } from "../domain/protect-rules.js";
import { validateProtectEntries, validateProviderId } from "../domain/request-validation.js";
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
 * The CheckProtectable use case, transport-free: validates the request, looks up the
 * servers and their volumes (beside the provider) and applies the 8 rules to every entry;
 * with `explain`, every entry also carries all its failing rules (docs/contract.md §8).
 */
export async function checkProtectable(
  deps: UseCaseDeps,
  request: CheckProtectableRequest,
): Promise<MessageInitShape<typeof CheckProtectableResponseSchema>> {
  const { store, limits, onVerdict } = deps;
  // Ids in lower case, as stored; the answer echoes resource_id as the caller sent it.
  const providerId = request.providerId.toLowerCase();
  const entries = lowerCaseProtectEntries(request.checkProtectable);
  ensureValid(validateProviderId(providerId));
  ensureValid(validateProtectEntries(entries, limits));
  const { servers, volumes } = await lookUpFacts(store, {
    projectId: request.projectId,
    providerId,
    checkpointItemIds: [],
    serverIds: unique(entries.map((e) => e.resourceId)),
  });
  const protectable = entries.map((entry, i) => {
    const facts = {
      server: servers.get(entry.resourceId),
      serverVolumes: volumes.get(entry.resourceId) ?? [],
    };
    const resourceId = request.checkProtectable[i]!.resourceId;
    if (request.explain) {
      const failures = protectFailures(entry, facts, "all");
      const verdict = verdictOf(failures);
      onVerdict?.("CheckProtectable", verdict.ok ? "" : verdict.code);
      return toExplainedCheckResp(resourceId, entry.resourceType, verdict, failures, []);
    }
    const verdict = checkEntry(entry, facts);
    onVerdict?.("CheckProtectable", verdict.ok ? "" : verdict.code);
    return toCheckResp(resourceId, entry.resourceType, verdict);
  });
  return { protectable };
}
