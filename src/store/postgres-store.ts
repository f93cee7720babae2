import pg from "pg";
import { CSBS_PROVIDER } from "../domain/csbs-provider.js";
import type { CheckpointItem, Inventory } from "../domain/types.js";
import { createTimed } from "./create-timed.js";
import {
  clearingAfter,
  createFactsCache,
  type FetchedFacts,
  readThrough,
  type ServerFacts,
  STORE_CACHE_ENTRIES,
} from "./facts-cache.js";
import { groupBy } from "./group-by.js";
import { createPostgresBulkImport } from "./postgres-bulk-import.js";
import { type ChangeListener, createChangeListener, INVENTORY_CHANNEL } from "./postgres-change-listener.js";
import {
  type BackupRow,
  type ItemRow,
  type ServerRow,
  toCheckpointItem,
  toServer,
  toVolume,
  toVolumeBackup,
  type VolumeRow,
} from "./rows.js";
import {
  type CheckLookup,
  type InventoryCounts,
  type InventoryDeletes,
  type QueryObserver,
  type Store,
  StoreUnavailableError,
} from "./store.js";

export interface PostgresStoreOptions {
  /** A postgres:// URL (libpq-style parameters such as sslmode are honoured by `pg`). */
  url: string;
  onQuery?: QueryObserver;
  /** Longest wait for a connection (new or from the pool) before a call fails (DB_CONNECT_TIMEOUT_MS). Unset: no limit. */
  dbConnectTimeoutMs?: number | undefined;
  /** Longest time one statement may run: server statement_timeout and client read timeout (DB_QUERY_TIMEOUT_MS). Unset: no limit. */
  dbQueryTimeoutMs?: number | undefined;
  /** Most connections the pool opens (DB_POOL_MAX). Unset: pg's default. */
  dbPoolMax?: number | undefined;
  /** Told of errors no caller is waiting for (an idle connection dropped by the server). */
  onBackgroundError?: (error: Error) => void;
  /**
   * Most checkpoint items, and most servers, whose rows the hot path keeps between checks
   * (STORE_CACHE_ENTRIES, default 10,000; 0: none, and no listening connection). Kept only
   * while this instance LISTENs for the inventory triggers' notifications.
   */
  cacheEntries?: number | undefined;
}

/** Id columns compare and sort bytewise, as in SQLite. */
const ID = 'TEXT COLLATE "C" NOT NULL';

/** Versioned schema; each entry runs once, in order, in its own transaction, under the advisory lock. */
const MIGRATIONS: ReadonlyArray<string> = [
  `CREATE TABLE providers (id ${ID} PRIMARY KEY, name TEXT NOT NULL);
   INSERT INTO providers (id, name) VALUES ('${CSBS_PROVIDER.id}', '${CSBS_PROVIDER.name}');
   CREATE TABLE checkpoint_items (
     project_id ${ID}, id ${ID}, provider_id ${ID}, checkpoint_id TEXT NOT NULL,
     resource_id TEXT NOT NULL, resource_type TEXT NOT NULL, status TEXT NOT NULL, resource_az TEXT NOT NULL,
     supported_restore_mode TEXT NOT NULL,
     PRIMARY KEY (project_id, id));
   CREATE TABLE volume_backups (
     project_id ${ID}, checkpoint_item_id ${ID}, position INTEGER NOT NULL, id TEXT NOT NULL,
     source_volume_id TEXT NOT NULL, source_volume_size INTEGER NOT NULL, bootable BOOLEAN NOT NULL,
     status TEXT NOT NULL,
     PRIMARY KEY (project_id, checkpoint_item_id, position));
   CREATE TABLE servers (
     project_id ${ID}, id ${ID}, type TEXT NOT NULL, status TEXT NOT NULL,
     availability_zone TEXT NOT NULL, restore_supported BOOLEAN NOT NULL, backup_supported BOOLEAN NOT NULL,
     restoring BOOLEAN NOT NULL, policy_id TEXT,
     PRIMARY KEY (project_id, id));
   CREATE TABLE volumes (
     project_id ${ID}, id ${ID}, server_id TEXT COLLATE "C", size INTEGER NOT NULL, bootable BOOLEAN NOT NULL,
     shareable BOOLEAN NOT NULL, status TEXT NOT NULL,
     PRIMARY KEY (project_id, id));
   CREATE INDEX volumes_by_server ON volumes (project_id, server_id, id);`,
  // Every statement that changes the inventory, by any writer (the service, an import, SQL by
  // hand), notifies at commit, so every instance empties its cache (postgres-change-listener.ts).
  `CREATE FUNCTION csbs_inventory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_notify('${INVENTORY_CHANNEL}', '');
     RETURN NULL;
   END $$;
   ${["providers", "checkpoint_items", "volume_backups", "servers", "volumes"]
     .map(
       (table) => `CREATE TRIGGER csbs_inventory_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table}
     FOR EACH STATEMENT EXECUTE FUNCTION csbs_inventory_changed();`,
     )
     .join("\n   ")}`,
];

