/**
 * How tokens are verified: the key source (one of four) and the checks every source shares.
 * `dev` uses a generated development secret kept in `secretFile` (DEVELOPMENT ONLY).
 */
export type AuthConfig = (
  | { mode: "hs256"; secret: string }
  | { mode: "jwks-file"; file: string }
  | { mode: "jwks-url"; url: string }
  | { mode: "dev"; secretFile: string }
) & {
  issuer: string | undefined;
  audience: string | undefined;
  /** Tolerated clock skew for a token's `exp` and `nbf`, in seconds. */
  clockToleranceSeconds: number;
  /** Least time between two refetches of the JWKS URL on an unknown `kid`, in seconds. */
  jwksCooldownSeconds: number;
  /** Verified tokens remembered (0: verify every call). */
  cacheSize: number;
  /** Longest time a verified token is trusted without verifying it again, in seconds. */
  cacheTtlSeconds: number;
};
