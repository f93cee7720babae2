import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CheckRespSchema } from "../../gen/csbs/v1/resource_service_pb.js";
import type { RequestLimits, Validation } from "../domain/request-validation.js";
import type { VolumeMapping } from "../domain/suggest-volumes.js";
import type { RuleFailure, Verdict } from "../domain/verdict.js";
import type { CheckFacts, CheckLookup, Store } from "../store/store.js";
import { csbsError } from "./csbs-error.js";

/** What the check use cases need: the store, the request limits, and a verdict observer. */
export interface UseCaseDeps {
  store: Store;
  limits: RequestLimits;
  /** Told of every verdict (for metrics). */
  onVerdict?: ((method: "CheckRestorable" | "CheckProtectable", errorCode: string) => void) | undefined;
}

/** A failed validation is a CSBS `invalid_argument` (400 / INVALID_ARGUMENT) naming the field. */
export function ensureValid(validation: Validation): void {
  if (!validation.ok) throw csbsError("invalid_argument", validation.message);
}

export function unique(ids: Iterable<string>): string[] {
  return [...new Set(ids)];
}

/**
 * What a validated request reads: one store call (one round trip on PostgreSQL) with the
 * provider's existence; an unknown provider fails the request.
 */
export async function lookUpFacts(store: Store, lookup: CheckLookup): Promise<CheckFacts> {
  const facts = await store.lookUp(lookup);
  if (!facts.providerKnown) throw csbsError("invalid_argument", `provider_id: provider invalid (${lookup.providerId})`);
  return facts;
}

export function toCheckResp(
  resourceId: string,
  resourceType: string,
  verdict: Verdict,
): MessageInitShape<typeof CheckRespSchema> {
  return verdict.ok
    ? { result: true, resourceType, errorCode: "", errorMsg: "", resourceId }
    : { result: false, resourceType, errorCode: verdict.code, errorMsg: verdict.message, resourceId };
}

/** A CheckResp with the explain fields (docs/contract.md §8): every failing rule and the suggested mapping. */
export function toExplainedCheckResp(
  resourceId: string,
  resourceType: string,
  verdict: Verdict,
  failures: ReadonlyArray<RuleFailure>,
  suggestedVolumes: ReadonlyArray<VolumeMapping>,
): MessageInitShape<typeof CheckRespSchema> {
  return {
    result: verdict.ok,
    resourceType,
    errorCode: verdict.ok ? "" : verdict.code,
    errorMsg: verdict.ok ? "" : verdict.message,
    resourceId,
    failures: failures.map((f) => ({ rule: f.rule, errorCode: f.code, errorMsg: f.message })),
    suggestedVolumes: suggestedVolumes.map((m) => ({ backupId: m.backupId, volumeId: m.volumeId })),
  };
}
