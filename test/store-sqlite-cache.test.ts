import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { type InventoryJson, parseInventory } from "../src/domain/inventory-schema.js";
import { importInventoryFile } from "../src/store/import-inventory.js";
import { createSqliteStore } from "../src/store/sqlite-store.js";
import type { CheckLookup, Store } from "../src/store/store.js";
import { demoCases } from "./support/demo-cases.js";
import { httpRequest } from "./support/rest-client.js";
import { DEMO_INVENTORY, startTestServer, type TestServer } from "./support/test-server.js";

/**
 * The SQLite store's cache of looked-up objects (src/store/facts-cache.ts) is exact: a
 * repeated check reads no rows, and every committed change is seen by the next check,
 * whoever made it: this store's writes and bulk imports, another connection on the same
 * file (another process: `npm run import`, a second instance), rolled-back imports not at
 * all. Real SQLite files throughout; the last test runs the real import CLI beside a real
 * server.
 */

const ROOT = new URL("..", import.meta.url).pathname;
const PROJECT = demoCases.project_id;
const PROVIDER = demoCases.provider_id;
const demoJson = JSON.parse(readFileSync(DEMO_INVENTORY, "utf8")) as InventoryJson;
const restorable = demoCases.restore.find((c) => c.expected.result)!;
const lookup: CheckLookup = {
  projectId: PROJECT,
  providerId: PROVIDER,
  checkpointItemIds: [restorable.request.checkpoint_item_id],
  serverIds: [restorable.request.target.resource_id],
};
const serverId = restorable.request.target.resource_id;
const itemId = restorable.request.checkpoint_item_id;

const dir = mkdtempSync(join(tmpdir(), "restorability-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let path: string;
let store: Store;
let queries: string[];
let n = 0;

async function open(cacheEntries?: number): Promise<Store> {
  path = join(dir, `cache-${n++}.db`);
  queries = [];
  const opened = createSqliteStore({ path, onQuery: (table) => queries.push(table), cacheEntries });
  await opened.write(inventoryOf(demoJson));
  return opened;
}

/** What the check reads through lookUp, and the tables that read touched. */
async function look(l: CheckLookup = lookup) {
  queries = [];
  const facts = await store.lookUp(l);
  return { facts, tables: [...new Set(queries)] };
}

/** Another connection on the same file, as another process would have: one committed statement. */
function otherConnection(sql: string, ...params: unknown[]): void {
  const db = new Database(path);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

describe("SQLite facts cache", () => {
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store.close();
  });

  it("a repeated lookUp reads no rows and answers the same", async () => {
    const first = await look();
    expect(first.tables.length).toBeGreaterThan(0);
    const second = await look();
    expect(second.tables).toEqual([]);
    expect(second.facts).toEqual(first.facts);
    expect(store.cacheStats!().hits).toBeGreaterThanOrEqual(2);
  });

  // Each change, made by this store or by another connection, is seen by the very next lookUp.
  const changes: [string, (s: Store) => Promise<unknown>, (f: Awaited<ReturnType<typeof look>>["facts"]) => void][] = [
    [
      "this store's write of the server",
      (s) => s.write({ checkpointItems: [], servers: [{ ...server(), status: "DELETED" }], volumes: [] }),
      (f) => expect(f.servers.get(serverId)?.status).toBe("DELETED"),
    ],
    [
      "this store's delete of the item",
      (s) =>
        s.write({ checkpointItems: [], servers: [], volumes: [] }, [
          { projectId: PROJECT, checkpointItemIds: [itemId], serverIds: [], volumeIds: [] },
        ]),
      (f) => expect(f.items.has(itemId)).toBe(false),
    ],
    [
      "another connection's update of the server",
      async () => otherConnection("UPDATE servers SET status = 'DELETED' WHERE id = ?", serverId),
      (f) => expect(f.servers.get(serverId)?.status).toBe("DELETED"),
    ],
    [
      "another connection's update of a backup",
      async () =>
        otherConnection(
          "UPDATE volume_backups SET status = 'error' WHERE checkpoint_item_id = ? AND position = 0",
          itemId,
        ),
      (f) => expect(f.items.get(itemId)?.volumeBackups[0]?.status).toBe("error"),
    ],
    [
      "another connection's detach of a volume",
      async () => otherConnection("UPDATE volumes SET server_id = NULL WHERE server_id = ?", serverId),
      (f) => expect(f.volumes.get(serverId)).toBeUndefined(),
    ],
    [
      "another connection's delete of the item",
      async () => otherConnection("DELETE FROM checkpoint_items WHERE id = ?", itemId),
      (f) => expect(f.items.has(itemId)).toBe(false),
    ],
  ];
  it.each(changes)("sees %s at once", async (_name, change, check) => {
    await look();
    expect((await look()).tables).toEqual([]);
    await change(store);
    const after = await look();
    expect(after.tables.length).toBeGreaterThan(0);
    check(after.facts);
  });

  it("an object known to be missing appears as soon as another connection commits it", async () => {
    const newId = "0b0c0d0e-0000-4000-8000-000000000001";
    const missing = { ...lookup, checkpointItemIds: [newId] };
    expect((await look(missing)).facts.items.has(newId)).toBe(false);
    expect((await look(missing)).tables).toEqual([]);
    otherConnection(
      `INSERT INTO checkpoint_items SELECT project_id, ?, provider_id, checkpoint_id, resource_id, resource_type,
         status, resource_az, supported_restore_mode FROM checkpoint_items WHERE id = ?`,
      newId,
      itemId,
    );
    expect((await look(missing)).facts.items.get(newId)?.id).toBe(newId);
  });

  it("opened through a symbolic link (a decoy -shm beside the link): another connection's commit is seen at once", async () => {
    // SQLite keeps its -wal and -shm beside the file the link points to; the freshness check
    // must read that -shm, not a file beside the link.
    const link = join(dir, `link-${n}.db`);
    symlinkSync(path, link);
    writeFileSync(`${link}-shm`, Buffer.alloc(32_768));
    await store.close();
    store = createSqliteStore({ path: link, onQuery: (table) => queries.push(table) });
    await look();
    expect((await look()).tables).toEqual([]);
    otherConnection("UPDATE servers SET status = 'DELETED' WHERE id = ?", serverId);
    const after = await look();
    expect(after.tables.length).toBeGreaterThan(0);
    expect(after.facts.servers.get(serverId)?.status).toBe("DELETED");
  });

  it("a bulk import's commit is seen at once; a rejected import leaves the answer as it was", async () => {
    const before = await look();
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ servers: [{ ...serverJson(), status: "DELETED" }, { id: "not a record" }] }));
    await expect(importInventoryFile(store, bad)).rejects.toThrow(/servers\[1\]/);
    expect((await look()).facts).toEqual(before.facts);
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify({ servers: [{ ...serverJson(), status: "DELETED" }] }));
    await importInventoryFile(store, good);
    expect((await look()).facts.servers.get(serverId)?.status).toBe("DELETED");
  });

  it("bounded: with room for 2 items and 2 servers, every lookUp of the demo still answers what the tables hold", async () => {
    await store.close();
    store = await open(2);
    for (let round = 0; round < 2; round++) {
      for (const c of demoCases.restore) {
        const l = {
          projectId: PROJECT,
          providerId: PROVIDER,
          checkpointItemIds: [c.request.checkpoint_item_id],
          serverIds: [c.request.target.resource_id],
        };
        const { facts } = await look(l);
        expect(facts.items).toEqual(await store.getCheckpointItems(PROJECT, PROVIDER, l.checkpointItemIds));
        expect(facts.servers).toEqual(await store.getServers(PROJECT, l.serverIds));
        expect(facts.volumes).toEqual(await store.getAttachedVolumes(PROJECT, l.serverIds));
        expect(store.cacheStats!().entries).toBeLessThanOrEqual(4);
      }
    }
  });

  it("a large batch's objects are not kept (they would push out the small checks'), what it finds is used", async () => {
    const all: CheckLookup = {
      projectId: PROJECT,
      providerId: PROVIDER,
      checkpointItemIds: demoJson.checkpoint_items!.map((i) => i.id),
      serverIds: demoJson.servers!.map((sv) => sv.id),
    };
    expect(all.checkpointItemIds.length + all.serverIds.length).toBeGreaterThan(32);
    const first = await look(all);
    const again = await look(all);
    expect(again.tables.length).toBeGreaterThan(0);
    expect(again.facts).toEqual(first.facts);
    expect(store.cacheStats!().entries).toBe(0);
    // A small check is kept, and the next large batch uses it.
    await look();
    const hitsBefore = store.cacheStats!().hits;
    expect((await look(all)).facts).toEqual(first.facts);
    expect(store.cacheStats!().hits).toBe(hitsBefore + 2);
  });

  it("STORE_CACHE_ENTRIES=0: nothing is kept, every lookUp reads", async () => {
    await store.close();
    store = await open(0);
    await look();
    expect((await look()).tables.length).toBeGreaterThan(0);
    expect(store.cacheStats!().entries).toBe(0);
  });
});

