import { once } from "node:events";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { BulkImport, BulkRecords, DuplicateCandidate } from "./bulk-import.js";
import { stagedColumns } from "./rows.js";
import type { InventoryCounts } from "./store.js";

export interface PostgresBulkImportOptions {
  url: string;
  /** Longest wait for the connection (default: pg's, none). */
  dbConnectTimeoutMs?: number | undefined;
}

/*
 * One connection of its own (no statement timeout: a merge of a million records takes longer
 * than any single lookup may), one transaction from the first staged record to the merge:
 * every record goes through one `COPY … FROM STDIN` stream (pg-copy-streams) into one
 * temporary staging table, dropped at commit. The staging table has one row shape for all
 * lists (a COPY stream is one table, and the lists' records arrive interleaved: volume
 * backups inside their items): `kind` says which list, `seq` the record's index in its list
 * (an item's index for its volume backups, `pos` their position), c1…c7 the other columns
 * as text, cast in the merge.
 */
const STAGING = `CREATE TEMP TABLE bulk_records (kind "char" NOT NULL, seq INTEGER NOT NULL, pos INTEGER,
  project_id TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, c1 TEXT COLLATE "C", c2 TEXT, c3 TEXT,
  c4 TEXT, c5 TEXT, c6 TEXT, c7 TEXT) ON COMMIT DROP`;
const COPY = "COPY bulk_records (kind, seq, pos, project_id, id, c1, c2, c3, c4, c5, c6, c7) FROM STDIN";

const KINDS: Record<DuplicateCandidate["list"], string> = {
  checkpoint_items: "i",
  servers: "s",
  volumes: "v",
  volume_backups: "b",
};
/** Whether a record of the kind before (seq, pos) has the id. */
const EARLIER = `SELECT 1 FROM bulk_records WHERE kind = $1 AND id = $2
  AND (seq < $3 OR (seq = $3 AND pos < $4)) LIMIT 1`;

/*
 * Each list is inserted sorted, so its primary key index is written in order. The sort puts
 * the id before the project: a sort's abbreviated keys come from its first column, and the
 * project is the same for most or all of an import's rows (by hand, 1M items on one project:
 * the items' upsert 4.7-7.8 s instead of 6.4-10.0 s, the volume backups' insert 5.7-7.2 s
 * instead of 9.2-10.6 s). The order the index sees is the same on one project, and on several
 * the inserts go on in order in each project's part of the index.
 */
const MERGE: ReadonlyArray<[step: string, sql: string]> = [
  [
    "checkpoint items",
    `INSERT INTO checkpoint_items (project_id, id, provider_id, checkpoint_id, resource_id, resource_type, status,
       resource_az, supported_restore_mode)
     SELECT project_id, id, c1, c2, c3, c4, c5, c6, c7 FROM bulk_records WHERE kind = 'i' ORDER BY id, project_id
     ON CONFLICT (project_id, id) DO UPDATE SET provider_id = excluded.provider_id,
       checkpoint_id = excluded.checkpoint_id, resource_id = excluded.resource_id,
       resource_type = excluded.resource_type, status = excluded.status, resource_az = excluded.resource_az,
       supported_restore_mode = excluded.supported_restore_mode`,
  ],
  [
    "previous volume backups of these items",
    `DELETE FROM volume_backups b USING bulk_records r
     WHERE r.kind = 'i' AND b.project_id = r.project_id AND b.checkpoint_item_id = r.id`,
  ],
  [
    "volume backups",
    `INSERT INTO volume_backups (project_id, checkpoint_item_id, position, id, source_volume_id, source_volume_size,
       bootable, status)
     SELECT project_id, c1, pos, id, c2, c3::integer, c4::boolean, c5 FROM bulk_records WHERE kind = 'b'
     ORDER BY c1, project_id, pos`,
  ],
  [
    "servers",
    `INSERT INTO servers (project_id, id, type, status, availability_zone, restore_supported, backup_supported,
       restoring, policy_id)
     SELECT project_id, id, c1, c2, c3, c4::boolean, c5::boolean, c6::boolean, c7 FROM bulk_records
     WHERE kind = 's' ORDER BY id, project_id
     ON CONFLICT (project_id, id) DO UPDATE SET type = excluded.type, status = excluded.status,
       availability_zone = excluded.availability_zone, restore_supported = excluded.restore_supported,
       backup_supported = excluded.backup_supported, restoring = excluded.restoring, policy_id = excluded.policy_id`,
  ],
  [
    "volumes",
    `INSERT INTO volumes (project_id, id, server_id, size, bootable, shareable, status)
     SELECT project_id, id, c1, c2::integer, c3::boolean, c4::boolean, c5 FROM bulk_records WHERE kind = 'v'
     ORDER BY id, project_id
     ON CONFLICT (project_id, id) DO UPDATE SET server_id = excluded.server_id, size = excluded.size,
       bootable = excluded.bootable, shareable = excluded.shareable, status = excluded.status`,
  ],
];