/** Serializes schema migrations of every instance sharing the database. */
const MIGRATION_LOCK = "SELECT pg_advisory_lock(hashtext('restorability-service.schema_migrations'))";
const MIGRATION_UNLOCK = "SELECT pg_advisory_unlock(hashtext('restorability-service.schema_migrations'))";
const MIGRATION_TIMEOUT_MS = 60_000;

/** The hot-path lookups: named, so each connection parses and plans them once. */
const LOOKUPS = {
  provider: { name: "csbs_provider", text: "SELECT id FROM providers WHERE id = $1" },
  items: {
    name: "csbs_checkpoint_items",
    text: `SELECT project_id, id, provider_id, checkpoint_id, resource_id, resource_type, status, resource_az,
             supported_restore_mode
           FROM checkpoint_items WHERE project_id = $1 AND provider_id = $2 AND id = ANY($3::text[])`,
  },
  backups: {
    name: "csbs_volume_backups",
    text: `SELECT checkpoint_item_id, id, source_volume_id, source_volume_size, bootable, status FROM volume_backups
           WHERE project_id = $1 AND checkpoint_item_id = ANY($2::text[]) ORDER BY checkpoint_item_id, position`,
  },
  servers: {
    name: "csbs_servers",
    text: `SELECT project_id, id, type, status, availability_zone, restore_supported, backup_supported, restoring,
             policy_id
           FROM servers WHERE project_id = $1 AND id = ANY($2::text[])`,
  },
  volumes: {
    name: "csbs_volumes",
    text: `SELECT project_id, id, server_id, size, bootable, shareable, status FROM volumes
           WHERE project_id = $1 AND server_id = ANY($2::text[]) ORDER BY server_id, id`,
  },
} as const;

/**
 * The hot path (lookUp) in one statement, so one round trip: the provider's existence and,
 * as JSON arrays of rows (the same columns as the lookups above), the items, their backups,
 * the servers and the volumes attached to them. `ids` is how the item ($3) and server ($4)
 * ids are matched: a list (`= ANY`), or one id (`=`, the common single-entry check; null: none).
 * The single-id form gets a generic plan after PostgreSQL's first five executions of it on a
 * connection, so it is not planned again; the list form is planned at every execution (with
 * `= ANY` of a parameter PostgreSQL keeps custom plans: measured 0.31 ms of planning for 0.09 ms
 * of execution, on the 10k-item inventory), which a batch's entries share.
 */
function checkLookup(ids: "one" | "list") {
  const match = (param: string) => (ids === "one" ? `= ${param}::text` : `= ANY(${param}::text[])`);
  // One column, one JSON value: the driver builds one field and parses one text per check.
  // The backups are those of the asked ids, whatever their item's provider: a backup whose item
  // is not in `items` (another provider's) is dropped when they are joined (fetchFacts), as
  // getCheckpointItems does; no second probe of checkpoint_items (~6 µs of the backend's ~85).
  return {
    name: `csbs_check_lookup_${ids}`,
    text: `SELECT json_build_object(
    'known', EXISTS (SELECT 1 FROM providers WHERE id = $2),
    'items', (SELECT json_agg(i) FROM (${LOOKUPS.items.text.replace("= ANY($3::text[])", match("$3"))}) i),
    'backups', (SELECT json_agg(b ORDER BY b.checkpoint_item_id, b.position) FROM (
       SELECT checkpoint_item_id, position, id, source_volume_id, source_volume_size, bootable, status
       FROM volume_backups WHERE project_id = $1 AND checkpoint_item_id ${match("$3")}) b),
    'servers', (SELECT json_agg(s) FROM (${LOOKUPS.servers.text.replace("= ANY($2::text[])", match("$4"))}) s),
    'volumes', (SELECT json_agg(v ORDER BY v.server_id, v.id) FROM (
       SELECT project_id, id, server_id, size, bootable, shareable, status FROM volumes
       WHERE project_id = $1 AND server_id ${match("$4")}) v)
  ) AS facts`,
  } as const;
}
const CHECK_LOOKUP_ONE = checkLookup("one");
const CHECK_LOOKUP_LIST = checkLookup("list");