function serverJson() {
  return demoJson.servers!.find((s) => s.id === serverId)!;
}
function server() {
  return inventoryOf({ servers: [serverJson()] }).servers[0]!;
}
function inventoryOf(json: InventoryJson) {
  const parsed = parseInventory(json);
  if (!parsed.ok) throw new Error(`${parsed.path}: ${parsed.message}`);
  return parsed.inventory;
}

describe("a running service and `npm run import` (another process) on one SQLite file", () => {
  let ts: TestServer;
  beforeEach(async () => {
    ts = await startTestServer();
  });
  afterEach(async () => {
    await ts.close();
  });

  it("the next check answers from what the import committed", async () => {
    const token = await ts.token();
    const check = async () => {
      const res = await httpRequest(ts.httpUrl, `/v1/${PROJECT}/providers/${PROVIDER}/resources/action`, {
        headers: { "content-type": "application/json", "x-auth-token": token },
        body: { check_restorable: [restorable.request] },
      });
      expect(res.status).toBe(200);
      return (res.json as { restorable: { result: boolean; error_code: string }[] }).restorable[0]!;
    };
    // Twice: the second answer comes from the cache.
    expect((await check()).result).toBe(true);
    expect((await check()).result).toBe(true);
    const file = join(ts.dir, "stopped.json");
    writeFileSync(file, JSON.stringify({ servers: [{ ...serverJson(), status: "DELETED" }] }));
    await promisify(execFile)(
      join(ROOT, "node_modules", ".bin", "tsx"),
      [join(ROOT, "src", "server", "cli", "import-cli.ts"), file],
      { env: { ...process.env, DATABASE_URL: ts.config.database.kind === "sqlite" ? ts.config.database.path : "" } },
    );
    const after = await check();
    expect(after.result).toBe(false);
    expect(after.error_code).toBe("CSBS.6001");
  });
});
