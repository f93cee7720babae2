/**
 * Every environment variable the service reads, with its default, its bounds and what it
 * means: the one place a default is written. `loadConfig` reads through this table, and the
 * README's configuration table is rendered from it (`npm run docs:settings`; a test fails
 * when the README is stale).
 */
export interface IntegerSetting {
  readonly kind: "integer";
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly meaning: string;
}

export interface TextSetting {
  readonly kind: "text";
  /** Undefined: unset unless given (the README shows "—", or `shownDefault`). */
  readonly default: string | undefined;
  /** What the README shows as the default, when it is not the value itself. */
  readonly shownDefault?: string;
  readonly meaning: string;
}

export type Setting = IntegerSetting | TextSetting;

const integer = (def: number, min: number, max: number, meaning: string): IntegerSetting => ({
  kind: "integer",
  default: def,
  min,
  max,
  meaning,
});
const text = (def: string | undefined, meaning: string, shownDefault?: string): TextSetting => ({
  kind: "text",
  default: def,
  meaning,
  ...(shownDefault !== undefined ? { shownDefault } : {}),
});

export const SETTINGS = {
  HOST: text("127.0.0.1", "listen address of both ports"),
  HTTP_PORT: integer(8080, 0, 65535, "REST gateway, Connect, gRPC-Web, probes, metrics (HTTP/1.1)"),
  GRPC_PORT: integer(50051, 0, 65535, "gRPC (h2c), reflection, health"),
  DATABASE_URL: text("data/restorability.db", "a SQLite file path or `sqlite:PATH`, or a `postgres://` URL"),
  STORE_CACHE_ENTRIES: integer(
    10_000,
    0,
    10_000_000,
    "most checkpoint items, and most servers, whose rows are kept in memory between checks (a repeated check reads no rows). Emptied whenever the database changes: SQLite at this instance's writes and at any other process's commit (PRAGMA data_version); PostgreSQL at this instance's writes and at every commit to the inventory's tables, by any writer (triggers notify every instance; while an instance cannot listen, it reads every check from the database). About 1.3 KB of heap each, so the default holds at most about 25 MB; 0 turns it off",
  ),
  SQLITE_MMAP_MB: integer(
    2048,
    0,
    1_048_576,
    "SQLite: MiB of the database read through a memory mapping (faster lookups on large inventories: the whole file up to SQLite's 2 GiB cap; mapped pages are file-backed, they count in RSS but not in anonymous memory; 0 turns it off)",
  ),
  DB_CONNECT_TIMEOUT_MS: integer(2000, 100, 60_000, "PostgreSQL: longest wait for a pooled or new connection"),
  DB_QUERY_TIMEOUT_MS: integer(
    5000,
    100,
    600_000,
    "PostgreSQL: longest time one statement may take (server `statement_timeout`; the client gives up 250 ms later)",
  ),
  DB_POOL_MAX: integer(10, 1, 1000, "PostgreSQL: connections per instance"),
  INVENTORY_FILE: text(
    undefined,
    "JSON inventory upserted at start (one transaction)",
    "— (`npm start`: the demo inventory)",
  ),
  AUTH_JWT_SECRET: text(undefined, "HS256 secret (≥ 32 bytes; its UTF-8 bytes are the key)"),
  AUTH_JWKS_FILE: text(undefined, "asymmetric keys (RS/PS/ES/EdDSA) from a JWKS file"),
  AUTH_JWKS_URL: text(undefined, "asymmetric keys (RS/PS/ES/EdDSA) from a JWKS URL (http or https)"),
  AUTH_ISSUER: text(undefined, "the token's `iss`, checked when set"),
  AUTH_AUDIENCE: text(undefined, "the token's `aud`, checked when set"),
  AUTH_CLOCK_TOLERANCE_SECONDS: integer(30, 0, 300, "tolerated clock skew for `exp` and `nbf`"),
  AUTH_JWKS_COOLDOWN_SECONDS: integer(
    30,
    0,
    3600,
    "least time between refetches of `AUTH_JWKS_URL` on an unknown `kid`",
  ),
  AUTH_CACHE_SIZE: integer(10_000, 0, 10_000_000, "verified tokens remembered (0: verify every call)"),
  AUTH_CACHE_TTL_SECONDS: integer(
    60,
    1,
    3600,
    "longest time a verified token is trusted without verifying it again (never past its `exp`); with `AUTH_JWKS_URL`, also the longest a key removed from the URL is still accepted (the key set and verified tokens are each kept half of it)",
  ),
  AUTH_MAX_TOKEN_TTL_SECONDS: integer(
    86_400,
    60,
    31_536_000,
    "longest token lifetime accepted (`exp - iat`, or `exp - now` without `iat`); longer-lived tokens are 401",
  ),
  AUTH_DEV: integer(
    0,
    0,
    1,
    "1: with none of the three key sources set, use a generated development secret (`npm start` sets it; NOT for production). 0: the service refuses to start without a key source",
  ),
  AUTH_DEV_SECRET_FILE: text(
    "data/dev-jwt-secret",
    "where the development secret is kept (`AUTH_DEV=1`); an existing file readable by others is set to 0600 with a warning",
  ),
  DEMO_PROJECT_ID: text("demo-project", "project of the development token (1–64 of `[A-Za-z0-9-]`)"),
  MAX_CHECK_ITEMS: integer(100, 1, 10_000, "entries per request"),
  MAX_VOLUMES: integer(64, 1, 1024, "volume mappings per target"),
  MAX_BODY_BYTES: integer(1024 * 1024, 1024, 64 * 1024 * 1024, "largest request body / gRPC message"),
  REQUEST_TIMEOUT_MS: integer(10_000, 1, 600_000, "server-side maximum per call (a shorter client deadline wins)"),
  MAX_CONCURRENT_REQUESTS: integer(512, 1, 1_000_000, "calls in flight above which new ones get 503 CSBS.9998 at once"),
  HTTP_HEADERS_TIMEOUT_MS: integer(
    10_000,
    100,
    600_000,
    "time allowed for a request's headers (slow-loris protection; 408 and close)",
  ),
  GRPC_MESSAGE_TIMEOUT_MS: integer(
    10_000,
    100,
    600_000,
    "gRPC port: time allowed for a call's request message after its headers (DEADLINE_EXCEEDED and the stream closes)",
  ),
  GRPC_KEEPALIVE_TIME_MS: integer(
    60_000,
    1000,
    86_400_000,
    "gRPC port: an HTTP/2 ping after this long without traffic",
  ),
  GRPC_KEEPALIVE_TIMEOUT_MS: integer(
    20_000,
    1000,
    600_000,
    "gRPC port: a connection whose ping is not answered within this is closed",
  ),
  GRPC_MAX_CONNECTION_IDLE_MS: integer(
    300_000,
    1000,
    86_400_000,
    "gRPC port: a connection without calls for this long is closed (GOAWAY)",
  ),
  GRPC_MAX_CONNECTION_AGE_MS: integer(
    1_800_000,
    1000,
    604_800_000,
    "gRPC port: a connection is asked to close (GOAWAY) after this long, so clients rebalance",
  ),
  GRPC_MAX_CONNECTION_AGE_GRACE_MS: integer(
    30_000,
    0,
    600_000,
    "gRPC port: time the calls of a connection past its age get before it is closed",
  ),
  SHUTDOWN_DELAY_MS: integer(
    0,
    0,
    600_000,
    "after SIGTERM/SIGINT: time still serving while not ready (load balancers stop sending); Kubernetes: ≥ 5000 with a preStop sleep, see docs/deploy.md",
  ),
  SHUTDOWN_TIMEOUT_MS: integer(
    10_000,
    0,
    600_000,
    "from the signal: budget for delay + drain, then connections left are closed by force (logged with a count)",
  ),
  STORE_CONNECT_TIMEOUT_MS: integer(
    30_000,
    0,
    600_000,
    "PostgreSQL unreachable at start: retried with backoff this long, then start-up fails (0: one attempt)",
  ),
  METRICS_TOKEN: text(undefined, "when set, `/metrics` needs `Authorization: Bearer <token>`"),
  CORS_ALLOWED_ORIGINS: text(
    undefined,
    "comma-separated origins (`https://app.example.com`) or `*` allowed to call the HTTP port from a browser; unset: CORS off",
  ),
  LOG_LEVEL: text("info", "pino level (`fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`)"),
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** The README's configuration table (Markdown), rendered from SETTINGS. */
export function renderSettingsTable(): string {
  const rows = Object.entries(SETTINGS).map(([name, s]: [string, Setting]) => {
    const shown =
      s.kind === "integer"
        ? `\`${s.default}\``
        : (s.shownDefault ?? (s.default === undefined ? "—" : `\`${s.default}\``));
    const range = s.kind === "integer" ? `${s.min}–${s.max}` : "";
    return `| \`${name}\` | ${shown} | ${range} | ${s.meaning} |`;
  });
  return ["| variable | default | range | meaning |", "|---|---|---|---|", ...rows].join("\n");
}
