/**
 * npm run token -- --project ID [--roles r1,r2] [--ttl 1h] [--subject NAME]
 * Mints an HS256 token with the configured AUTH_JWT_SECRET, or with the development secret
 * the service generated when no auth is configured.
 */
import { parseArgs } from "node:util";
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
  const config = loadConfig();
  const projectId = values.project ?? config.demoProjectId;
  let secret: string;
  switch (config.auth.mode) {
    case "hs256":
      secret = config.auth.secret;
      break;
    case "dev":
      secret = loadOrCreateDevSecret(config.auth.secretFile);
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
  console.log(
    await mintToken({
      secret,
      projectId,
      roles,
      ttl: values.ttl,
      subject: values.subject,
      issuer: config.auth.issuer,
      audience: config.auth.audience,
    }),
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
