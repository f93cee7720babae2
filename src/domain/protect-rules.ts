import type { Server, Volume } from "./types.js";
import { SERVER_TYPES } from "./types.js";
import { type RuleFailure, type RuleMode, ruleFailure, type Verdict, verdictOf } from "./verdict.js";

/** One entry of a protectability check, as plain data. */
export interface ProtectEntry {
  resourceId: string;
  resourceType: string;
}

/** What the store knows of the entry's server, already scoped to the caller's project. */
export interface ProtectFacts {
  server: Server | undefined;
  /** The volumes attached to the server. */
  serverVolumes: ReadonlyArray<Volume>;
}

const PROTECTABLE_STATUSES: ReadonlySet<string> = new Set(["ACTIVE", "SHUTOFF"]);
const UNSUPPORTED = "Resource (%s) type (%s) is not support protection.";

/**
 * The 8 protectability rules of the CSBS API (docs/contract.md §6), in rule order. `first` stops
 * at the first failure (the verdict); `all` (explain, docs/contract.md §8) returns every failing
 * rule: rules 1 and 2 always run, rules 3 to 8 need the server.
 */
export function protectFailures(entry: ProtectEntry, facts: ProtectFacts, mode: RuleMode): RuleFailure[] {
  const { server, serverVolumes } = facts;
  const first = mode === "first";
  const out: RuleFailure[] = [];
  if (!SERVER_TYPES.has(entry.resourceType)) {
    out.push(ruleFailure(1, "CSBS.6003", UNSUPPORTED, entry.resourceId, entry.resourceType));
    if (first) return out;
  }
  if (server === undefined) {
    out.push(ruleFailure(2, "CSBS.6000", "server do not exist"));
    return out;
  }
  if (server.type !== entry.resourceType) {
    out.push(ruleFailure(3, "CSBS.6003", UNSUPPORTED, entry.resourceId, entry.resourceType));
    if (first) return out;
  }
  if (!PROTECTABLE_STATUSES.has(server.status)) {
    out.push(
      ruleFailure(4, "CSBS.6006", "Server (%s) status (%s) is not allowed to protect.", server.id, server.status),
    );
    if (first) return out;
  }
  if (server.policyId !== null) {
    out.push(ruleFailure(5, "CSBS.6004", "Server (%s) is already in service.", server.id));
    if (first) return out;
  }
  if (serverVolumes.length === 0) {
    out.push(ruleFailure(6, "CSBS.6007", "No volume attached to the server (%s) for protect.", server.id));
    if (first) return out;
  }
  const shared = serverVolumes.find((v) => v.shareable);
  if (shared) {
    out.push(
      ruleFailure(7, "CSBS.6010", "Volume (%s) attached to server (%s) is shareable volume.", shared.id, server.id),
    );
    if (first) return out;
  }
  if (!server.backupSupported) {
    out.push(
      ruleFailure(8, "CSBS.6027", "The AZ where the resource (%s) is located does not support backup.", server.id),
    );
  }
  return out;
}

/** The 8 protectability rules; the first failure decides. */
export function checkProtectable(entry: ProtectEntry, facts: ProtectFacts): Verdict {
  return verdictOf(protectFailures(entry, facts, "first"));
}
