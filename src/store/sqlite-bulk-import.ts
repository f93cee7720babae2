import type Database from "better-sqlite3";
import type { BulkImport, BulkRecords, DuplicateCandidate } from "./bulk-import.js";
import { stagedColumns } from "./rows.js";
import type { InventoryCounts } from "./store.js";

export interface SqliteBulkImportOptions {
  /**
   * Page cache (and sorter memory) of the connection while the merge runs, in MiB. Default 16:
   * 1M items, by hand, one run each: merge 15.6 s with 16, 16.6 s with 32; peak RSS 288 and 338 MB.
   */
  cacheMb?: number;
}

/*
 * Staging tables in the connection's TEMP schema (a temporary file, never the database file):
 * rows are appended in file order (no index, so every insert is an append), then merged into
 * the inventory sorted by primary key, so the inventory's B-trees are written in order
 * rather than at random. The merge is one IMMEDIATE transaction; a duplicate or any failure
 * before it leaves the inventory untouched.
 */
const STAGING = `
  CREATE TEMP TABLE bulk_items (seq INTEGER PRIMARY KEY, project_id TEXT, id TEXT, provider_id TEXT,
    checkpoint_id TEXT, resource_id TEXT, resource_type TEXT, status TEXT, resource_az TEXT,
    supported_restore_mode TEXT, backups TEXT);
  CREATE TEMP TABLE bulk_servers (seq INTEGER PRIMARY KEY, project_id TEXT, id TEXT, type TEXT, status TEXT,
    availability_zone TEXT, restore_supported INTEGER, backup_supported INTEGER, restoring INTEGER, policy_id TEXT);
  CREATE TEMP TABLE bulk_volumes (seq INTEGER PRIMARY KEY, project_id TEXT, id TEXT, server_id TEXT, size INTEGER,
    bootable INTEGER, shareable INTEGER, status TEXT);`;
const DROP_STAGING = `
  DROP TABLE IF EXISTS temp.bulk_items; DROP TABLE IF EXISTS temp.bulk_servers; DROP TABLE IF EXISTS temp.bulk_volumes;`;

/** An item's volume backups, staged in its row: [[id, source_volume_id, source_volume_size, bootable, status], …]. */
const BACKUPS = "json_each(i.backups) AS b";

const EARLIER: Record<DuplicateCandidate["list"], string> = {
  checkpoint_items: "SELECT 1 FROM temp.bulk_items WHERE id = ? AND seq < ? LIMIT 1",
  servers: "SELECT 1 FROM temp.bulk_servers WHERE id = ? AND seq < ? LIMIT 1",
  volumes: "SELECT 1 FROM temp.bulk_volumes WHERE id = ? AND seq < ? LIMIT 1",
  volume_backups: `SELECT 1 FROM temp.bulk_items AS i, ${BACKUPS}
    WHERE b.value ->> 0 = ? AND (i.seq < ? OR (i.seq = ? AND b.key < ?)) LIMIT 1`,
};

const REPLACED_BACKUPS = "previous volume backups of these items";
const MERGE: ReadonlyArray<[step: string, sql: string]> = [
  [
    "checkpoint items",
    `INSERT INTO checkpoint_items (project_id, id, provider_id, checkpoint_id, resource_id, resource_type, status,
       resource_az, supported_restore_mode)
     SELECT project_id, id, provider_id, checkpoint_id, resource_id, resource_type, status, resource_az,
       supported_restore_mode FROM temp.bulk_items WHERE true ORDER BY project_id, id
     ON CONFLICT (project_id, id) DO UPDATE SET provider_id = excluded.provider_id,
       checkpoint_id = excluded.checkpoint_id, resource_id = excluded.resource_id,
       resource_type = excluded.resource_type, status = excluded.status, resource_az = excluded.resource_az,
       supported_restore_mode = excluded.supported_restore_mode`,
  ],
  [
    REPLACED_BACKUPS,
    `DELETE FROM volume_backups WHERE (project_id, checkpoint_item_id) IN (SELECT project_id, id FROM temp.bulk_items)`,
  ],
  [
    "volume backups",
    `INSERT INTO volume_backups (project_id, checkpoint_item_id, position, id, source_volume_id, source_volume_size,
       bootable, status)
     SELECT i.project_id, i.id, b.key, b.value ->> 0, b.value ->> 1, b.value ->> 2, b.value ->> 3, b.value ->> 4
     FROM temp.bulk_items AS i, ${BACKUPS} ORDER BY i.project_id, i.id, b.key`,
  ],
  [
    "servers",
    `INSERT INTO servers (project_id, id, type, status, availability_zone, restore_supported, backup_supported,
       restoring, policy_id)
     SELECT project_id, id, type, status, availability_zone, restore_supported, backup_supported, restoring, policy_id
     FROM temp.bulk_servers WHERE true ORDER BY project_id, id
     ON CONFLICT (project_id, id) DO UPDATE SET type = excluded.type, status = excluded.status,
       availability_zone = excluded.availability_zone, restore_supported = excluded.restore_supported,
       backup_supported = excluded.backup_supported, restoring = excluded.restoring, policy_id = excluded.policy_id`,
  ],
  [
    "volumes",
    `INSERT INTO volumes (project_id, id, server_id, size, bootable, shareable, status)
     SELECT project_id, id, server_id, size, bootable, shareable, status FROM temp.bulk_volumes WHERE true
     ORDER BY project_id, id
     ON CONFLICT (project_id, id) DO UPDATE SET server_id = excluded.server_id, size = excluded.size,
       bootable = excluded.bootable, shareable = excluded.shareable, status = excluded.status`,
  ],
];

