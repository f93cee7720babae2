import { readFileSync } from "node:fs";
import * as jose from "jose";
import type { AuthConfig } from "./auth-config.js";
import { AuthError } from "./auth-error.js";
import { loadOrCreateDevSecret } from "./dev-secret.js";
import type { Principal } from "./principal.js";

export interface AuthenticatorHooks {
  /** Told when the JWKS URL cannot be fetched or is not a key set (the call gets 503). */
  onKeySourceError?: ((error: unknown) => void) | undefined;
}

export interface Authenticator {
  /** Verifies a token and returns its principal; throws `AuthError` (unauthenticated). */
  authenticate(token: string | null | undefined): Promise<Principal>;
}

const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];
/** `typ` values accepted when a token carries one (RFC 7519 "JWT", RFC 9068 "at+jwt"). */
const ACCEPTED_TYP = new Set(["jwt", "at+jwt"]);
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const PREFIX = "Incorrect IAM authentication information";

/**
 * Verifies JWTs with `jose`: HS256 with a shared secret, or asymmetric keys from a JWKS
 * file or URL. Algorithms are pinned to the key type, `exp` is required, a lifetime over
 * `maxTokenTtlSeconds` is refused, `iss`/`aud` are checked when configured.
 */
export function createAuthenticator(auth: AuthConfig, hooks: AuthenticatorHooks = {}): Authenticator {
  const verifyOptions: jose.JWTVerifyOptions = {
    requiredClaims: ["exp"],
    clockTolerance: auth.clockToleranceSeconds,
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
  };
  let verify: (token: string) => Promise<jose.JWTVerifyResult>;
  switch (auth.mode) {
    case "hs256":
    case "dev": {
      const secret = auth.mode === "dev" ? loadOrCreateDevSecret(auth.secretFile) : auth.secret;
      const key = new TextEncoder().encode(secret);
      verify = (token) => jose.jwtVerify(token, key, { ...verifyOptions, algorithms: ["HS256"] });
      break;
    }
    case "jwks-file": {
      const keys = jose.createLocalJWKSet(readJwksFile(auth.file));
      verify = (token) => jose.jwtVerify(token, keys, { ...verifyOptions, algorithms: ASYMMETRIC_ALGORITHMS });
      break;
    }
    case "jwks-url":
      verify = remoteVerifier(auth.url, auth.jwksCooldownSeconds, trustedForMs(auth), verifyOptions, hooks);
      break;
    case "none":
      throw new Error(
        "no auth configured: set AUTH_JWT_SECRET, AUTH_JWKS_FILE or AUTH_JWKS_URL (or AUTH_DEV=1 for development)",
      );
  }

  return {
    async authenticate(token) {
      if (!token) throw new AuthError("unauthenticated", `${PREFIX}: the X-Auth-Token header is missing`);
      if (token.length > 8192 || !COMPACT_JWS.test(token)) {
        throw new AuthError("unauthenticated", `${PREFIX}: the token is malformed`);
      }
      let payload: jose.JWTPayload;
      let header: jose.JWTHeaderParameters;
      try {
        ({ payload, protectedHeader: header } = await verify(token));
      } catch (error) {
        if (error instanceof AuthError) throw error;
        throw new AuthError("unauthenticated", `${PREFIX}: ${reasonOf(error)}`);
      }
      // Explicit typing (RFC 8725 3.11): another kind of JWT (logout, DPoP proof, SET) is not a token.
      const typ: unknown = header.typ;
      if (typ !== undefined && (typeof typ !== "string" || !ACCEPTED_TYP.has(normalizeTyp(typ)))) {
        throw new AuthError("unauthenticated", `${PREFIX}: the token's typ header is not JWT`);
      }
      // A stolen long-lived token stays valid for long: refuse lifetimes over the maximum.
      const lifetime = (payload.exp ?? 0) - (typeof payload.iat === "number" ? payload.iat : Date.now() / 1000);
      if (lifetime > auth.maxTokenTtlSeconds) {
        throw new AuthError(
          "unauthenticated",
          `${PREFIX}: the token's lifetime exceeds ${auth.maxTokenTtlSeconds} s (AUTH_MAX_TOKEN_TTL_SECONDS)`,
        );
      }
      const projectId = payload.project_id;
      const roles = payload.roles ?? [];
      if (typeof projectId !== "string" || projectId === "") {
        throw new AuthError("unauthenticated", `${PREFIX}: the token has no project_id claim`);
      }
      if (!Array.isArray(roles) || !roles.every((r) => typeof r === "string")) {
        throw new AuthError("unauthenticated", `${PREFIX}: the roles claim must be an array of strings`);
      }
      if (payload.sub !== undefined && typeof payload.sub !== "string") {
        throw new AuthError("unauthenticated", `${PREFIX}: the sub claim must be a string`);
      }
      return { subject: payload.sub ?? "", projectId, roles, expiresAt: (payload.exp ?? 0) * 1000 };
    },
  };
}

