import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BENCH_PROJECT, benchId, serverRecord } from "../bench/lib/inventory.js";
import { createStore } from "../src/store/create-store.js";
import { importInventoryFile } from "../src/store/import-inventory.js";
import { InventoryError } from "../src/store/inventory-error.js";
import { readInWorker } from "../src/store/read-in-worker.js";
import { type RawBatch, type RawRecord, readRawBatches } from "../src/store/read-inventory-file.js";
import type { Store } from "../src/store/store.js";

/**
 * The reader of JSON inventory documents (`{"checkpoint_items": [...], "servers": [...],
 * "volumes": [...]}`), on this thread (readRawBatches) and on a worker thread (readInWorker):
 * the records it yields against JSON.parse of the same file, and the path of every error.
 */
const dir = mkdtempSync(join(os.tmpdir(), "read-inventory-json-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LISTS = ["checkpoint_items", "servers", "volumes"] as const;
/** The reader's read chunk (createReadStream's highWaterMark). */
const CHUNK = 2 ** 20;

let files = 0;
/** `text` written (as UTF-8) to a new .json file. */
function write(text: string): string {
  const file = join(dir, `doc-${files++}.json`);
  writeFileSync(file, text);
  return file;
}

/** What the reader must yield for a valid document: JSON.parse's lists, in document order. */
function parsedRecords(text: string): RawRecord[] {
  const document = JSON.parse(text.replace(/^\uFEFF/, "")) as Record<RawRecord["list"], unknown[]>;
  return Object.entries(document).flatMap(([list, values]) =>
    values.map((value, index) => ({ list: list as RawRecord["list"], index, value })),
  );
}

type Read = (file: string) => AsyncGenerator<RawBatch>;

/** Every record yielded, up to the error if there is one. */
async function readAll(read: Read, file: string): Promise<{ records: RawRecord[]; error?: unknown }> {
  const records: RawRecord[] = [];
  try {
    for await (const batch of read(file)) records.push(...batch.records);
  } catch (error) {
    return { records, error };
  }
  return { records };
}

function expectInventoryError(error: unknown, path: string, part?: string): void {
  expect(error, String(error)).toBeInstanceOf(InventoryError);
  expect((error as InventoryError).path, (error as InventoryError).message).toBe(path);
  if (part !== undefined) expect((error as InventoryError).message).toContain(part);
}

const where = (records: RawRecord[]) => records.map((r) => `${r.list}[${r.index}]`);

// Strings with what a tokenizer can get wrong: multi-byte UTF-8, astral characters (two UTF-16
// units), quotes, backslashes, brackets, control characters (escaped by JSON.stringify), a lone
// surrogate.
const character = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  fc.constantFrom("é", "日本", "😀", '"', "\\", "\\u0041", "{", "]", "\n", "\t", "\u0000", "\u2028", "\ud800"),
);
const record = fc.dictionary(
  fc.string({ unit: character, maxLength: 8 }),
  fc.jsonValue({ stringUnit: character, maxDepth: 3 }),
  { maxKeys: 6 },
);
/** A document's text: some of the lists in any order, any whitespace, maybe \u escapes. */
const documentText = fc
  .record({
    keys: fc.shuffledSubarray([...LISTS]),
    lists: fc.record({
      checkpoint_items: fc.array(record, { maxLength: 6 }),
      servers: fc.array(record, { maxLength: 6 }),
      volumes: fc.array(record, { maxLength: 6 }),
    }),
    // JSON.stringify's indent may be any whitespace: "" is none, else one token per line.
    indent: fc.stringMatching(/^[ \t\r\n]{0,3}$/),
    around: fc.tuple(fc.stringMatching(/^[ \t\r\n]{0,3}$/), fc.stringMatching(/^[ \t\r\n]{0,3}$/)),
    escapeNonAscii: fc.boolean(),
  })
  .map(({ keys, lists, indent, around, escapeNonAscii }) => {
    let text = JSON.stringify(Object.fromEntries(keys.map((key) => [key, lists[key]])), null, indent);
    // Outside its strings a JSON text is ASCII, so this rewrites only characters inside strings:
    // every non-ASCII UTF-16 unit as a \u escape (an astral character as an escaped pair).
    if (escapeNonAscii) {
      text = text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    }
    return around[0] + text + around[1];
  });

/**
 * A document of ~3 MB of strings of "é", "日本" and "😀" after `prefix`, with leading spaces so
 * that a character straddles every read-chunk boundary (the byte there is a UTF-8 continuation
 * byte).
 */
function straddlingDocument(prefix = ""): string {
  const servers = Array.from({ length: 300 }, (_, i) => ({
    id: i,
    text: `${"é".repeat(7)}日本${"😀".repeat(3)}${"x".repeat(i % 3)}`.repeat(300),
  }));
  const body = JSON.stringify({ servers });
  for (let padding = 0; padding < 16; padding++) {
    const text = prefix + " ".repeat(padding) + body;
    const bytes = Buffer.from(text);
    const boundaries = Array.from({ length: Math.floor(bytes.length / CHUNK) }, (_, k) => (k + 1) * CHUNK);
    if (boundaries.every((at) => (bytes[at]! & 0xc0) === 0x80)) return text;
  }
  throw new Error("no padding puts a multi-byte character on every chunk boundary");
}

// A worker costs ~0.3 s to start under vitest (tsx's loader): fewer property runs there.
const readers: { name: string; read: Read; runs: number }[] = [
  { name: "readRawBatches", read: (file) => readRawBatches(file, "json"), runs: 50 },
  { name: "readInWorker", read: (file) => readInWorker(file, "json"), runs: 20 },
];

const valid: { name: string; text: () => string }[] = [
  {
    name: "records of all three lists",
    text: () => '{"checkpoint_items":[{"a":1}],"servers":[{"b":2}],"volumes":[{}]}',
  },
  {
    name: "lists in another order",
    text: () => '{"volumes":[{"v":0},{"v":1}],"checkpoint_items":[{"c":[1,{"d":null}]}]}',
  },
  { name: "whitespace around every token", text: () => '\r\n{ "servers" :\t[ {"a" : 1} ,\n{ } ] , "volumes":[ ] }\n' },
  { name: "a list's name with a \\u escape", text: () => '{"serv\\u0065rs": [{"a": 1}]}' },
  { name: "a UTF-8 BOM before the document", text: () => '\uFEFF{"servers":[{"name":"é"}]}' },
  { name: "{} (no lists)", text: () => "{}" },
  { name: "an empty list", text: () => '{"servers": []}' },
  { name: "a file of over 1 MiB with characters across its read chunks", text: () => straddlingDocument() },
  { name: "a BOM before a file of over 1 MiB", text: () => straddlingDocument("\uFEFF") },
  {
    name: "one record of over 2 MiB (across three read chunks)",
    text: () => JSON.stringify({ volumes: [{ a: 1 }, { big: "é😀x".repeat(300_000) }, { b: 2 }] }),
  },
  {
    name: "more than a batch of records, lists changing within a batch",
    text: () =>
      JSON.stringify({
        servers: Array.from({ length: 300 }, (_, i) => ({ s: i })),
        volumes: [{ v: 0 }],
        checkpoint_items: Array.from({ length: 600 }, (_, i) => ({ c: i, nested: [{ i }] })),
      }),
  },
  // Not records validation would accept, but the reader hands them on for it to name.
  { name: "records that are not objects", text: () => '{"servers": [5, "x", null, true, [1, {"a": 2}], -1.5e3]}' },
];

const badDocuments: { name: string; text: string; path: string; part?: string }[] = [
  { name: "root an array", text: "[]", path: "(root)" },
  { name: "root a number", text: "5", path: "(root)" },
  { name: "root a string", text: '"x"', path: "(root)" },
  { name: "root null", text: "null", path: "(root)" },
  { name: "an unknown key", text: '{"flavors": []}', path: "(root)", part: "flavors" },
  { name: "a key twice", text: '{"servers": [], "servers": []}', path: "servers", part: "twice" },
  { name: "a list that is an object", text: '{"servers": {}}', path: "servers", part: "must be an array" },
  { name: "a list that is a number", text: '{"servers": 5}', path: "servers", part: "must be an array" },
  { name: "an empty file", text: "", path: "(file)" },
  { name: "a whitespace-only file", text: " \n\t\r\n", path: "(file)" },
  { name: "cut short inside a record", text: '{"servers": [{"id": "a"}, {"id": "b', path: "(file)" },
  { name: "cut short between records", text: '{"servers": [{"id": "a"},', path: "(file)" },
  { name: "cut short after a list", text: '{"servers": []', path: "(file)" },
  { name: "a word after the document", text: '{"servers": []} x', path: "(file)" },
  { name: "a second document", text: "{} {}", path: "(file)" },
];

// The 4th server (servers[3]) is not JSON; the records before it are.
const badRecords = ['{"id" "x"}', '{"id": 1,}', '{"a": [}'];

describe.each(readers)("$name on a JSON document", ({ read, runs }) => {
  it("yields JSON.parse's records in document order (property)", async () => {
    await fc.assert(
      fc.asyncProperty(documentText, async (text) => {
        const { records, error } = await readAll(read, write(text));
        expect(error).toBeUndefined();
        expect(records).toEqual(parsedRecords(text));
      }),
      { numRuns: runs },
    );
  }, 120_000);

  it.each(valid)("$name: the records of JSON.parse", async ({ text }) => {
    const file = write(text());
    const { records, error } = await readAll(read, file);
    expect(error).toBeUndefined();
    expect(records).toEqual(parsedRecords(readFileSync(file, "utf8")));
  });

  it.each(badDocuments)("$name: InventoryError at $path", async ({ text, path, part }) => {
    const { error } = await readAll(read, write(text));
    expectInventoryError(error, path, part);
  });

  it("a missing file: InventoryError at (file)", async () => {
    const { error } = await readAll(read, join(dir, "missing.json"));
    expectInventoryError(error, "(file)");
  });

  it.each(badRecords)("a record %s: InventoryError at servers[3], after the records before it", async (bad) => {
    const file = write(`{"servers": [{"id": 0}, {"id": 1}, {"id": 2}, ${bad}, {"id": 4}]}`);
    const { records, error } = await readAll(read, file);
    expectInventoryError(error, "servers[3]", "not JSON");
    expect(where(records)).toEqual(["servers[0]", "servers[1]", "servers[2]"]);
  });
});

describe.each([false, true])("importInventoryFile into SQLite (worker: %s)", (worker) => {
  let store: Store;
  beforeAll(async () => {
    store = await createStore({ kind: "sqlite", path: join(mkdtempSync(join(dir, "db-")), "inventory.db") });
  });
  afterAll(() => store?.close());

  const ids = Array.from({ length: 6 }, (_, s) => benchId("server", s));
  /** Six servers: servers[1] with `status`, servers[5] replaced by `last` (raw text). */
  const serversFile = (status: string, last?: string) => {
    const servers = ids.map((_, s) => JSON.stringify({ ...serverRecord(s), ...(s === 1 ? { status } : {}) }));
    if (last !== undefined) servers[5] = last;
    return write(`{"servers": [${servers.join(",\n")}]}`);
  };

  it("a bad record before a record that is not JSON: the bad record's path, nothing written", async () => {
    const error = await importInventoryFile(store, serversFile("", '{"id" "x"}'), { worker }).catch((e: unknown) => e);
    expectInventoryError(error, "servers[1].status");
    expect((await store.getServers(BENCH_PROJECT, ids)).size).toBe(0);

    // The same file without its two faults is imported whole: the lookup above would have seen them.
    expect(await importInventoryFile(store, serversFile("ACTIVE"), { worker })).toMatchObject({ servers: 6 });
    expect((await store.getServers(BENCH_PROJECT, ids)).size).toBe(6);
  });
});