const flag = (b: boolean) => (b ? 1 : 0);
const staged = stagedColumns(flag);
const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A streamed import on a store's SQLite connection (one at a time per connection; the
 * connection must serve nothing else until it ends, as readers on it would see the merge
 * before it commits).
 */
export function createSqliteBulkImport(db: Database.Database, options: SqliteBulkImportOptions = {}): BulkImport {
  const previousCache = db.pragma("cache_size", { simple: true }) as number;
  db.exec(DROP_STAGING);
  db.exec(STAGING);
  // Staging only appends: a small cache will do (the default 2 MiB), until the merge.
  const mergeCache = -Math.round((options.cacheMb ?? 16) * 1024);

  const insertItem = db.prepare("INSERT INTO temp.bulk_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const insertServer = db.prepare("INSERT INTO temp.bulk_servers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const insertVolume = db.prepare("INSERT INTO temp.bulk_volumes VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  const counts: InventoryCounts = { checkpointItems: 0, servers: 0, volumes: 0 };

  // Only TEMP tables are written here: no lock on the database file, readers are not held up.
  const stageBatch = db.transaction((records: BulkRecords) => {
    for (const c of records.checkpointItems) {
      insertItem.run(
        counts.checkpointItems++,
        ...staged.item(c),
        JSON.stringify(
          c.volumeBackups.map((b) => [b.id, b.sourceVolumeId, b.sourceVolumeSize, flag(b.bootable), b.status]),
        ),
      );
    }
    for (const s of records.servers) insertServer.run(counts.servers++, ...staged.server(s));
    for (const v of records.volumes) insertVolume.run(counts.volumes++, ...staged.volume(v));
  });

  let ended = false;
  const end = () => {
    ended = true;
    if (!db.open) return;
    db.exec(DROP_STAGING);
    db.pragma(`cache_size = ${previousCache}`);
  };
  const notEnded = () => {
    if (ended) throw new Error("bulk import already committed or aborted");
  };

  return {
    async stage(records) {
      notEnded();
      stageBatch(records);
    },
    async endStaging() {
      notEnded();
    },
    async hasEarlier(candidate) {
      notEnded();
      const statement = db.prepare(EARLIER[candidate.list]);
      const row =
        candidate.list === "volume_backups"
          ? statement.get(candidate.id, candidate.index, candidate.index, candidate.position)
          : statement.get(candidate.id, candidate.index);
      return row !== undefined;
    },
    async commit(onStep) {
      notEnded();
      try {
        db.pragma(`cache_size = ${mergeCache}`);
        db.pragma(`temp.cache_size = ${mergeCache}`);
        // Nothing to replace in an empty table: skip the lookups (a first import).
        const fresh = db.prepare("SELECT NOT EXISTS (SELECT 1 FROM volume_backups) AS empty").pluck().get() === 1;
        db.exec("BEGIN IMMEDIATE");
        try {
          for (const [step, sql] of MERGE) {
            if (fresh && step === REPLACED_BACKUPS) continue;
            onStep?.(step);
            // Between statements, let timers run (progress output); nothing else uses this connection.
            await nextTick();
            db.exec(sql);
          }
          db.exec("COMMIT");
        } catch (error) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw error;
        }
        return { ...counts };
      } finally {
        end();
      }
    },
    async abort() {
      if (ended) return;
      if (db.inTransaction) db.exec("ROLLBACK");
      end();
    },
  };
}
