import { PROJECT_ID } from "../domain/id-patterns.js";
import type { DatabaseConfig } from "../store/create-store.js";

/** How tokens are verified; "dev" generates a development secret (never "off"). */
export type AuthConfig =
  | { mode: "hs256"; secret: string }
  | { mode: "jwks-file"; file: string }
  | { mode: "jwks-url"; url: string }
  | { mode: "dev"; secretFile: string };

export interface Config {
  host: string;
  httpPort: number;
  grpcPort: number;
  database: DatabaseConfig;
  /** PostgreSQL: longest wait for a connection before a call fails with 503 (DB_CONNECT_TIMEOUT_MS). */
  dbConnectTimeoutMs: number;
  /** PostgreSQL: longest time one statement may take before a call fails with 503 (DB_QUERY_TIMEOUT_MS). */
  dbQueryTimeoutMs: number;
  /** PostgreSQL: most pooled connections per instance (DB_POOL_MAX). */
  dbPoolMax: number;
  /** SQLite: MiB of the database read through a memory mapping (SQLITE_MMAP_MB; 0: none). */
  sqliteMmapMb: number;
  inventoryFile: string | undefined;
  auth: AuthConfig;
  authIssuer: string | undefined;
  authAudience: string | undefined;
  /** Tolerated clock skew for a token's `exp` and `nbf`, in seconds. */
  authClockToleranceSeconds: number;
  /** Least time between two refetches of AUTH_JWKS_URL on an unknown `kid`, in seconds. */
  authJwksCooldownSeconds: number;
  /** Verified tokens remembered (0: verify every call). */
  authCacheSize: number;
  /** Longest time a verified token is trusted without verifying it again, in seconds. */
  authCacheTtlSeconds: number;
  /** The project the development token is minted for. */
  demoProjectId: string;
  maxCheckItems: number;
  maxVolumes: number;
  maxBodyBytes: number;
  /** Server-side maximum time for one request, on both ports. */
  requestTimeoutMs: number;
  /** HTTP: time allowed to receive a request's headers (slow-loris protection). */
  headersTimeoutMs: number;
  /** Requests in flight above which new ones get 503 CSBS.9998 at once. */
  maxConcurrentRequests: number;
  shutdownTimeoutMs: number;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** Origins allowed to call the HTTP port from a browser (CORS_ALLOWED_ORIGINS); empty: CORS off. */
  corsAllowedOrigins: string[];
  logLevel: string;
}

/** A variable with a value the service cannot start with. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function text(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === "" ? undefined : raw;
}

/** A comma-separated list of origins (`https://app.example.com`, `http://localhost:5173`) or `*`. */
function origins(env: Env, name: string): string[] {
  const list = (text(env, name) ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of list) {
    if (origin === "*") continue;
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {}
    if (url === undefined || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
      throw new ConfigError(name, `"${origin}" is not an origin (scheme://host[:port], no path) or *`);
    }
  }
  return list;
}

const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

export function parseDatabaseUrl(raw: string, variable = "DATABASE_URL"): DatabaseConfig {
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError(variable, "is not a valid postgres:// URL");
    }
    return { kind: "postgres", url: raw };
  }
  if (raw.startsWith("sqlite:")) {
    const path = raw.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "") throw new ConfigError(variable, "sqlite: URL has no path");
    return { kind: "sqlite", path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw))
    throw new ConfigError(variable, "must be a SQLite path, sqlite: URL or postgres:// URL");
  return { kind: "sqlite", path: raw };
}

