import Database from "better-sqlite3";
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
import {
  type BackupRow,
  type ItemRow,
  SELECT,
  type ServerRow,
  toCheckpointItem,
  toPrefixedVolume,
  toPrefixedVolumeBackup,
  toServer,
  toVolume,
  toVolumeBackup,
  type VolumeRow,
} from "./rows.js";
import { createSqliteBulkImport } from "./sqlite-bulk-import.js";
import {
  type CheckLookup,
  type InventoryCounts,
  type InventoryDeletes,
  type QueryObserver,
  type Store,
  StoreUnavailableError,
} from "./store.js";
import { createWalChangeGate } from "./wal-change-gate.js";

export interface SqliteStoreOptions {
  /** A file path, or ":memory:". */
  path: string;
  onQuery?: QueryObserver;
  /** MiB of the file read through a memory mapping (SQLITE_MMAP_MB; 0 or unset: none). */
  sqliteMmapMb?: number | undefined;
  /**
   * Most checkpoint items, and most servers, whose rows the hot path keeps between checks
   * (src/store/facts-cache.ts; STORE_CACHE_ENTRIES, default 10,000; 0: none). Exact: kept
   * only until the database changes (this connection's writes, or another's commit).
   */
  cacheEntries?: number | undefined;
}

/** Versioned schema; each entry runs once, in order, in its own transaction. */
const MIGRATIONS: ReadonlyArray<string> = [
  `CREATE TABLE providers (id TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
   INSERT INTO providers (id, name) VALUES ('${CSBS_PROVIDER.id}', '${CSBS_PROVIDER.name}');
   CREATE TABLE checkpoint_items (
     project_id TEXT NOT NULL, id TEXT NOT NULL, provider_id TEXT NOT NULL, checkpoint_id TEXT NOT NULL,
     resource_id TEXT NOT NULL, resource_type TEXT NOT NULL, status TEXT NOT NULL, resource_az TEXT NOT NULL,
     supported_restore_mode TEXT NOT NULL,
     PRIMARY KEY (project_id, id)) WITHOUT ROWID;
   CREATE TABLE volume_backups (
     project_id TEXT NOT NULL, checkpoint_item_id TEXT NOT NULL, position INTEGER NOT NULL, id TEXT NOT NULL,
     source_volume_id TEXT NOT NULL, source_volume_size INTEGER NOT NULL, bootable INTEGER NOT NULL,
     status TEXT NOT NULL,
     PRIMARY KEY (project_id, checkpoint_item_id, position)) WITHOUT ROWID;
   CREATE TABLE servers (
     project_id TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,
     availability_zone TEXT NOT NULL, restore_supported INTEGER NOT NULL, backup_supported INTEGER NOT NULL,
     restoring INTEGER NOT NULL, policy_id TEXT,
     PRIMARY KEY (project_id, id)) WITHOUT ROWID;
   CREATE TABLE volumes (
     project_id TEXT NOT NULL, id TEXT NOT NULL, server_id TEXT, size INTEGER NOT NULL, bootable INTEGER NOT NULL,
     shareable INTEGER NOT NULL, status TEXT NOT NULL,
     PRIMARY KEY (project_id, id)) WITHOUT ROWID;
   CREATE INDEX volumes_by_server ON volumes (project_id, server_id, id);`,
];

/** A JSON array parameter expanded by `json_each`: one prepared statement for any number of ids. */
const IDS = "(SELECT value FROM json_each(?))";

/** A row of the joined item lookup: the item's columns, and one backup's as `b_<column>` (null: none). */
type ItemBackupRow = ItemRow & { b_id: string | null };
/** A row of the joined server lookup: the provider's existence, the requested id, the server's columns (null: no such server), one volume's as `v_<column>`. */
type ServerVolumeRow = ServerRow & { known: number; sid: string | null; v_id: string | null };

/** Tables read by the two hot-path statements (reported to `onQuery`, once each). */
const ITEM_TABLES = ["checkpoint_items", "volume_backups"] as const;
const SERVER_TABLES = ["providers", "servers", "volumes"] as const;

