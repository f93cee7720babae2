import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { type ParsedTokenInfo, Tokenizer, TokenType } from "@streamparser/json";
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

/** One batch of raw records and how far into the file it ends. */
export interface RawBatch {
  records: RawRecord[];
  /** Bytes of the file read so far. */
  bytes: number;
}

/**
 * A batch of a JSON document's records as their own text, `[r0,r1,…]`: each record's bytes as
 * they are in the file, not yet parsed (unpackBatch parses them: JSON.parse, in C++, on the
 * importing thread). Its buffer is its own, so a worker can transfer it instead of copying.
 */
export interface PackedBatch {
  /** UTF-8: `[`, the records separated by `,`, `]`. */
  text: Uint8Array<ArrayBuffer>;
  /** Each record's length in bytes, to find a bad one. */
  lengths: number[];
  /** The records' lists and indexes, in order: runs of consecutive records of one list. */
  runs: [list: InventoryListName, first: number, count: number][];
  /** Bytes of the file read so far. */
  bytes: number;
}

/**
 * Reads an inventory file record by record, in batches, with memory bounded by the batch
 * (never the whole file): a JSON document through a streaming tokenizer (readJson, packed
 * batches); NDJSON line by line. A file that is not such a document throws InventoryError
 * naming where (`(file)`, `(root)`, a list, a record, `line N`).
 */
export async function* readInventoryBatches(
  file: string,
  format: InventoryFormat = formatOf(file),
  /** 250: a batch's records die young (by hand, 1M items: 1,300-record batches peaked ~20 MB higher). */
  batchSize = 250,
): AsyncGenerator<RawBatch | PackedBatch> {
  yield* format === "ndjson" ? readNdjson(file, batchSize) : readJson(file, batchSize);
}

/** readInventoryBatches on this thread, every batch parsed (unpackBatch). */
export async function* readRawBatches(file: string, format?: InventoryFormat): AsyncGenerator<RawBatch> {
  for await (const batch of readInventoryBatches(file, format)) yield* unpackBatch(batch);
}

/**
 * A batch's records, parsed (a packed one by JSON.parse; a raw one as it is). A record that is
 * not JSON throws InventoryError naming it (`servers[3]`), after the records before it: the
 * tokenizer has only checked the document around the records and each record's brackets.
 */
export function* unpackBatch(batch: RawBatch | PackedBatch): Generator<RawBatch> {
  if (!("text" in batch)) {
    yield batch;
    return;
  }
  const { text, runs, lengths } = batch;
  const decode = (from: number, to: number) => Buffer.from(text.buffer, text.byteOffset + from, to - from).toString();
  let values: unknown[];
  let error: InventoryError | undefined;
  try {
    values = JSON.parse(decode(0, text.length)) as unknown[];
  } catch {
    // One record at a time, up to the bad one.
    values = [];
    for (let k = 0, at = 1; k < lengths.length; at += lengths[k++]! + 1) {
      try {
        values.push(JSON.parse(decode(at, at + lengths[k]!)));
      } catch (cause) {
        const path = pathOf(runs, k);
        error = new InventoryError(path, `${path}: not JSON (${(cause as Error).message})`);
        break;
      }
    }
  }
  const records: RawRecord[] = new Array(values.length);
  let k = 0;
  for (const [list, first, count] of runs) {
    for (let i = 0; i < count && k < values.length; i++, k++) records[k] = { list, index: first + i, value: values[k] };
  }
  if (records.length > 0) yield { records, bytes: batch.bytes };
  if (error) throw error;
}

/** The path of a packed batch's k-th record. */
function pathOf(runs: PackedBatch["runs"], k: number): string {
  for (const [list, first, count] of runs) {
    if (k < count) return `${list}[${first + k}]`;
    k -= count;
  }
  return "(file)";
}

function fileError(file: string, error: unknown): InventoryError {
  return new InventoryError("(file)", `${file}: ${(error as Error).message}`);
}

