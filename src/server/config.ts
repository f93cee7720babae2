import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { AuthConfig } from "../auth/auth-config.js";
import { PROJECT_ID } from "../domain/id-patterns.js";
import type { DatabaseConfig } from "../store/create-store.js";
import { type IntegerSetting, SETTINGS, type SettingName } from "./settings.js";

export type { AuthConfig } from "../auth/auth-config.js";

/** The service's configuration; each field is named after its variable (see settings.ts). */
export interface Config {
  host: string;
  httpPort: number;
  grpcPort: number;
  database: DatabaseConfig;
  dbConnectTimeoutMs: number;
  dbQueryTimeoutMs: number;
  dbPoolMax: number;
  sqliteMmapMb: number;
  storeCacheEntries: number;
  inventoryFile: string | undefined;
  auth: AuthConfig;
  demoProjectId: string;
  maxCheckItems: number;
  maxVolumes: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  httpHeadersTimeoutMs: number;
  maxConcurrentRequests: number;
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
  grpcMessageTimeoutMs: number;
  grpcKeepaliveTimeMs: number;
  grpcKeepaliveTimeoutMs: number;
  grpcMaxConnectionIdleMs: number;
  grpcMaxConnectionAgeMs: number;
  grpcMaxConnectionAgeGraceMs: number;
  storeConnectTimeoutMs: number;
  metricsToken: string | undefined;
  corsAllowedOrigins: string[];
  logLevel: string;
}

export interface ConfigProblem {
  readonly variable: string;
  readonly reason: string;
}

/** Variables with values the service cannot start with: all of them, one line each. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** The first variable named (the only one, usually). */
  readonly variable: string;
  readonly problems: readonly ConfigProblem[];
  constructor(variable: string, reason: string);
  constructor(problems: readonly ConfigProblem[]);
  constructor(first: string | readonly ConfigProblem[], reason?: string) {
    const problems = typeof first === "string" ? [{ variable: first, reason: reason ?? "" }] : first;
    super(problems.map((p) => `${p.variable}: ${p.reason}`).join("\n"));
    this.problems = problems;
    this.variable = problems[0]?.variable ?? "";
  }
}

type Env = Readonly<Record<string, string | undefined>>;
type IntegerName = { [K in SettingName]: (typeof SETTINGS)[K] extends IntegerSetting ? K : never }[SettingName];
type TextName = Exclude<SettingName, IntegerName>;

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

/**
 * Reads the environment once into a typed configuration, through the settings table (the
 * one place defaults and bounds are written). Every bad value is reported, not only the
 * first: one ConfigError naming each variable.
 */
export interface LoadOptions {
  /**
   * Entry points that serve or mint tokens: no key source and no `AUTH_DEV=1` is a
   * problem (named with the others). Without it the auth mode is `none`.
   */
  requireAuth?: boolean;
}

/** The one line printed when a serving entry point has no key source. */
export const NO_AUTH_REASON =
  "no auth configured: set AUTH_JWT_SECRET, AUTH_JWKS_FILE or AUTH_JWKS_URL (or AUTH_DEV=1 for a development secret, never in production)";

