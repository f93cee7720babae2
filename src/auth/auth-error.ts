/**
 * A caller that could not be authenticated (401) or is not allowed (403), or a token that
 * cannot be verified right now because the key source (a JWKS URL) is unreachable (503).
 */
export class AuthError extends Error {
  override name = "AuthError";
  constructor(
    readonly kind: "unauthenticated" | "permission_denied" | "unavailable",
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