async function* readNdjson(file: string, batchSize: number): AsyncGenerator<RawBatch> {
  const input = createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 });
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
        yield { records: batch, bytes: input.bytesRead };
        batch = [];
      }
    }
  } catch (error) {
    throw error instanceof InventoryError ? error : fileError(file, error);
  } finally {
    lines.close();
    input.destroy();
  }
  if (batch.length > 0) yield { records: batch, bytes: input.bytesRead };
}

/** Where readJson is in the document, outside the records. */
enum At {
  /** Before the document. */
  Root,
  /** After `{`: a list's name or `}`. */
  FirstKey,
  /** After `,` in the document: a list's name. */
  Key,
  /** After a list's name. */
  Colon,
  /** After the `:`: the list's `[`. */
  List,
  /** After a list's `[`: a record or `]`. */
  FirstRecord,
  /** After `,` in a list: a record. */
  Record,
  /** Inside a record (nested brackets in `open`). */
  InRecord,
  /** After a record: `,` or `]`. */
  AfterRecord,
  /** After a list's `]`: `,` or `}`. */
  AfterList,
  /** After the document's `}`: nothing more. */
  End,
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * A packed batch's text stays under V8's largest regular object (128 KiB): a longer string goes
 * to the large-object space, and decoding the 1M-item file then took 3.4 s instead of 0.1-0.3 s
 * (measured by hand: the same bytes in 150 KB and in 100 KB pieces).
 */
const MAX_BATCH_BYTES = 96 * 1024;

/**
 * The document `{"checkpoint_items": [...], "servers": [...], "volumes": [...]}` (each list
 * optional, no other key) through @streamparser/json's streaming tokenizer: the document
 * around the records is checked token by token (At), and each record's bytes are cut out of
 * the file as they are (its brackets matched) into packed batches, parsed later by
 * unpackBatch. No record is built here: the tokenizer is most of the cost per byte.
 * When the document goes wrong, the records before the fault are yielded first, so an earlier
 * bad record is reported before a later fault.
 */
async function* readJson(file: string, batchSize: number): AsyncGenerator<PackedBatch> {
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  // Strings gathered in a buffer: 25 % less CPU than the default on the 1M-item file (by hand).
  const tokenizer = new Tokenizer({ stringBufferSize: 256 });
  const seen = new Set<string>();
  let at = At.Root as At;
  let list: InventoryListName = "checkpoint_items";
  let index = 0;
  /** The brackets open in the record being read. */
  const open: TokenType[] = [];
  /** The offset of the record's first byte, and its bytes in earlier chunks. */
  let recordStart = 0;
  let recordHead: Uint8Array[] = [];
  /** The chunk being tokenized, its offset in the file, and the tokenizer's offsets' skew (a BOM). */
  let chunk: Buffer = Buffer.alloc(0);
  let chunkStart = 0;
  let skew = 0;
  let records: Uint8Array[] = [];
  let size = 1;
  let runs: PackedBatch["runs"] = [];
  const ready: PackedBatch[] = [];

  const syntax = (what: string, offset: number) =>
    fileError(file, new Error(`${what} at byte ${offset + skew} of the document`));
  const flush = () => {
    if (records.length === 0) return;
    const text = new Uint8Array(size);
    text[0] = 0x5b; // [
    let to = 1;
    for (let k = 0; k < records.length; k++) {
      if (k > 0) text[to++] = 0x2c; // ,
      text.set(records[k]!, to);
      to += records[k]!.length;
    }
    text[to] = 0x5d; // ]
    ready.push({ text, lengths: records.map((r) => r.length), runs, bytes: input.bytesRead });
    records = [];
    size = 1;
    runs = [];
  };
  const add = (bytes: Uint8Array) => {
    records.push(bytes);
    size += bytes.length + 1;
    const run = runs.at(-1);
    if (run?.[0] === list) run[2]++;
    else runs.push([list, index, 1]);
    index++;
    if (records.length >= batchSize || size >= MAX_BATCH_BYTES) flush();
  };

  tokenizer.onToken = ({ token, value, offset }: ParsedTokenInfo) => {
    if (at === At.InRecord) {
      if (token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET) open.push(token);
      else if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) {
        if (open.pop() !== (token === TokenType.RIGHT_BRACE ? TokenType.LEFT_BRACE : TokenType.LEFT_BRACKET)) {
          const path = `${list}[${index}]`;
          throw new InventoryError(path, `${path}: not JSON (unexpected "${value}" at byte ${offset + skew})`);
        }
        if (open.length === 0) {
          const end = offset + skew + 1 - chunkStart;
          const tail = chunk.subarray(Math.max(recordStart - chunkStart, 0), end);
          add(recordHead.length === 0 ? tail : Buffer.concat([...recordHead, tail]));
          recordHead = [];
          at = At.AfterRecord;
        }
      }
      return;
    }
    switch (at) {
      case At.Root:
        if (token !== TokenType.LEFT_BRACE) {
          throw new InventoryError("(root)", "(root): must be an object with checkpoint_items, servers and volumes");
        }
        at = At.FirstKey;
        return;
      case At.FirstKey:
      case At.Key: {
        if (token === TokenType.RIGHT_BRACE && at === At.FirstKey) {
          at = At.End;
          return;
        }
        if (token !== TokenType.STRING) throw syntax(`expected a list's name, found "${value}"`, offset);
        const key = String(value);
        if (!LISTS.has(key)) throw new InventoryError("(root)", `(root): unrecognized key "${key}"`);
        if (seen.has(key)) throw new InventoryError(key, `${key}: appears twice in the document`);
        seen.add(key);
        list = key as InventoryListName;
        index = 0;
        at = At.Colon;
        return;
      }
      case At.Colon:
        if (token !== TokenType.COLON) throw syntax(`expected ":", found "${value}"`, offset);
        at = At.List;
        return;
      case At.List:
        if (token !== TokenType.LEFT_BRACKET) throw new InventoryError(list, `${list}: must be an array`);
        at = At.FirstRecord;
        return;
      case At.FirstRecord:
      case At.Record:
        if (token === TokenType.RIGHT_BRACKET && at === At.FirstRecord) {
          at = At.AfterList;
          return;
        }
        if (token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET) {
          open.push(token);
          recordStart = offset + skew;
          at = At.InRecord;
          return;
        }
        if (
          token === TokenType.COLON ||
          token === TokenType.COMMA ||
          token === TokenType.RIGHT_BRACKET ||
          token === TokenType.RIGHT_BRACE
        ) {
          throw syntax(`expected a record, found "${value}"`, offset);
        }
        // A record that is a plain value (rejected by validation, which names it).
        add(Buffer.from(JSON.stringify(value) ?? "null"));
        at = At.AfterRecord;
        return;
      case At.AfterRecord:
        if (token === TokenType.COMMA) at = At.Record;
        else if (token === TokenType.RIGHT_BRACKET) at = At.AfterList;
        else throw syntax(`expected "," or "]" after ${list}[${index - 1}], found "${value}"`, offset);
        return;
      case At.AfterList:
        if (token === TokenType.COMMA) at = At.Key;
        else if (token === TokenType.RIGHT_BRACE) at = At.End;
        else throw syntax(`expected "," or "}" after ${list}, found "${value}"`, offset);
        return;
      default:
        throw syntax(`unexpected "${value}" after the document`, offset);
    }
  };

  try {
    try {
      for await (const bytes of input as AsyncIterable<Buffer>) {
        if (chunkStart === 0 && UTF8_BOM.every((b, i) => bytes[i] === b)) skew = UTF8_BOM.length;
        chunk = bytes;
        tokenizer.write(bytes);
        // A record that goes on in the next chunk: keep its bytes so far.
        if (at === At.InRecord) recordHead.push(bytes.subarray(Math.max(recordStart - chunkStart, 0)));
        chunkStart += bytes.length;
        yield* ready.splice(0);
      }
      tokenizer.end();
      if (at !== At.End) throw fileError(file, new Error("unexpected end of the document"));
    } catch (error) {
      // The records before the fault first: one of them may be bad too, and it comes first.
      flush();
      yield* ready.splice(0);
      throw error instanceof InventoryError ? error : fileError(file, error);
    }
    flush();
    yield* ready.splice(0);
  } finally {
    input.destroy();
  }
}