/** The embedded default store: one SQLite file, WAL, every lookup one indexed query. */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const db = new Database(options.path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  // Reads of a large inventory through the page mapping, not a pread per page. 100-entry batch
  // on 1M items (a 624 MB file), client p50 at concurrency 1, 3 interleaved runs: 7.5-7.7 ms
  // with 256 MiB mapped (the rest of the file read by pread), 5.3-5.6 ms with the whole file
  // (SQLITE_MMAP_MB's default, 2048: SQLite's cap). Mapped pages are file-backed: in RSS, not
  // in anonymous memory.
  db.pragma(`mmap_size = ${Math.max(0, Math.floor((options.sqliteMmapMb ?? 0) * 2 ** 20))}`);
  migrate(db);

  const timed = createTimed(options.onQuery, toStoreError);
  const cache = createFactsCache({ maxEntries: options.cacheEntries ?? STORE_CACHE_ENTRIES });
  // Changes when another connection (another process: `npm run import`, a second instance)
  // commits; this connection's own writes clear the cache where they are made. Asked only when
  // the WAL-index header moved (any commit moves it first): a pread instead of a read transaction.
  const dataVersion = db.prepare<[], number>("PRAGMA data_version").pluck();
  const walChanges = createWalChangeGate(
    db.pragma("journal_mode", { simple: true }) === "wal" ? mainDatabaseFile(db) : undefined,
  );
  const syncCache = () => {
    // Nothing to keep fresh when the cache is off (STORE_CACHE_ENTRIES=0).
    if (!cache.enabled || !walChanges.changed()) return;
    try {
      cache.sync(dataVersion.get()!);
    } catch (error) {
      throw toStoreError(error);
    }
  };

  const selectProvider = db.prepare<[string], { id: string }>("SELECT id FROM providers WHERE id = ?");
  const selectItems = db.prepare<[string, string, string], ItemRow>(
    `SELECT * FROM checkpoint_items WHERE project_id = ? AND provider_id = ? AND id IN ${IDS}`,
  );
  const selectBackups = db.prepare<[string, string], BackupRow>(
    `SELECT checkpoint_item_id, id, source_volume_id, source_volume_size, bootable, status FROM volume_backups
     WHERE project_id = ? AND checkpoint_item_id IN ${IDS} ORDER BY checkpoint_item_id, position`,
  );
  const selectServers = db.prepare<[string, string], ServerRow>(
    `SELECT * FROM servers WHERE project_id = ? AND id IN ${IDS}`,
  );
  const selectVolumes = db.prepare<[string, string], VolumeRow>(
    `SELECT * FROM volumes WHERE project_id = ? AND server_id IN ${IDS} ORDER BY server_id, id`,
  );

  // The hot path (lookUp): an item with its backups in one statement, the provider, a server
  // and its volumes in another; each in a form for one id (`= ?`, the common single-entry
  // check) and one for a JSON list.
  const itemsJoin = `SELECT ${SELECT.items}, ${SELECT.backups} FROM checkpoint_items i
     LEFT JOIN volume_backups b ON b.project_id = i.project_id AND b.checkpoint_item_id = i.id`;
  const selectItemOne = db.prepare<[string, string, string], ItemBackupRow>(
    `${itemsJoin} WHERE i.project_id = ? AND i.id = ? AND i.provider_id = ? ORDER BY b.position`,
  );
  const selectItemList = db.prepare<[string, string, string], ItemBackupRow>(
    `${itemsJoin} WHERE i.project_id = ? AND i.provider_id = ? AND i.id IN ${IDS} ORDER BY i.id, b.position`,
  );
  // Volumes join on the requested id, not on the server row: attached volumes count even
  // when the server itself is absent (as getAttachedVolumes reads them).
  const serverJoin = `LEFT JOIN servers s ON s.project_id = ? AND s.id = d.sid
     LEFT JOIN volumes v INDEXED BY volumes_by_server ON v.project_id = ? AND v.server_id = d.sid`;
  const selectServerOne = db.prepare<[string, string, string, string], ServerVolumeRow>(
    `SELECT d.known, d.sid, ${SELECT.servers}, ${SELECT.volumes}
     FROM (SELECT EXISTS (SELECT 1 FROM providers WHERE id = ?) AS known, ? AS sid) d
     ${serverJoin} ORDER BY v.id`,
  );
  const selectServerList = db.prepare<[string, string, string, string], ServerVolumeRow>(
    `SELECT p.known, d.sid, ${SELECT.servers}, ${SELECT.volumes}
     FROM (SELECT EXISTS (SELECT 1 FROM providers WHERE id = ?) AS known) p
     LEFT JOIN (SELECT key, value AS sid FROM json_each(?)) d ON 1
     ${serverJoin} ORDER BY d.key, v.id`,
  );

  const upsertItem = db.prepare(
    `INSERT INTO checkpoint_items (project_id, id, provider_id, checkpoint_id, resource_id, resource_type, status,
       resource_az, supported_restore_mode)
     VALUES (@projectId, @id, @providerId, @checkpointId, @resourceId, @resourceType, @status, @resourceAz,
       @supportedRestoreMode)
     ON CONFLICT (project_id, id) DO UPDATE SET provider_id = excluded.provider_id,
       checkpoint_id = excluded.checkpoint_id, resource_id = excluded.resource_id,
       resource_type = excluded.resource_type, status = excluded.status, resource_az = excluded.resource_az,
       supported_restore_mode = excluded.supported_restore_mode`,
  );
  const deleteBackups = db.prepare("DELETE FROM volume_backups WHERE project_id = ? AND checkpoint_item_id = ?");
  const insertBackup = db.prepare(
    `INSERT INTO volume_backups (project_id, checkpoint_item_id, position, id, source_volume_id, source_volume_size,
       bootable, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const upsertServer = db.prepare(
    `INSERT INTO servers (project_id, id, type, status, availability_zone, restore_supported, backup_supported,
       restoring, policy_id)
     VALUES (@projectId, @id, @type, @status, @availabilityZone, @restoreSupported, @backupSupported, @restoring,
       @policyId)
     ON CONFLICT (project_id, id) DO UPDATE SET type = excluded.type, status = excluded.status,
       availability_zone = excluded.availability_zone, restore_supported = excluded.restore_supported,
       backup_supported = excluded.backup_supported, restoring = excluded.restoring, policy_id = excluded.policy_id`,
  );
  const upsertVolume = db.prepare(
    `INSERT INTO volumes (project_id, id, server_id, size, bootable, shareable, status)
     VALUES (@projectId, @id, @serverId, @size, @bootable, @shareable, @status)
     ON CONFLICT (project_id, id) DO UPDATE SET server_id = excluded.server_id, size = excluded.size,
       bootable = excluded.bootable, shareable = excluded.shareable, status = excluded.status`,
  );
  const deleteItem = db.prepare("DELETE FROM checkpoint_items WHERE project_id = ? AND id = ?");
  const deleteServer = db.prepare("DELETE FROM servers WHERE project_id = ? AND id = ?");
  const deleteVolume = db.prepare("DELETE FROM volumes WHERE project_id = ? AND id = ?");

  const writeAll = db.transaction((upserts: Inventory, deletes: ReadonlyArray<InventoryDeletes>): InventoryCounts => {
    const counts: InventoryCounts = { checkpointItems: 0, servers: 0, volumes: 0 };
    for (const item of upserts.checkpointItems) {
      upsertItem.run(item);
      deleteBackups.run(item.projectId, item.id);
      for (const [position, b] of item.volumeBackups.entries()) {
        insertBackup.run(
          item.projectId,
          item.id,
          position,
          b.id,
          b.sourceVolumeId,
          b.sourceVolumeSize,
          b.bootable ? 1 : 0,
          b.status,
        );
      }
      counts.checkpointItems++;
    }
    for (const s of upserts.servers) {
      upsertServer.run({
        ...s,
        restoreSupported: s.restoreSupported ? 1 : 0,
        backupSupported: s.backupSupported ? 1 : 0,
        restoring: s.restoring ? 1 : 0,
      });
      counts.servers++;
    }
    for (const v of upserts.volumes) {
      upsertVolume.run({ ...v, bootable: v.bootable ? 1 : 0, shareable: v.shareable ? 1 : 0 });
      counts.volumes++;
    }
    for (const d of deletes) {
      for (const id of d.checkpointItemIds) {
        deleteBackups.run(d.projectId, id);
        counts.checkpointItems += deleteItem.run(d.projectId, id).changes;
      }
      for (const id of d.serverIds) counts.servers += deleteServer.run(d.projectId, id).changes;
      for (const id of d.volumeIds) counts.volumes += deleteVolume.run(d.projectId, id).changes;
    }
    return counts;
  });

  /** The hot path's reads for what the cache lacks: at most one statement for the items, one for the servers. */
  function fetchFacts(
    { projectId, providerId }: CheckLookup,
    itemIds: ReadonlyArray<string>,
    serverIds: ReadonlyArray<string>,
  ): FetchedFacts {
    const fetched: FetchedFacts = { providerKnown: false, items: new Map(), servers: new Map() };
    if (itemIds.length > 0) {
      const rows = timed(ITEM_TABLES, () =>
        itemIds.length === 1
          ? selectItemOne.all(projectId, itemIds[0]!, providerId)
          : selectItemList.all(projectId, providerId, JSON.stringify(itemIds)),
      );
      let item: CheckpointItem | undefined;
      for (const r of rows) {
        if (item?.id !== r.id) {
          item = toCheckpointItem(r, []);
          fetched.items.set(r.id, item);
        }
        if (r.b_id !== null) item.volumeBackups.push(toPrefixedVolumeBackup(r));
      }
    }
    if (serverIds.length === 0) {
      fetched.providerKnown = timed("providers", () => selectProvider.get(providerId) !== undefined);
      return fetched;
    }
    const rows = timed(SERVER_TABLES, () =>
      serverIds.length === 1
        ? selectServerOne.all(providerId, serverIds[0]!, projectId, projectId)
        : selectServerList.all(providerId, JSON.stringify(serverIds), projectId, projectId),
    );
    let sid: string | null = null;
    let found: ServerFacts = { server: undefined, volumes: [] };
    for (const r of rows) {
      fetched.providerKnown = r.known === 1;
      if (r.sid === null) continue;
      if (r.sid !== sid) {
        sid = r.sid;
        found = { server: r.id !== null ? toServer(r) : undefined, volumes: [] };
        fetched.servers.set(sid, found);
      }
      if (r.v_id !== null) found.volumes.push(toPrefixedVolume(r));
    }
    return fetched;
  }

  return {
    kind: "sqlite",
    async lookUp(lookup) {
      syncCache();
      return readThrough(cache, lookup, (itemIds, serverIds) => fetchFacts(lookup, itemIds, serverIds));
    },
    async hasProvider(providerId) {
      return timed("providers", () => selectProvider.get(providerId) !== undefined);
    },
    async getCheckpointItems(projectId, providerId, ids) {
      const items = new Map<string, CheckpointItem>();
      if (ids.length === 0) return items;
      const idList = JSON.stringify(ids);
      const rows = timed("checkpoint_items", () => selectItems.all(projectId, providerId, idList));
      if (rows.length === 0) return items;
      const backupRows = timed("volume_backups", () =>
        selectBackups.all(projectId, JSON.stringify(rows.map((r) => r.id))),
      );
      const backups = groupBy(backupRows, (b) => b.checkpoint_item_id, toVolumeBackup);
      for (const r of rows) items.set(r.id, toCheckpointItem(r, backups.get(r.id) ?? []));
      return items;
    },
    async getServers(projectId, ids) {
      if (ids.length === 0) return new Map();
      const rows = timed("servers", () => selectServers.all(projectId, JSON.stringify(ids)));
      return new Map(rows.map((r) => [r.id, toServer(r)]));
    },
    async getAttachedVolumes(projectId, serverIds) {
      if (serverIds.length === 0) return new Map();
      const rows = timed("volumes", () => selectVolumes.all(projectId, JSON.stringify(serverIds)));
      return groupBy(rows, (r) => r.server_id!, toVolume);
    },
    async write(upserts, deletes = []) {
      try {
        return timed("inventory", () => writeAll.immediate(upserts, deletes));
      } finally {
        cache.clear();
      }
    },
    async openBulkImport() {
      // The merge writes through this connection: what was cached before (or read during it) goes.
      return clearingAfter(createSqliteBulkImport(db), cache);
    },
    cacheStats: () => cache.stats(),
    async ping() {
      timed("ping", () => db.prepare("SELECT 1").get());
    },
    async close() {
      walChanges.close();
      if (db.open) db.close();
    },
  };
}

/**
 * The main database's file as SQLite opened it (symbolic links resolved: its `-wal` and `-shm`
 * files sit beside that one, not beside the link); undefined in memory.
 */
function mainDatabaseFile(db: Database.Database): string | undefined {
  const list = db.pragma("database_list") as Array<{ name: string; file: string }>;
  return list.find((d) => d.name === "main")?.file || undefined;
}

function migrate(db: Database.Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  const applied = db.prepare<[], { v: number | null }>("SELECT max(version) AS v FROM schema_migrations").get()?.v ?? 0;
  for (const [index, sql] of MIGRATIONS.entries()) {
    const version = index + 1;
    if (version <= applied) continue;
    db.transaction(() => {
      db.exec(sql);
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(
        version,
        new Date().toISOString(),
      );
    }).immediate();
  }
}

function toStoreError(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|NOTADB|CORRUPT)/.test(code)) {
    return new StoreUnavailableError(`sqlite: ${(error as Error).message}`, { cause: error });
  }
  if (error instanceof TypeError && /database connection is not open/.test(error.message)) {
    return new StoreUnavailableError("sqlite: the database is closed", { cause: error });
  }
  return error;
}
