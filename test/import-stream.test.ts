import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IMPORT_NODE_FLAGS } from "../bench/lib/databases.js";
import { BENCH_PROJECT, benchId, CSBS_PROVIDER_ID, itemRecord, writeInventoryFile } from "../bench/lib/inventory.js";
import { createStore } from "../src/store/create-store.js";
import {
  type ImportFileOptions,
  type ImportProgress,
  InventoryError,
  importInventoryFile as importFile,
} from "../src/store/import-inventory.js";
import type { Store } from "../src/store/store.js";
import { createTestDatabase, testDatabaseUrl } from "./support/postgres.js";

/**
 * Streamed file import (npm run import, INVENTORY_FILE): real generated files of a few
 * thousand items, as a JSON document and as NDJSON, into SQLite and PostgreSQL; a bad record
 * deep in the file leaves the store unchanged and is named by its path.
 */
const ITEMS = 3_000;
const ROOT = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(os.tmpdir(), "import-stream-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const files = { json: join(dir, "inventory.json"), ndjson: join(dir, "inventory.ndjson") };
beforeAll(async () => {
  await writeInventoryFile(files.json, ITEMS, "json");
  await writeInventoryFile(files.ndjson, ITEMS, "ndjson");
});

/** The NDJSON file with line `line` (1-based) changed. */
function ndjsonWith(name: string, line: number, change: (record: Record<string, unknown>) => void): string {
  const lines = readFileSync(files.ndjson, "utf8").split("\n");
  const record = JSON.parse(lines[line - 1]!) as Record<string, unknown>;
  change(record);
  lines[line - 1] = JSON.stringify(record);
  const file = join(dir, name);
  writeFileSync(file, lines.join("\n"));
  return file;
}

/** The JSON document of `items` generated items, `change` applied to item `index`. */
function jsonWith(name: string, index: number, change: (item: Record<string, unknown>) => void): string {
  const items = Array.from({ length: ITEMS }, (_, i) => itemRecord(i));
  change(items[index]!);
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ checkpoint_items: items }));
  return file;
}

const stores: { name: string; skip: boolean; open: () => Promise<Store> }[] = [
  {
    name: "SQLite",
    skip: false,
    open: () => createStore({ kind: "sqlite", path: join(mkdtempSync(join(dir, "db-")), "inventory.db") }),
  },
  {
    name: "PostgreSQL (TEST_DATABASE_URL)",
    skip: testDatabaseUrl() === undefined,
    open: async () => createStore({ kind: "postgres", url: await createTestDatabase(testDatabaseUrl()!, "import") }),
  },
];

const server = (i: number) => benchId("server", Math.floor(i / 10));

// Each store, with the file read on this thread and on a worker thread (readInWorker: the
// default for files of 16 MiB or more, forced here on files of ~2 MB).
const modes = stores.flatMap((store) =>
  [false, true].map((worker) => ({ ...store, worker, reader: worker ? "a worker thread" : "the importing thread" })),
);