/** Reads the environment once into a typed configuration; a bad value names its variable. */
export function loadConfig(env: Env = process.env): Config {
  const secret = text(env, "AUTH_JWT_SECRET");
  const jwksFile = text(env, "AUTH_JWKS_FILE");
  const jwksUrl = text(env, "AUTH_JWKS_URL");
  const set = [secret && "AUTH_JWT_SECRET", jwksFile && "AUTH_JWKS_FILE", jwksUrl && "AUTH_JWKS_URL"].filter(Boolean);
  if (set.length > 1) throw new ConfigError(String(set[1]), `set only one of ${set.join(", ")}`);
  if (secret !== undefined && Buffer.byteLength(secret) < 32) {
    throw new ConfigError("AUTH_JWT_SECRET", "must be at least 32 bytes");
  }
  if (jwksUrl !== undefined && !/^https?:\/\//.test(jwksUrl))
    throw new ConfigError("AUTH_JWKS_URL", "must be an http(s) URL");
  const auth: AuthConfig = secret
    ? { mode: "hs256", secret }
    : jwksFile
      ? { mode: "jwks-file", file: jwksFile }
      : jwksUrl
        ? { mode: "jwks-url", url: jwksUrl }
        : { mode: "dev", secretFile: text(env, "AUTH_DEV_SECRET_FILE") ?? "data/dev-jwt-secret" };

  const logLevel = text(env, "LOG_LEVEL") ?? "info";
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigError("LOG_LEVEL", `must be one of ${[...LOG_LEVELS].join(", ")}`);

  const demoProjectId = text(env, "DEMO_PROJECT_ID") ?? "demo-project";
  if (!PROJECT_ID.test(demoProjectId)) throw new ConfigError("DEMO_PROJECT_ID", "must be 1-64 of [A-Za-z0-9-]");

  return {
    host: text(env, "HOST") ?? "127.0.0.1",
    httpPort: integer(env, "HTTP_PORT", 8080, 0, 65535),
    grpcPort: integer(env, "GRPC_PORT", 50051, 0, 65535),
    database: parseDatabaseUrl(text(env, "DATABASE_URL") ?? "data/restorability.db"),
    dbConnectTimeoutMs: integer(env, "DB_CONNECT_TIMEOUT_MS", 2000, 100, 60_000),
    dbQueryTimeoutMs: integer(env, "DB_QUERY_TIMEOUT_MS", 5000, 100, 600_000),
    dbPoolMax: integer(env, "DB_POOL_MAX", 10, 1, 1000),
    sqliteMmapMb: integer(env, "SQLITE_MMAP_MB", 256, 0, 1_048_576),
    inventoryFile: text(env, "INVENTORY_FILE"),
    auth,
    authIssuer: text(env, "AUTH_ISSUER"),
    authAudience: text(env, "AUTH_AUDIENCE"),
    authClockToleranceSeconds: integer(env, "AUTH_CLOCK_TOLERANCE_SECONDS", 30, 0, 300),
    authJwksCooldownSeconds: integer(env, "AUTH_JWKS_COOLDOWN_SECONDS", 30, 0, 3600),
    authCacheSize: integer(env, "AUTH_CACHE_SIZE", 10_000, 0, 10_000_000),
    authCacheTtlSeconds: integer(env, "AUTH_CACHE_TTL_SECONDS", 60, 1, 3600),
    demoProjectId,
    maxCheckItems: integer(env, "MAX_CHECK_ITEMS", 100, 1, 10_000),
    maxVolumes: integer(env, "MAX_VOLUMES", 64, 1, 1024),
    maxBodyBytes: integer(env, "MAX_BODY_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
    requestTimeoutMs: integer(env, "REQUEST_TIMEOUT_MS", 10_000, 1, 600_000),
    headersTimeoutMs: integer(env, "HTTP_HEADERS_TIMEOUT_MS", 10_000, 100, 600_000),
    maxConcurrentRequests: integer(env, "MAX_CONCURRENT_REQUESTS", 512, 1, 1_000_000),
    shutdownTimeoutMs: integer(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
    metricsToken: text(env, "METRICS_TOKEN"),
    corsAllowedOrigins: origins(env, "CORS_ALLOWED_ORIGINS"),
    logLevel,
  };
}
