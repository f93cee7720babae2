import type { Server, Volume } from "./types.js";
import { SERVER_TYPES } from "./types.js";
import { fail, PASS, type Verdict } from "./verdict.js";

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
 * The 8 protectability rules of the CSBS API, in order; the first failure decides.
 */
export function checkProtectable(entry: ProtectEntry, facts: ProtectFacts): Verdict {
  const { server, serverVolumes } = facts;
  if (!SERVER_TYPES.has(entry.resourceType))
    return fail("CSBS.6003", UNSUPPORTED, entry.resourceId, entry.resourceType);
  if (server === undefined) return fail("CSBS.6000", "server do not exist");
  if (server.type !== entry.resourceType) return fail("CSBS.6003", UNSUPPORTED, entry.resourceId, entry.resourceType);
  if (!PROTECTABLE_STATUSES.has(server.status)) {
    return fail("CSBS.6006", "Server (%s) status (%s) is not allowed to protect.", server.id, server.status);
  }
  if (server.policyId !== null) return fail("CSBS.6004", "Server (%s) is already in service.", server.id);
  if (serverVolumes.length === 0)
    return fail("CSBS.6007", "No volume attached to the server (%s) for protect.", server.id);
  const shared = serverVolumes.find((v) => v.shareable);
  if (shared)
    return fail("CSBS.6010", "Volume (%s) attached to server (%s) is shareable volume.", shared.id, server.id);
  if (!server.backupSupported) {
    return fail("CSBS.6027", "The AZ where the resource (%s) is located does not support backup.", server.id);
  }
  return PASS;
}
