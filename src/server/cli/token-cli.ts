/**
 * npm run token -- --project ID [--roles r1,r2] [--ttl 1h] [--subject NAME]
 * Mints an HS256 token with the configured AUTH_JWT_SECRET, or (AUTH_DEV=1, as `npm start`
 * and this script set) with the development secret the service generated. Refuses a --ttl
 * over AUTH_MAX_TOKEN_TTL_SECONDS.
 */
import { parseArgs } from "node:util";
import { decodeJwt } from "jose";
import { loadOrCreateDevSecret } from "../../auth/dev-secret.js";
import { mintToken } from "../../auth/mint-token.js";
import { ConfigError, loadConfig } from "../config.js";

try {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      project: { type: "string" },
      roles: { type: "string", default: "" },
      ttl: { type: "string", default: "1h" },
      subject: { type: "string", default: "developer" },
    },
  });
  const config = loadConfig(process.env, { requireAuth: true });
  const projectId = values.project ?? config.demoProjectId;
  let secret: string;
  switch (config.auth.mode) {
    case "hs256":
      secret = config.auth.secret;
      break;
    case "dev":
      secret = loadOrCreateDevSecret(config.auth.secretFile, (m) => console.error(`warning: ${m}`));
      break;
    default:
      throw new ConfigError(
        "AUTH_JWT_SECRET",
        "npm run token mints HS256 tokens only; with a JWKS, your identity provider issues them",
      );
  }
  const roles = values.roles
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  const token = await mintToken({
    secret,
    projectId,
    roles,
    ttl: values.ttl,
    subject: values.subject,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
  });
  const { exp = 0, iat = 0 } = decodeJwt(token);
  if (exp - iat > config.auth.maxTokenTtlSeconds) {
    throw new ConfigError(
      "AUTH_MAX_TOKEN_TTL_SECONDS",
      `--ttl ${values.ttl} is longer than ${config.auth.maxTokenTtlSeconds} s: the service would refuse the token`,
    );
  }
  console.log(token);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
