import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The development HS256 secret used when no auth is configured: generated once and kept
 * in a local file (git-ignored) so `npm run token` can mint tokens for it.
 * DEVELOPMENT ONLY: production sets AUTH_JWT_SECRET or a JWKS.
 */
export function loadOrCreateDevSecret(file: string): string {
  try {
    const existing = readFileSync(file, "utf8").trim();
    if (existing.length >= 32) return existing;
  } catch {
    // not there yet
  }
  const secret = randomBytes(32).toString("base64url");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
