/**
 * How tokens are verified: the key source (one of four) and the checks every source shares.
 * `dev` uses a generated development secret kept in `secretFile` (DEVELOPMENT ONLY).
 */
export type AuthConfig = (
  | { mode: "hs256"; secret: string }
  | { mode: "jwks-file"; file: string }
  | { mode: "jwks-url"; url: string }
  | { mode: "dev"; secretFile: string }
  /** No key source and no AUTH_DEV=1: the service refuses to start (loadConfig's `requireAuth`). */
  | { mode: "none" }
) & {
  issuer: string | undefined;
  audience: string | undefined;
  /** Tolerated clock skew for a token's `exp` and `nbf`, in seconds. */
  clockToleranceSeconds: number;
  /** Least time between two refetches of the JWKS URL on an unknown `kid`, in seconds. */
  jwksCooldownSeconds: number;
  /** Longest accepted token lifetime (`exp - iat`, or `exp - now` without `iat`), in seconds. */
  maxTokenTtlSeconds: number;
  /** Verified tokens remembered (0: verify every call). */
  cacheSize: number;
  /** Longest time a verified token is trusted without verifying it again, in seconds. */
  cacheTtlSeconds: number;
};
