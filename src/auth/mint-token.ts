import { SignJWT } from "jose";

export interface MintOptions {
  /** HS256 secret (UTF-8 bytes are the key). */
  secret: string;
  projectId: string;
  roles?: ReadonlyArray<string>;
  subject?: string;
  /** A jose duration such as "1h" or "30m". */
  ttl?: string;
  issuer?: string | undefined;
  audience?: string | undefined;
}

/** Signs an HS256 token in the form the service verifies. */
export async function mintToken(options: MintOptions): Promise<string> {
  const jwt = new SignJWT({ project_id: options.projectId, roles: [...(options.roles ?? [])] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(options.subject ?? "developer")
    .setIssuedAt()
    .setExpirationTime(options.ttl ?? "1h");
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
