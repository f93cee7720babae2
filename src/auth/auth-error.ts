/** A caller that could not be authenticated (401) or is not allowed (403). */
export class AuthError extends Error {
  override name = "AuthError";
  constructor(
    readonly kind: "unauthenticated" | "permission_denied",
    message: string,
  ) {
    super(message);
  }
}