/**
 * How long a verified token may be trusted (cached) without verifying it again:
 * `AUTH_CACHE_TTL_SECONDS`. With a JWKS URL, half of it: the fetched key set is also kept
 * for the other half, so a key removed from the URL stops being accepted within
 * `AUTH_CACHE_TTL_SECONDS` (key set age + cached token age).
 */
export function trustedForMs(auth: AuthConfig): number {
  return auth.mode === "jwks-url" ? (auth.cacheTtlSeconds * 1000) / 2 : auth.cacheTtlSeconds * 1000;
}

/** Keys from a JWKS URL; a key set that cannot be fetched says nothing about the token: 503, not 401. */
function remoteVerifier(
  url: string,
  cooldownSeconds: number,
  cacheMaxAgeMs: number,
  verifyOptions: jose.JWTVerifyOptions,
  hooks: AuthenticatorHooks,
): (token: string) => Promise<jose.JWTVerifyResult> {
  const remote = jose.createRemoteJWKSet(new URL(url), {
    timeoutDuration: 5000,
    cooldownDuration: cooldownSeconds * 1000,
    // jose keeps a fetched set 10 minutes by default; a key removed from the URL must stop
    // being accepted within AUTH_CACHE_TTL_SECONDS (see trustedForMs).
    cacheMaxAge: cacheMaxAgeMs,
  });
  const keys: jose.JWTVerifyGetKey = (header, token) =>
    remote(header, token).catch((error: unknown) => {
      if (isTokenKeyMismatch(error)) throw error;
      hooks.onKeySourceError?.(error);
      throw new AuthError(
        "unavailable",
        "the token cannot be verified now (the JWKS URL is unreachable or not a key set), try again later",
        { cause: error },
      );
    });
  return (token) => jose.jwtVerify(token, keys, { ...verifyOptions, algorithms: ASYMMETRIC_ALGORITHMS });
}

function readJwksFile(file: string): jose.JSONWebKeySet {
  let jwks: unknown;
  try {
    jwks = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`AUTH_JWKS_FILE: cannot read a JSON key set from ${file}: ${(error as Error).message}`);
  }
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new Error(`AUTH_JWKS_FILE: ${file} is not a JWKS ({"keys": [...]}) with at least one key`);
  }
  if (keys.some((k) => typeof k !== "object" || k === null || "d" in k || "k" in k)) {
    throw new Error(`AUTH_JWKS_FILE: ${file} must hold public keys only (no "d" or "k" members)`);
  }
  return jwks as jose.JSONWebKeySet;
}

/** Errors of the key lookup that are about the token (its `kid`/`alg`), not the key source. */
function isTokenKeyMismatch(error: unknown): boolean {
  return (
    error instanceof jose.errors.JWKSNoMatchingKey ||
    error instanceof jose.errors.JWKSMultipleMatchingKeys ||
    error instanceof jose.errors.JOSENotSupported
  );
}

function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith("application/") ? lower.slice("application/".length) : lower;
}

function reasonOf(error: unknown): string {
  if (error instanceof jose.errors.JWTExpired) return "the token has expired";
  if (error instanceof jose.errors.JWSSignatureVerificationFailed) return "the token signature is invalid";
  if (error instanceof jose.errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return `the token has no ${error.claim} claim`;
    if (error.claim === "nbf") return "the token is not valid yet";
    return `the token's ${error.claim} claim is invalid`;
  }
  if (error instanceof jose.errors.JOSEAlgNotAllowed) return "the token's algorithm is not allowed";
  if (error instanceof jose.errors.JWKSNoMatchingKey) return "no key matches the token";
  if (error instanceof jose.errors.JOSEError) return `the token is invalid (${error.code})`;
  return "the token is invalid";
}

/** Throws 403 unless the principal is scoped to the project (and has the role, when one is asked). */
export function authorize(principal: Principal, projectId: string, role?: string): void {
  if (principal.projectId !== projectId) {
    throw new AuthError("permission_denied", `the token is not scoped to project ${projectId}`);
  }
  if (role !== undefined && !principal.roles.includes(role)) {
    throw new AuthError("permission_denied", `the token lacks the role ${role}`);
  }
}