export function loadConfig(env: Env = process.env, options: LoadOptions = {}): Config {
  const problems: ConfigProblem[] = [];
  const fail = (variable: string, reason: string) => problems.push({ variable, reason });

  function integer(name: IntegerName): number {
    const s: IntegerSetting = SETTINGS[name];
    const raw = env[name];
    if (raw === undefined || raw === "") return s.default;
    if (!/^\d+$/.test(raw)) {
      fail(name, `must be a whole number, got "${raw}"`);
      return s.default;
    }
    const value = Number(raw);
    if (value < s.min || value > s.max) {
      fail(name, `must be between ${s.min} and ${s.max}, got ${value}`);
      return s.default;
    }
    return value;
  }
  function optional(name: TextName): string | undefined {
    const raw = env[name];
    return raw === undefined || raw === "" ? SETTINGS[name].default : raw;
  }
  /** A text setting with a default: always a string. */
  function required(name: TextName): string {
    return optional(name) ?? "";
  }

  const secret = optional("AUTH_JWT_SECRET");
  const jwksFile = optional("AUTH_JWKS_FILE");
  const jwksUrl = optional("AUTH_JWKS_URL");
  const set = [secret && "AUTH_JWT_SECRET", jwksFile && "AUTH_JWKS_FILE", jwksUrl && "AUTH_JWKS_URL"].filter(Boolean);
  if (set.length > 1) fail(String(set[1]), `set only one of ${set.join(", ")}`);
  if (secret !== undefined && Buffer.byteLength(secret) < 32) fail("AUTH_JWT_SECRET", "must be at least 32 bytes");
  if (jwksUrl !== undefined && !/^https?:\/\//.test(jwksUrl)) fail("AUTH_JWKS_URL", "must be an http(s) URL");
  const checks = {
    issuer: optional("AUTH_ISSUER"),
    audience: optional("AUTH_AUDIENCE"),
    clockToleranceSeconds: integer("AUTH_CLOCK_TOLERANCE_SECONDS"),
    jwksCooldownSeconds: integer("AUTH_JWKS_COOLDOWN_SECONDS"),
    cacheSize: integer("AUTH_CACHE_SIZE"),
    cacheTtlSeconds: integer("AUTH_CACHE_TTL_SECONDS"),
    maxTokenTtlSeconds: integer("AUTH_MAX_TOKEN_TTL_SECONDS"),
  };
  const dev = integer("AUTH_DEV") === 1;
  const auth: AuthConfig = secret
    ? { mode: "hs256", secret, ...checks }
    : jwksFile
      ? { mode: "jwks-file", file: fromProject(jwksFile), ...checks }
      : jwksUrl
        ? { mode: "jwks-url", url: jwksUrl, ...checks }
        : dev
          ? { mode: "dev", secretFile: fromProject(required("AUTH_DEV_SECRET_FILE")), ...checks }
          : { mode: "none", ...checks };

  const logLevel = required("LOG_LEVEL");
  if (!LOG_LEVELS.has(logLevel)) fail("LOG_LEVEL", `must be one of ${[...LOG_LEVELS].join(", ")}`);
  const demoProjectId = required("DEMO_PROJECT_ID");
  if (!PROJECT_ID.test(demoProjectId)) fail("DEMO_PROJECT_ID", "must be 1-64 of [A-Za-z0-9-]");
  let database: DatabaseConfig = { kind: "sqlite", path: required("DATABASE_URL") };
  try {
    database = parseDatabaseUrl(required("DATABASE_URL"));
    if (database.kind === "sqlite" && database.path !== ":memory:") database.path = fromProject(database.path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  const corsAllowedOrigins = origins(optional("CORS_ALLOWED_ORIGINS"), fail);

  const config: Config = {
    host: required("HOST"),
    httpPort: integer("HTTP_PORT"),
    grpcPort: integer("GRPC_PORT"),
    database,
    dbConnectTimeoutMs: integer("DB_CONNECT_TIMEOUT_MS"),
    dbQueryTimeoutMs: integer("DB_QUERY_TIMEOUT_MS"),
    dbPoolMax: integer("DB_POOL_MAX"),
    sqliteMmapMb: integer("SQLITE_MMAP_MB"),
    storeCacheEntries: integer("STORE_CACHE_ENTRIES"),
    inventoryFile: optionalPath(optional("INVENTORY_FILE")),
    auth,
    demoProjectId,
    maxCheckItems: integer("MAX_CHECK_ITEMS"),
    maxVolumes: integer("MAX_VOLUMES"),
    maxBodyBytes: integer("MAX_BODY_BYTES"),
    requestTimeoutMs: integer("REQUEST_TIMEOUT_MS"),
    httpHeadersTimeoutMs: integer("HTTP_HEADERS_TIMEOUT_MS"),
    maxConcurrentRequests: integer("MAX_CONCURRENT_REQUESTS"),
    shutdownDelayMs: integer("SHUTDOWN_DELAY_MS"),
    shutdownTimeoutMs: integer("SHUTDOWN_TIMEOUT_MS"),
    grpcMessageTimeoutMs: integer("GRPC_MESSAGE_TIMEOUT_MS"),
    grpcKeepaliveTimeMs: integer("GRPC_KEEPALIVE_TIME_MS"),
    grpcKeepaliveTimeoutMs: integer("GRPC_KEEPALIVE_TIMEOUT_MS"),
    grpcMaxConnectionIdleMs: integer("GRPC_MAX_CONNECTION_IDLE_MS"),
    grpcMaxConnectionAgeMs: integer("GRPC_MAX_CONNECTION_AGE_MS"),
    grpcMaxConnectionAgeGraceMs: integer("GRPC_MAX_CONNECTION_AGE_GRACE_MS"),
    storeConnectTimeoutMs: integer("STORE_CONNECT_TIMEOUT_MS"),
    metricsToken: optional("METRICS_TOKEN"),
    corsAllowedOrigins,
    logLevel,
  };
  // Last, so a bad value elsewhere is still the first variable named.
  if (options.requireAuth && auth.mode === "none") fail("AUTH_JWT_SECRET", NO_AUTH_REASON);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * The project directory (the nearest folder above this file holding package.json): the
 * same from `src/` under tsx and from `dist/src/` under node, whatever the working directory.
 */
export const PROJECT_DIR = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

/** A relative path of a setting, resolved against the project directory, not the working directory. */
export function fromProject(path: string): string {
  return resolve(PROJECT_DIR, path);
}

function optionalPath(path: string | undefined): string | undefined {
  return path === undefined ? undefined : fromProject(path);
}

/** A comma-separated list of origins (`https://app.example.com`, `http://localhost:5173`) or `*`. */
function origins(raw: string | undefined, fail: (variable: string, reason: string) => void): string[] {
  const list = (raw ?? "")
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
      fail("CORS_ALLOWED_ORIGINS", `"${origin}" is not an origin (scheme://host[:port], no path) or *`);
    }
  }
  return list;
}