/** What the check lookup's one column holds. */
interface CheckLookupFacts {
  known: boolean;
  items: ItemRow[] | null;
  backups: BackupRow[] | null;
  servers: ServerRow[] | null;
  volumes: VolumeRow[] | null;
}

const RESTORE_TABLES = ["providers", "checkpoint_items", "volume_backups", "servers", "volumes"] as const;
const PROTECT_TABLES = ["providers", "servers", "volumes"] as const;

/** Batched writes: one statement per table, whatever the number of records (arrays through unnest). */
const WRITES = {
  upsertItems: `INSERT INTO checkpoint_items (project_id, id, provider_id, checkpoint_id, resource_id, resource_type,
      status, resource_az, supported_restore_mode)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
      $8::text[], $9::text[])
    ON CONFLICT (project_id, id) DO UPDATE SET provider_id = excluded.provider_id,
      checkpoint_id = excluded.checkpoint_id, resource_id = excluded.resource_id,
      resource_type = excluded.resource_type, status = excluded.status, resource_az = excluded.resource_az,
      supported_restore_mode = excluded.supported_restore_mode`,
  deleteBackupsOf: `DELETE FROM volume_backups b USING unnest($1::text[], $2::text[]) AS k(project_id, item_id)
    WHERE b.project_id = k.project_id AND b.checkpoint_item_id = k.item_id`,
  insertBackups: `INSERT INTO volume_backups (project_id, checkpoint_item_id, position, id, source_volume_id,
      source_volume_size, bootable, status)
    SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[], $7::bool[],
      $8::text[])`,
  upsertServers: `INSERT INTO servers (project_id, id, type, status, availability_zone, restore_supported,
      backup_supported, restoring, policy_id)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::bool[],
      $8::bool[], $9::text[])
    ON CONFLICT (project_id, id) DO UPDATE SET type = excluded.type, status = excluded.status,
      availability_zone = excluded.availability_zone, restore_supported = excluded.restore_supported,
      backup_supported = excluded.backup_supported, restoring = excluded.restoring, policy_id = excluded.policy_id`,
  upsertVolumes: `INSERT INTO volumes (project_id, id, server_id, size, bootable, shareable, status)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bool[], $6::bool[], $7::text[])
    ON CONFLICT (project_id, id) DO UPDATE SET server_id = excluded.server_id, size = excluded.size,
      bootable = excluded.bootable, shareable = excluded.shareable, status = excluded.status`,
  deleteBackups: "DELETE FROM volume_backups WHERE project_id = $1 AND checkpoint_item_id = ANY($2::text[])",
  deleteItems: "DELETE FROM checkpoint_items WHERE project_id = $1 AND id = ANY($2::text[])",
  deleteServers: "DELETE FROM servers WHERE project_id = $1 AND id = ANY($2::text[])",
  deleteVolumes: "DELETE FROM volumes WHERE project_id = $1 AND id = ANY($2::text[])",
} as const;

/** Attempts of a write that lost a deadlock or serialization race to another instance. */
const WRITE_ATTEMPTS = 3;

