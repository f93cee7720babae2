import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

function readSecret(file: string): string | undefined {
  try {
    const existing = readFileSync(file, "utf8").trim();
    return existing.length >= 32 ? existing : undefined;
  } catch {
    return undefined; // not there yet
  }
}

/**
 * The development HS256 secret used when no auth is configured: generated once and kept
 * in a local file (git-ignored, mode 0600) so `npm run token` can mint tokens for it.
 * DEVELOPMENT ONLY: production sets AUTH_JWT_SECRET or a JWKS.
 */
export function loadOrCreateDevSecret(file: string): string {
  const existing = readSecret(file);
  if (existing !== undefined) return existing;
  const secret = randomBytes(32).toString("base64url");
  mkdirSync(dirname(file), { recursive: true });
  try {
    // "wx": when the service and `npm run token` start together, the first writer wins.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const raced = readSecret(file);
  if (raced !== undefined) return raced;
  // An existing file too short to be a secret: replace it, and make sure it is 0600.
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