/** A COPY text-format field: `\N` for null, backslash, tab, newline and carriage return escaped. */
function field(value: unknown): string {
  if (value === null || value === undefined) return "\\N";
  if (typeof value !== "string") return String(value);
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : value;
}
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

const staged = stagedColumns((b) => b);

function row(values: ReadonlyArray<unknown>): string {
  let line = "";
  for (let i = 0; i < 12; i++) line += (i > 0 ? "\t" : "") + field(values[i] ?? null);
  return `${line}\n`;
}

/** A streamed import into PostgreSQL (see above). */
export async function createPostgresBulkImport(options: PostgresBulkImportOptions): Promise<BulkImport> {
  const client = new pg.Client({
    connectionString: options.url,
    ...(options.dbConnectTimeoutMs !== undefined ? { connectionTimeoutMillis: options.dbConnectTimeoutMs } : {}),
    keepAlive: true,
    application_name: "restorability-service import",
  });
  let lost: Error | undefined;
  client.on("error", (error) => {
    lost = error;
  });
  await client.connect();
  let copy: ReturnType<typeof copyFrom> | undefined;
  let ended = false;
  const counts: InventoryCounts = { checkpointItems: 0, servers: 0, volumes: 0 };
  const end = async (statement: "COMMIT" | "ROLLBACK") => {
    ended = true;
    try {
      if (!lost) await client.query(statement);
    } finally {
      await client.end().catch(() => {});
    }
  };
  try {
    await client.query("BEGIN");
    // Only this transaction: a long merge must not be cut off by the server's defaults.
    await client.query("SET LOCAL statement_timeout = 0");
    await client.query("SET LOCAL work_mem = '64MB'");
    await client.query(STAGING);
    copy = client.query(copyFrom(COPY));
    copy.on("error", () => {}); // surfaced by the awaits below
  } catch (error) {
    await end("ROLLBACK").catch(() => {});
    throw error;
  }
  const stream = copy;
  const notEnded = () => {
    if (ended) throw new Error("bulk import already committed or aborted");
    if (lost) throw lost;
  };

  return {
    async stage(records: BulkRecords) {
      notEnded();
      const lines: string[] = [];
      for (const c of records.checkpointItems) {
        const seq = counts.checkpointItems++;
        lines.push(row(["i", seq, null, ...staged.item(c)]));
        c.volumeBackups.forEach((b, position) => {
          lines.push(
            row([
              "b",
              seq,
              position,
              c.projectId,
              b.id,
              c.id,
              b.sourceVolumeId,
              b.sourceVolumeSize,
              b.bootable,
              b.status,
            ]),
          );
        });
      }
      for (const s of records.servers) lines.push(row(["s", counts.servers++, null, ...staged.server(s)]));
      for (const v of records.volumes) lines.push(row(["v", counts.volumes++, null, ...staged.volume(v)]));
      if (lines.length > 0 && !stream.write(lines.join(""))) {
        await Promise.race([once(stream, "drain"), once(stream, "error").then(([e]) => Promise.reject(e))]);
      }
    },
    async endStaging() {
      notEnded();
      if (!stream.writableFinished) {
        stream.end();
        await Promise.race([once(stream, "finish"), once(stream, "error").then(([e]) => Promise.reject(e))]);
      }
      await client.query("ANALYZE bulk_records");
    },
    async hasEarlier(candidate) {
      notEnded();
      const position = candidate.list === "volume_backups" ? candidate.position : 0;
      const { rows } = await client.query(EARLIER, [KINDS[candidate.list], candidate.id, candidate.index, position]);
      return rows.length > 0;
    },
    async commit(onStep) {
      notEnded();
      if (!stream.writableFinished) throw new Error("endStaging() must run before commit()");
      try {
        for (const [step, sql] of MERGE) {
          onStep?.(step);
          await client.query(sql);
        }
      } catch (error) {
        await end("ROLLBACK").catch(() => {});
        throw error;
      }
      await end("COMMIT");
      return { ...counts };
    },
    async abort() {
      if (ended) return;
      if (!stream.destroyed && !stream.writableFinished) {
        // CopyFail: the server ends the COPY with an error; the transaction is then rolled back.
        stream.destroy(new Error("import aborted"));
        await once(stream, "close").catch(() => {});
      }
      await end("ROLLBACK").catch(() => {});
    },
  };
}
