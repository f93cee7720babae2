import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import Assembler from "stream-json/assembler.js";
import { jsonParser } from "stream-json/parser.js";
import type { InventoryListName } from "../domain/inventory-schema.js";
import { InventoryError } from "./inventory-error.js";

/** The two file formats of docs/contract.md §9: one JSON document, or NDJSON (one record per line). */
export type InventoryFormat = "json" | "ndjson";

/** One record as read, not yet validated: its list, its index in that list, its NDJSON line. */
export interface RawRecord {
  list: InventoryListName;
  index: number;
  /** NDJSON only: the 1-based line. */
  line?: number;
  value: unknown;
}

/** The NDJSON `kind` of each list's records. */
export const NDJSON_KINDS: Readonly<Record<string, InventoryListName>> = {
  checkpoint_item: "checkpoint_items",
  server: "servers",
  volume: "volumes",
};
const LISTS = new Set<string>(["checkpoint_items", "servers", "volumes"]);

/** `.ndjson` and `.jsonl` files are NDJSON, any other a JSON document. */
export function formatOf(file: string): InventoryFormat {
  return /\.(ndjson|jsonl)$/i.test(file) ? "ndjson" : "json";
}

/**
 * Reads an inventory file record by record, in batches, with memory bounded by the batch
 * (never the whole file): the JSON document through stream-json's tokenizer, each record
 * of its three lists assembled alone; NDJSON line by line. A file that is not such a
 * document throws InventoryError naming where (`(file)`, `(root)`, a list, `line N`).
 */
async function* readInventoryFile(
  file: string,
  format: InventoryFormat = formatOf(file),
  /** Kept up to date with the bytes read so far. */
  position: { bytes: number } = { bytes: 0 },
  /** 250: a batch's records die young (by hand, 1M items: 1,300-record batches peaked ~20 MB higher). */
  batchSize = 250,
): AsyncGenerator<RawRecord[]> {
  yield* format === "ndjson" ? readNdjson(file, batchSize, position) : readJson(file, batchSize, position);
}

/** One batch of raw records and how far into the file it ends. */
export interface RawBatch {
  records: RawRecord[];
  /** Bytes of the file read so far. */
  bytes: number;
}

/** readInventoryFile's batches, each with the bytes read so far (for progress). */
export async function* readRawBatches(file: string, format?: InventoryFormat): AsyncGenerator<RawBatch> {
  const position = { bytes: 0 };
  for await (const records of readInventoryFile(file, format, position)) yield { records, bytes: position.bytes };
}

function fileError(file: string, error: unknown): InventoryError {
  return new InventoryError("(file)", `${file}: ${(error as Error).message}`);
}

async function* readNdjson(file: string, batchSize: number, position: { bytes: number }): AsyncGenerator<RawRecord[]> {
  const input = createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 });
  input.on("data", () => {
    position.bytes = input.bytesRead;
  });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const counts = { checkpoint_items: 0, servers: 0, volumes: 0 };
  let batch: RawRecord[] = [];
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new InventoryError(`line ${line}`, `line ${line}: not JSON (${(error as Error).message})`);
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new InventoryError(`line ${line}`, `line ${line}: must be a JSON object (one record)`);
      }
      const { kind, ...record } = value as Record<string, unknown>;
      const list = typeof kind === "string" ? NDJSON_KINDS[kind] : undefined;
      if (list === undefined) {
        const kinds = Object.keys(NDJSON_KINDS).join(", ");
        throw new InventoryError(`line ${line}.kind`, `line ${line}.kind: must be one of ${kinds}`);
      }
      batch.push({ list, index: counts[list]++, line, value: record });
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  } catch (error) {
    throw error instanceof InventoryError ? error : fileError(file, error);
  } finally {
    lines.close();
    input.destroy();
  }
  if (batch.length > 0) yield batch;
}

interface Token {
  name: string;
  value?: unknown;
}

/**
 * The document `{"checkpoint_items": [...], "servers": [...], "volumes": [...]}` (each list
 * optional, no other key) as a token stream: depth 1 is the document, depth 2 a list, and
 * every value at depth 2 is one record, assembled by stream-json's Assembler.
 */
async function* readJson(file: string, batchSize: number, position: { bytes: number }): AsyncGenerator<RawRecord[]> {
  const input = createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 });
  const tokenize = jsonParser({ packValues: true, streamValues: false }) as unknown as (
    chunk: unknown,
  ) => { values?: Token[] } | Token | symbol;
  const none = Symbol.for("object-stream.none");
  const seen = new Set<string>();
  let depth = 0;
  let list: InventoryListName | undefined;
  let index = 0;
  let record: Assembler | undefined;
  let batch: RawRecord[] = [];
  let started = false;
  let finished = false;

  const consume = (token: Token) => {
    if (record) {
      (record as unknown as Record<string, (v: unknown) => void>)[token.name]?.call(record, token.value);
      if (record.done) {
        batch.push({ list: list!, index: index++, value: record.current });
        record = undefined;
      }
      return;
    }
    switch (depth) {
      case 0:
        if (token.name !== "startObject" || started) {
          throw new InventoryError("(root)", "(root): must be an object with checkpoint_items, servers and volumes");
        }
        started = true;
        depth = 1;
        return;
      case 1:
        if (token.name === "endObject") {
          depth = 0;
          finished = true;
          return;
        }
        if (token.name === "keyValue") {
          const key = String(token.value);
          if (!LISTS.has(key)) throw new InventoryError("(root)", `(root): unrecognized key "${key}"`);
          if (seen.has(key)) throw new InventoryError(key, `${key}: appears twice in the document`);
          seen.add(key);
          list = key as InventoryListName;
          index = 0;
          return;
        }
        if (token.name === "startArray") {
          depth = 2;
          return;
        }
        throw new InventoryError(String(list), `${list}: must be an array`);
      default:
        if (token.name === "endArray") {
          depth = 1;
          return;
        }
        record = new Assembler();
        consume(token);
    }
  };

  try {
    for await (const chunk of input) {
      position.bytes = input.bytesRead;
      const out = tokenize(chunk);
      if (out === none) continue;
      const tokens = (out as { values?: Token[] }).values ?? [out as Token];
      for (const token of tokens) {
        consume(token);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    }
    const rest = tokenize(none);
    if (rest !== none) for (const token of (rest as { values?: Token[] }).values ?? [rest as Token]) consume(token);
  } catch (error) {
    throw error instanceof InventoryError ? error : fileError(file, error);
  } finally {
    input.destroy();
  }
  if (!finished) throw fileError(file, new Error("unexpected end of the document"));
  if (batch.length > 0) yield batch;
}
