import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
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
 * An existing file that its group or others may read is set to 0600, and `onWarning` told.
 */
export function loadOrCreateDevSecret(file: string, onWarning?: (message: string) => void): string {
  const existing = readSecret(file);
  if (existing !== undefined) {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      chmodSync(file, 0o600);
      onWarning?.(
        `AUTH_DEV_SECRET_FILE ${file} was readable by group/others (mode 0${mode.toString(8)}): set to 0600; anyone who read it can mint tokens, delete it to get a new secret`,
      );
    }
    return existing;
  }
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