describe.each(modes)("streamed import into $name, read on $reader", ({ skip, open, worker }) => {
  const importInventoryFile = (store: Store, file: string, options: ImportFileOptions = {}) =>
    importFile(store, file, { ...options, worker });
  let store: Store;
  beforeAll(async () => {
    if (!skip) store = await open();
  });
  afterAll(async () => store?.close());

  it.skipIf(skip).each(["json", "ndjson"] as const)("imports a %s file of a few thousand items", async (format) => {
    const progress: ImportProgress[] = [];
    const counts = await importInventoryFile(store, files[format], { onProgress: (p) => progress.push(p) });
    expect(counts).toEqual({ checkpointItems: ITEMS, servers: ITEMS / 10, volumes: (2 * ITEMS) / 10 });
    expect(progress.map((p) => p.phase)).toContain("reading");
    expect(progress.at(-1)).toMatchObject({ phase: "done", read: ITEMS * 1.3, written: ITEMS * 1.3 });
    expect(progress.at(-1)!.bytes).toBe(progress.at(-1)!.totalBytes);

    const ids = [0, 1234, ITEMS - 1].map((i) => benchId("item", i));
    const items = await store.getCheckpointItems(BENCH_PROJECT, CSBS_PROVIDER_ID, ids);
    expect(items.size).toBe(3);
    const last = items.get(benchId("item", ITEMS - 1))!;
    expect(last.resourceId).toBe(server(ITEMS - 1));
    expect(last.volumeBackups.map((b) => [b.id, b.sourceVolumeSize, b.bootable])).toEqual([
      [benchId("backup0", ITEMS - 1), 40, true],
      [benchId("backup1", ITEMS - 1), 100, false],
    ]);
    const volumes = await store.getAttachedVolumes(BENCH_PROJECT, [server(1234)]);
    expect(
      volumes
        .get(server(1234))!
        .map((v) => v.size)
        .sort(),
    ).toEqual([100, 40]);
    expect((await store.getServers(BENCH_PROJECT, [server(0)])).get(server(0))?.status).toBe("ACTIVE");
  });

  const bad: { name: string; file: () => string; path: string; message: string }[] = [
    {
      name: "a bad volume backup id deep in a JSON document",
      file: () =>
        jsonWith("bad-backup.json", 2345, (item) => {
          (item.volume_backups as Record<string, unknown>[])[1]!.id = "not-a-uuid";
        }),
      path: "checkpoint_items[2345].volume_backups[1].id",
      message: "checkpoint_items[2345].volume_backups[1].id: must be a UUID",
    },
    {
      name: "a bad record deep in an NDJSON file (its line is named too)",
      file: () => ndjsonWith("bad-status.ndjson", 2801, (r) => Object.assign(r, { status: "" })),
      path: "checkpoint_items[2800].status",
      message: "line 2801: checkpoint_items[2800].status: must not be empty",
    },
    {
      name: "a volume backup id repeated deep in the file",
      file: () =>
        jsonWith("duplicate-backup.json", 2999, (item) => {
          (item.volume_backups as Record<string, unknown>[])[0]!.id = benchId("backup1", 17);
        }),
      path: "checkpoint_items[2999].volume_backups[0].id",
      message: "duplicate id in this inventory",
    },
    {
      name: "a checkpoint item id repeated",
      file: () => jsonWith("duplicate-item.json", 2500, (item) => Object.assign(item, { id: benchId("item", 3) })),
      path: "checkpoint_items[2500].id",
      message: "duplicate id in this inventory",
    },
    {
      name: "an NDJSON line of an unknown kind",
      file: () => ndjsonWith("bad-kind.ndjson", 2000, (r) => Object.assign(r, { kind: "flavor" })),
      path: "line 2000.kind",
      message: "must be one of checkpoint_item, server, volume",
    },
    {
      name: "a document cut short",
      file: () => {
        const file = join(dir, "cut.json");
        writeFileSync(file, readFileSync(files.json, "utf8").slice(0, 100_000));
        return file;
      },
      path: "(file)",
      message: "cut.json: ",
    },
  ];

  it.skipIf(skip).each(bad)("$name: nothing is written, the path is named", async ({ file, path, message }) => {
    // A changed item (status "error") and a new server first in the file: neither may land.
    const before = await store.getCheckpointItems(BENCH_PROJECT, CSBS_PROVIDER_ID, [benchId("item", 5)]);
    const name = file();
    const error = await importInventoryFile(store, name).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InventoryError);
    expect((error as InventoryError).path).toBe(path);
    expect((error as InventoryError).message).toContain(message);
    const after = await store.getCheckpointItems(BENCH_PROJECT, CSBS_PROVIDER_ID, [benchId("item", 5)]);
    expect(after).toEqual(before);
  });

  it.skipIf(skip)("a rejected file leaves earlier records of it unwritten (all or nothing)", async () => {
    const file = join(dir, "new-then-bad.ndjson");
    const fresh = "7a1c0e52-1f0b-4f5e-9a57-2b8e3c4d5e6f";
    const lines = [
      JSON.stringify({ kind: "checkpoint_item", ...itemRecord(5), status: "error" }),
      JSON.stringify({ kind: "server", ...{ id: fresh, project_id: BENCH_PROJECT, type: "OS::Nova::Server" } }),
    ];
    writeFileSync(file, `${lines.join("\n")}\n`);
    // The server lacks status and availability_zone: rejected, and item 5 keeps "available".
    const error = await importInventoryFile(store, file).catch((e: unknown) => e);
    expect((error as InventoryError).path).toBe("servers[0].status");
    const item = await store.getCheckpointItems(BENCH_PROJECT, CSBS_PROVIDER_ID, [benchId("item", 5)]);
    expect(item.get(benchId("item", 5))?.status).toBe("available");
  });

  it.skipIf(skip)("a second import upserts: changed records replaced, volume backups replaced whole", async () => {
    const file = join(dir, "update.ndjson");
    const item = itemRecord(7) as { volume_backups: unknown[] };
    writeFileSync(
      file,
      `${JSON.stringify({ kind: "checkpoint_item", ...item, status: "error", volume_backups: item.volume_backups.slice(1) })}\n`,
    );
    expect(await importInventoryFile(store, file)).toEqual({ checkpointItems: 1, servers: 0, volumes: 0 });
    const got = (await store.getCheckpointItems(BENCH_PROJECT, CSBS_PROVIDER_ID, [benchId("item", 7)])).get(
      benchId("item", 7),
    )!;
    expect(got.status).toBe("error");
    expect(got.volumeBackups.map((b) => b.id)).toEqual([benchId("backup1", 7)]);
  });
});

