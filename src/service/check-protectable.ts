import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CheckProtectableRequest, CheckProtectableResponseSchema } from "../../gen/csbs/v1/resource_service_pb.js";
import { lowerCaseProtectEntries } from "../domain/lower-case-ids.js";
import { checkProtectable as checkEntry } from "../domain/protect-rules.js";
import { validateProtectEntries, validateProviderId } from "../domain/request-validation.js";
import { ensureValid, lookUpWithProvider, toCheckResp, type UseCaseDeps, unique } from "./use-case-deps.js";

/**
 * The CheckProtectable use case, transport-free: validates the request, looks up the
 * servers and their volumes (beside the provider) and applies the 8 rules to every entry.
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
  const serverIds = unique(entries.map((e) => e.resourceId));
  const [servers, volumes] = await lookUpWithProvider(
    store,
    providerId,
    Promise.all([
      store.getServers(request.projectId, serverIds),
      store.getAttachedVolumes(request.projectId, serverIds),
    ]),
  );
  const protectable = entries.map((entry, i) => {
    const verdict = checkEntry(entry, {
      server: servers.get(entry.resourceId),
      serverVolumes: volumes.get(entry.resourceId) ?? [],
    });
    onVerdict?.("CheckProtectable", verdict.ok ? "" : verdict.code);
    return toCheckResp(request.checkProtectable[i]!.resourceId, entry.resourceType, verdict);
  });
  return { protectable };
}
