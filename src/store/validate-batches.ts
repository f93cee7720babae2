import { parseInventoryRecord } from "../domain/inventory-schema.js";
import type { BulkRecords, DuplicateCandidate } from "./bulk-import.js";
import { createIdFingerprints } from "./id-fingerprints.js";
import { InventoryError } from "./inventory-error.js";
import type { RawBatch } from "./read-inventory-file.js";

/** One batch of an inventory file, read and validated, ready to stage. */
export interface ValidatedBatch {
  /** The batch's records, validated, in file order. */
  records: BulkRecords;
  /** Records of this batch whose id repeats an earlier record's (by fingerprint: to confirm). */
  candidates: DuplicateCandidate[];
  /** Records in this batch (checkpoint items, servers, volumes). */
  read: number;
  /** Bytes of the file read so far. */
  bytes: number;
}

/** Suspected duplicates reported per list (each a repeated id but for a 2^-64 chance). */
const MAX_CANDIDATES = 1000;

/**
 * Validates the records of an inventory file (docs/contract.md §9) batch by batch as they are
 * read (readRawBatches, on this thread or in a worker): a bad record throws InventoryError
 * naming its path. Repeated ids are found by fingerprint (createIdFingerprints) and reported
 * with their batch, first in file order, at most MAX_CANDIDATES per list; the fingerprint
 * tables go when the generator ends.
 */
export async function* validateBatches(source: AsyncIterable<RawBatch>): AsyncGenerator<ValidatedBatch> {
  const seen = {
    checkpoint_items: createIdFingerprints(),
    servers: createIdFingerprints(),
    volumes: createIdFingerprints(),
    volume_backups: createIdFingerprints(),
  };
  const reported = { checkpoint_items: 0, servers: 0, volumes: 0, volume_backups: 0 };
  try {
    for await (const { records: raw, bytes } of source) {
      const records: BulkRecords = { checkpointItems: [], servers: [], volumes: [] };
      const candidates: DuplicateCandidate[] = [];
      const suspect = (candidate: DuplicateCandidate) => {
        if (reported[candidate.list]++ < MAX_CANDIDATES) candidates.push(candidate);
      };
      for (const r of raw) {
        const parsed = parseInventoryRecord(r.list, r.value, `${r.list}[${r.index}]`);
        if (!parsed.ok) {
          throw new InventoryError(parsed.path, r.line ? `line ${r.line}: ${parsed.message}` : parsed.message);
        }
        const { record } = parsed;
        if (seen[r.list].add(record.id)) suspect({ list: r.list, index: r.index, id: record.id });
        if (r.list === "checkpoint_items") {
          const item = record as BulkRecords["checkpointItems"][number];
          item.volumeBackups.forEach((b, position) => {
            if (seen.volume_backups.add(b.id)) suspect({ list: "volume_backups", index: r.index, position, id: b.id });
          });
          records.checkpointItems.push(item);
        } else if (r.list === "servers") records.servers.push(record as BulkRecords["servers"][number]);
        else records.volumes.push(record as BulkRecords["volumes"][number]);
      }
      yield { records, candidates, read: raw.length, bytes };
    }
  } finally {
    // Every id is in (or the import failed): the tables can go before the merge.
    for (const fingerprints of Object.values(seen)) fingerprints.release();
  }
}