/**
 * The shared store for several instances: a `pg` pool, versioned migrations under an
 * advisory lock, every lookup one `= ANY($1)` query per table. Every call is bounded by the
 * connect timeout plus the query timeout; an unreachable database is a StoreUnavailableError,
 * and the pool reconnects by itself when the database returns.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const { dbConnectTimeoutMs, dbQueryTimeoutMs } = options;
  const pool = new pg.Pool({
    connectionString: options.url,
    ...(options.dbPoolMax !== undefined ? { max: options.dbPoolMax } : {}),
    ...(dbConnectTimeoutMs !== undefined ? { connectionTimeoutMillis: dbConnectTimeoutMs } : {}),
    // The server cancels a slow statement; the client gives up a little later if the server
    // does not answer at all (network loss, a stopped host).
    ...(dbQueryTimeoutMs !== undefined
      ? {
          statement_timeout: dbQueryTimeoutMs,
          query_timeout: dbQueryTimeoutMs + 250,
          lock_timeout: dbQueryTimeoutMs,
          idle_in_transaction_session_timeout: Math.max(10_000, 2 * dbQueryTimeoutMs),
        }
      : {}),
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: "restorability-service",
  });
  // An idle connection the server drops (restart, failover) is reported here, not thrown:
  // the pool has already discarded it and opens a new one on the next call.
  pool.on("error", (error) => options.onBackgroundError?.(error));

  try {
    await migrate(pool);
  } catch (error) {
    await pool.end().catch(() => {});
    throw toStoreError(error);
  }

  const timed = createTimed(options.onQuery, toStoreError);
  const cacheEntries = options.cacheEntries ?? STORE_CACHE_ENTRIES;
  const cache = createFactsCache({ maxEntries: cacheEntries });
  let listener: ChangeListener | undefined;
  if (cacheEntries > 0) {
    listener = await createChangeListener({
      url: options.url,
      onChange: cache.clear,
      onError: (error) => options.onBackgroundError?.(error),
      connectTimeoutMs: dbConnectTimeoutMs,
    });
  }
  const mayKeep = () => listener?.listening === true;

  /** The hot path's one statement, for what the cache lacks. */
  async function fetchFacts(
    { projectId, providerId, checkpointItemIds }: CheckLookup,
    itemIds: string[],
    serverIds: string[],
  ): Promise<FetchedFacts> {
    const tables = checkpointItemIds.length > 0 ? RESTORE_TABLES : PROTECT_TABLES;
    const one = itemIds.length <= 1 && serverIds.length <= 1;
    const statement = one ? CHECK_LOOKUP_ONE : CHECK_LOOKUP_LIST;
    const values = one
      ? [projectId, providerId, itemIds[0] ?? null, serverIds[0] ?? null]
      : [projectId, providerId, itemIds, serverIds];
    const row = await timed(
      tables,
      async () => (await pool.query<{ facts: CheckLookupFacts }>({ ...statement, values })).rows[0]!.facts,
    );
    const fetched: FetchedFacts = { providerKnown: row.known, items: new Map(), servers: new Map() };
    const backups = groupBy(row.backups ?? [], (b) => b.checkpoint_item_id, toVolumeBackup);
    for (const r of row.items ?? []) fetched.items.set(r.id, toCheckpointItem(r, backups.get(r.id) ?? []));
    const serverFacts = (id: string): ServerFacts => {
      let found = fetched.servers.get(id);
      if (found === undefined) {
        found = { server: undefined, volumes: [] };
        fetched.servers.set(id, found);
      }
      return found;
    };
    for (const r of row.servers ?? []) serverFacts(r.id).server = toServer(r);
    for (const r of row.volumes ?? []) serverFacts(r.server_id!).volumes.push(toVolume(r));
    return fetched;
  }

  async function lookup<R extends pg.QueryResultRow>(
    table: string,
    statement: { name: string; text: string },
    values: unknown[],
  ): Promise<R[]> {
    return timed(table, async () => (await pool.query<R>({ ...statement, values })).rows);
  }

  let closed: Promise<void> | undefined;
  return {
    kind: "postgres",
    lookUp(check) {
      return readThrough(cache, check, (itemIds, serverIds) => fetchFacts(check, itemIds, serverIds), mayKeep);
    },
    async hasProvider(providerId) {
      return (await lookup("providers", LOOKUPS.provider, [providerId])).length > 0;
    },
    async getCheckpointItems(projectId, providerId, ids) {
      const items = new Map<string, CheckpointItem>();
      if (ids.length === 0) return items;
      const idList = [...ids];
      // Both in parallel: backups of an item of another provider are fetched and dropped.
      const [rows, backupRows] = await Promise.all([
        lookup<ItemRow>("checkpoint_items", LOOKUPS.items, [projectId, providerId, idList]),
        lookup<BackupRow>("volume_backups", LOOKUPS.backups, [projectId, idList]),
      ]);
      const backups = groupBy(backupRows, (b) => b.checkpoint_item_id, toVolumeBackup);
      for (const r of rows) items.set(r.id, toCheckpointItem(r, backups.get(r.id) ?? []));
      return items;
    },
    async getServers(projectId, ids) {
      if (ids.length === 0) return new Map();
      const rows = await lookup<ServerRow>("servers", LOOKUPS.servers, [projectId, [...ids]]);
      return new Map(rows.map((r) => [r.id, toServer(r)]));
    },
    async getAttachedVolumes(projectId, serverIds) {
      if (serverIds.length === 0) return new Map();
      const rows = await lookup<VolumeRow>("volumes", LOOKUPS.volumes, [projectId, [...serverIds]]);
      return groupBy(rows, (r) => r.server_id!, toVolume);
    },
    async write(upserts, deletes = []) {
      return timed("inventory", async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await inTransaction(pool, (client) => writeAll(client, upserts, deletes));
          } catch (error) {
            if (attempt >= WRITE_ATTEMPTS || !isRetryable(error)) throw error;
          } finally {
            // This instance's write is seen by its next check, before the notification arrives.
            cache.clear();
          }
        }
      });
    },
    openBulkImport() {
      return createPostgresBulkImport({ url: options.url, dbConnectTimeoutMs }).then(
        (bulk) => clearingAfter(bulk, cache),
        (error: unknown) => {
          throw toStoreError(error);
        },
      );
    },
    cacheStats: () => cache.stats(),
    async ping() {
      await timed("ping", () => pool.query("SELECT 1"));
    },
    close() {
      closed ??= Promise.all([listener?.close(), pool.end()]).then(() => {});
      return closed;
    },
  };
}

