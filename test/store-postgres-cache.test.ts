import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type InventoryJson, parseInventory } from "../src/domain/inventory-schema.js";
import { createPostgresStore } from "../src/store/postgres-store.js";
import type { CheckLookup, Store } from "../src/store/store.js";
import { demoCases } from "./support/demo-cases.js";
import { createTestDatabase, testDatabaseUrl } from "./support/postgres.js";
import { DEMO_INVENTORY } from "./support/test-server.js";

/**
 * The PostgreSQL store's cache across instances: two stores (two service instances) on one
 * real database. A check repeated on one instance reads nothing; a change committed by the
 * other instance, or by SQL by hand, reaches it through the triggers' NOTIFY and its next
 * lookUp reads again; its own writes are seen by its very next lookUp; when its listening
 * connection is killed it stops trusting its cache and, once listening again, caches again.
 * Skipped without TEST_DATABASE_URL (an error in CI).
 */

const baseUrl = testDatabaseUrl();
const PROJECT = demoCases.project_id;
const PROVIDER = demoCases.provider_id;
const restorable = demoCases.restore.find((c) => c.expected.result)!;
const serverId = restorable.request.target.resource_id;
const lookup: CheckLookup = {
  projectId: PROJECT,
  providerId: PROVIDER,
  checkpointItemIds: [restorable.request.checkpoint_item_id],
  serverIds: [serverId],
};
const demo = JSON.parse(readFileSync(DEMO_INVENTORY, "utf8")) as InventoryJson;
const serverJson = demo.servers!.find((s) => s.id === serverId)!;

/** How long a notification may take to reach the other instance here (loopback): generous. */
const DELIVERY_MS = 3_000;

describe.skipIf(baseUrl === undefined)("PostgreSQL facts cache across instances", () => {
  let url: string;
  let admin: pg.Client;
  const queries = { a: [] as string[], b: [] as string[] };
  let a: Store;
  let b: Store;

  const look = async (store: Store, log: string[]) => {
    log.length = 0;
    const facts = await store.lookUp(lookup);
    return { status: facts.servers.get(serverId)?.status, read: log.length > 0 };
  };
  /** B's lookUps until its answer has `status` (each read from the database), within DELIVERY_MS. */
  const untilB = async (status: string) => {
    const deadline = Date.now() + DELIVERY_MS;
    for (;;) {
      const seen = await look(b, queries.b);
      if (seen.status === status) return seen;
      if (Date.now() > deadline) throw new Error(`instance B still answers ${seen.status}, not ${status}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const setStatus = (status: string) => admin.query("UPDATE servers SET status = $1 WHERE id = $2", [status, serverId]);

  beforeAll(async () => {
    url = await createTestDatabase(baseUrl!, "cache");
    a = await createPostgresStore({ url, onQuery: (t) => queries.a.push(t) });
    b = await createPostgresStore({ url, onQuery: (t) => queries.b.push(t) });
    const parsed = parseInventory(demo);
    if (!parsed.ok) throw new Error(parsed.message);
    await a.write(parsed.inventory);
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await Promise.all([a?.close(), b?.close()]);
    const drop = new pg.Client({ connectionString: baseUrl });
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(new URL(url).pathname.slice(1))} WITH (FORCE)`);
    await drop.end();
  });
  beforeEach(async () => {
    await setStatus("ACTIVE");
    await untilB("ACTIVE");
  });

  it("a repeated check on one instance reads nothing", async () => {
    await look(b, queries.b);
    expect(await look(b, queries.b)).toEqual({ status: "ACTIVE", read: false });
    expect(b.cacheStats!().hits).toBeGreaterThan(0);
  });

  it("the other instance's write reaches it through the notification; its own write at once", async () => {
    await look(a, queries.a);
    await look(b, queries.b);
    await a.write({ checkpointItems: [], servers: [parsedServer("DELETED")], volumes: [] });
    // A's own write: its very next lookUp reads it.
    expect(await look(a, queries.a)).toEqual({ status: "DELETED", read: true });
    expect((await untilB("DELETED")).read).toBe(true);
    // And B caches again afterwards.
    expect(await look(b, queries.b)).toEqual({ status: "DELETED", read: false });
  });

  it("SQL by hand (no service involved) reaches both instances", async () => {
    await look(a, queries.a);
    await look(b, queries.b);
    await setStatus("SOFT_DELETED");
    expect((await untilB("SOFT_DELETED")).read).toBe(true);
    const deadline = Date.now() + DELIVERY_MS;
    while ((await look(a, queries.a)).status !== "SOFT_DELETED") {
      if (Date.now() > deadline) throw new Error("instance A never saw the change");
    }
  });

  it("its listening connection killed: it stops trusting its cache, then listens and caches again", async () => {
    await look(b, queries.b);
    expect((await look(b, queries.b)).read).toBe(false);
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'restorability-service (listener)'",
    );
    await setStatus("DELETED");
    expect((await untilB("DELETED")).read).toBe(true);
    // Listening again (backoff from 100 ms): a repeated check is served from the cache again,
    // and a later change still reaches it.
    const deadline = Date.now() + DELIVERY_MS;
    while ((await look(b, queries.b)).read) {
      if (Date.now() > deadline) throw new Error("instance B never cached again");
      await new Promise((r) => setTimeout(r, 20));
    }
    await setStatus("ACTIVE");
    expect((await untilB("ACTIVE")).read).toBe(true);
  });
});

function parsedServer(status: string) {
  const parsed = parseInventory({ servers: [{ ...serverJson, status }] });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.inventory.servers[0]!;
}