const run = promisify(execFile);
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const CLI = join(ROOT, "src", "server", "cli", "import-cli.ts");

describe("npm run import (the real CLI, off a terminal)", () => {
  const env = (db: string) => ({ ...process.env, DATABASE_URL: db, AUTH_DEV_SECRET_FILE: join(dir, "secret") });

  it("runs Node with the flags the bench measures its import with (bench/lib/databases.ts)", () => {
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts.import).toBe(`node ${IMPORT_NODE_FLAGS.join(" ")} --import tsx src/server/cli/import-cli.ts`);
  });

  it("prints progress lines and one summary line", async () => {
    const db = join(mkdtempSync(join(dir, "cli-")), "inventory.db");
    const { stdout, stderr } = await run(TSX, [CLI, "--progress-interval", "0.001", files.ndjson], { env: env(db) });
    expect(stdout.trim().split("\n")).toHaveLength(1);
    expect(stdout).toMatch(
      new RegExp(
        `^${files.ndjson}: upserted ${ITEMS} checkpoint items, ${ITEMS / 10} servers, ${ITEMS / 5} volumes in [\\d.]+ s\\n$`,
      ),
    );
    const lines = stderr.trim().split("\n");
    expect(lines.length).toBeGreaterThan(2);
    expect(lines[0]).toMatch(
      /: reading: \d+ records read, \d+ written, \d+% of the file, \d+ records\/s, [\d.]+ s elapsed$/,
    );
    expect(stderr).toContain("merging checkpoint items");
  });

  it("a bad record: exit 1, nothing written, its path named", async () => {
    const db = join(mkdtempSync(join(dir, "cli-")), "inventory.db");
    const file = ndjsonWith("cli-bad.ndjson", 3400, (r) => Object.assign(r, { size: -1 }));
    const error = (await run(TSX, [CLI, file], { env: env(db) }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(1);
    expect(error.stderr).toContain("rejected, nothing written: line 3400: volumes[99].size: ");
    const store = await createStore({ kind: "sqlite", path: db });
    try {
      expect((await store.getServers(BENCH_PROJECT, [server(0)])).size).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("on a terminal (script(1) gives it one): a progress bar, then the summary line", async () => {
    const db = join(mkdtempSync(join(dir, "cli-")), "inventory.db");
    const command = `${TSX} ${CLI} ${files.json}`;
    const { stdout } = await run("script", ["-qec", command, "/dev/null"], { env: { ...env(db), COLUMNS: "200" } });
    expect(stdout).toContain(`${files.json}: upserted ${ITEMS} checkpoint items`);
    expect(stdout).toMatch(/\d+ read, \d+ written \| \d+ records\/s/);
  });
});