/** Runs `body` in BEGIN/COMMIT on one pooled connection; a broken connection is discarded. */
async function inTransaction<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // While checked out, the pool does not listen for the connection's errors: do it here,
  // or a connection lost between two statements would crash the process.
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const result = await body(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    if (toStoreError(error) instanceof StoreUnavailableError) {
      // A lost or unresponsive connection: no ROLLBACK round trip, just discard it (the
      // server rolls back when the session ends).
      broken ??= error as Error;
    } else {
      broken ??= await client.query("ROLLBACK").then(
        () => undefined,
        (rollbackError: Error) => rollbackError,
      );
    }
    throw error;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

/** Keeps the last record of each (project_id, id), sorted by key so that concurrent writers lock rows in one order. */
function lastByKey<T extends { projectId: string; id: string }>(records: ReadonlyArray<T>): T[] {
  const byKey = new Map<string, T>();
  for (const r of records) byKey.set(`${r.projectId}\u0000${r.id}`, r);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

/** The records as one array per column, for `unnest`. */
function columns<T>(records: ReadonlyArray<T>, pick: ReadonlyArray<(r: T) => unknown>): unknown[][] {
  return pick.map((f) => records.map(f));
}

async function writeAll(
  client: pg.PoolClient,
  upserts: Inventory,
  deletes: ReadonlyArray<InventoryDeletes>,
): Promise<InventoryCounts> {
  const counts: InventoryCounts = {
    checkpointItems: upserts.checkpointItems.length,
    servers: upserts.servers.length,
    volumes: upserts.volumes.length,
  };
  const items = lastByKey(upserts.checkpointItems);
  if (items.length > 0) {
    await client.query(
      WRITES.upsertItems,
      columns(items, [
        (c) => c.projectId,
        (c) => c.id,
        (c) => c.providerId,
        (c) => c.checkpointId,
        (c) => c.resourceId,
        (c) => c.resourceType,
        (c) => c.status,
        (c) => c.resourceAz,
        (c) => c.supportedRestoreMode,
      ]),
    );
    await client.query(WRITES.deleteBackupsOf, [items.map((c) => c.projectId), items.map((c) => c.id)]);
    const backups = items.flatMap((c) => c.volumeBackups.map((b, position) => ({ item: c, position, b })));
    if (backups.length > 0) {
      await client.query(
        WRITES.insertBackups,
        columns(backups, [
          (x) => x.item.projectId,
          (x) => x.item.id,
          (x) => x.position,
          (x) => x.b.id,
          (x) => x.b.sourceVolumeId,
          (x) => x.b.sourceVolumeSize,
          (x) => x.b.bootable,
          (x) => x.b.status,
        ]),
      );
    }
  }
  const servers = lastByKey(upserts.servers);
  if (servers.length > 0) {
    await client.query(
      WRITES.upsertServers,
      columns(servers, [
        (s) => s.projectId,
        (s) => s.id,
        (s) => s.type,
        (s) => s.status,
        (s) => s.availabilityZone,
        (s) => s.restoreSupported,
        (s) => s.backupSupported,
        (s) => s.restoring,
        (s) => s.policyId,
      ]),
    );
  }
  const volumes = lastByKey(upserts.volumes);
  if (volumes.length > 0) {
    await client.query(
      WRITES.upsertVolumes,
      columns(volumes, [
        (v) => v.projectId,
        (v) => v.id,
        (v) => v.serverId,
        (v) => v.size,
        (v) => v.bootable,
        (v) => v.shareable,
        (v) => v.status,
      ]),
    );
  }
  for (const d of deletes) {
    if (d.checkpointItemIds.length > 0) {
      const ids = [...d.checkpointItemIds];
      await client.query(WRITES.deleteBackups, [d.projectId, ids]);
      counts.checkpointItems += (await client.query(WRITES.deleteItems, [d.projectId, ids])).rowCount ?? 0;
    }
    if (d.serverIds.length > 0) {
      counts.servers += (await client.query(WRITES.deleteServers, [d.projectId, [...d.serverIds]])).rowCount ?? 0;
    }
    if (d.volumeIds.length > 0) {
      counts.volumes += (await client.query(WRITES.deleteVolumes, [d.projectId, [...d.volumeIds]])).rowCount ?? 0;
    }
  }
  return counts;
}

/** Applies the migrations not yet applied, one instance at a time (advisory lock). */
async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on("error", onError);
  // `query_timeout` per query is supported by pg's Client, though not in its types.
  const run = (text: string, values?: unknown[]): Promise<pg.QueryResult> =>
    client.query({ text, values, query_timeout: MIGRATION_TIMEOUT_MS } as pg.QueryConfig);
  try {
    // Waiting for another instance's migration may take longer than one query.
    await run(`SET statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
    await run(`SET lock_timeout = ${MIGRATION_TIMEOUT_MS}`);
    await run(MIGRATION_LOCK);
    try {
      await run(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
      );
      const { rows } = await run("SELECT coalesce(max(version), 0) AS v FROM schema_migrations");
      const applied = Number((rows[0] as { v: number }).v);
      for (const [index, sql] of MIGRATIONS.entries()) {
        const version = index + 1;
        if (version <= applied) continue;
        await run("BEGIN");
        try {
          await run(sql);
          await run("INSERT INTO schema_migrations (version) VALUES ($1)", [version]);
          await run("COMMIT");
        } catch (error) {
          await run("ROLLBACK").catch(() => {});
          throw error;
        }
      }
    } finally {
      await run(MIGRATION_UNLOCK).catch(() => {});
    }
  } catch (error) {
    broken ??= error as Error;
    throw error;
  } finally {
    client.off("error", onError);
    // The session's SET values must not leak into the pool: always discard this connection.
    client.release(broken ?? true);
  }
}

/** SQLSTATE classes that mean "the database cannot serve this now", not "this request is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|28|3D|40|53|55P03|57|58)/;
const UNAVAILABLE_ERRNO = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ENOENT",
]);
const UNAVAILABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated|Query read timeout|not queryable|Cannot use a pool after calling end|Client was closed/i;

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "40001" || code === "40P01";
}

function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const sqlstate = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  const unavailable =
    (sqlstate !== undefined && UNAVAILABLE_SQLSTATE.test(sqlstate)) ||
    (typeof code === "string" && UNAVAILABLE_ERRNO.has(code)) ||
    (sqlstate === undefined && UNAVAILABLE_MESSAGE.test(message)) ||
    (error instanceof AggregateError && error.errors.some((e) => toStoreError(e) instanceof StoreUnavailableError));
  return unavailable ? new StoreUnavailableError(`postgres: ${message}`, { cause: error }) : error;
}
