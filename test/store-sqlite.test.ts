import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type ConnectError, createHandlerContext } from "@connectrpc/connect";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  CheckProtectableRequestSchema,
  CheckRestorableRequestSchema,
  ResourceService,
} from "../gen/csbs/v1/resource_service_pb.js";
import { createAuthenticator } from "../src/auth/authenticator.js";
import { mintToken } from "../src/auth/mint-token.js";
import { CSBS_PROVIDER } from "../src/domain/csbs-provider.js";
import { type InventoryJson, parseInventory } from "../src/domain/inventory-schema.js";
import type { Inventory } from "../src/domain/types.js";
import { loadConfig } from "../src/server/config.js";
import { createCallGuard } from "../src/service/call-guard.js";
import { createResourceService } from "../src/service/resource-service.js";
import { InventoryError, importInventory, importInventoryFile } from "../src/store/import-inventory.js";
import { createSqliteStore } from "../src/store/sqlite-store.js";
import type { Store } from "../src/store/store.js";
import { demoCases, type RestoreCase } from "./support/demo-cases.js";
import { protectMessage, restoreMessage } from "./support/demo-requests.js";
import { DEMO_INVENTORY, TEST_SECRET } from "./support/test-server.js";

/**
 * The SQLite store on a real file, through the real service: the number of queries per
 * request (batched: constant whatever the number of entries), the inventory import round
 * trip, a bad file rejected with its record's path and nothing written, and project
 * isolation. (The store contract shared with PostgreSQL lives in test/store-*-contract.)
 */

const PROJECT = demoCases.project_id;
const OTHER = demoCases.other_project_id;
const PROVIDER = demoCases.provider_id;
const demoJson = JSON.parse(readFileSync(DEMO_INVENTORY, "utf8")) as InventoryJson;

/** Stores are opened while the suites are collected, so the directory exists from the start. */
const dir = mkdtempSync(join(tmpdir(), "store-sqlite-test-"));
const opened: Store[] = [];

afterAll(async () => {
  for (const s of opened) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

let fileNo = 0;
/** A new SQLite file with its own store; every query is counted by table. */
function openStore() {
  const path = join(dir, `store-${++fileNo}.db`);
  const queries = new Map<string, number>();
  const store = createSqliteStore({ path, onQuery: (table) => queries.set(table, (queries.get(table) ?? 0) + 1) });
  opened.push(store);
  return { path, store, queries };
}

/** Row counts of every table, read through a second connection to the same file. */
interface RowCounts {
  checkpoint_items: number;
  volume_backups: number;
  servers: number;
  volumes: number;
  providers: number;
}

function rowCounts(path: string): RowCounts {
  const db = new Database(path, { readonly: true });
  try {
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      checkpoint_items: count("checkpoint_items"),
      volume_backups: count("volume_backups"),
      servers: count("servers"),
      volumes: count("volumes"),
      providers: count("providers"),
    };
  } finally {
    db.close();
  }
}

function expectedInventory(json: unknown): Inventory {
  const parsed = parseInventory(json);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.inventory;
}

describe("batched lookups: queries per request through the real service", () => {
  const { store, queries } = openStore();
  const guard = createCallGuard({
    authenticator: createAuthenticator(loadConfig({ AUTH_JWT_SECRET: TEST_SECRET }).auth),
    logger: pino({ level: "silent" }),
  });
  const service = createResourceService({ store, guard, limits: { maxCheckItems: 100, maxVolumes: 64 } });
  let token: string;

  beforeAll(async () => {
    await importInventoryFile(store, DEMO_INVENTORY);
    token = await mintToken({ secret: TEST_SECRET, projectId: PROJECT });
  });

  function ctxFor(
    method: typeof ResourceService.method.checkRestorable | typeof ResourceService.method.checkProtectable,
  ) {
    return createHandlerContext({
      service: ResourceService,
      method,
      protocolName: "test",
      requestMethod: "POST",
      url: `/${ResourceService.typeName}/${method.name}`,
      requestHeader: { "x-auth-token": token },
    });
  }

  async function restore(requests: ReadonlyArray<RestoreCase["request"]>) {
    queries.clear();
    const req = create(
      CheckRestorableRequestSchema,
      restoreMessage(requests, { projectId: PROJECT, providerId: PROVIDER }),
    );
    const res = await service.checkRestorable(req, ctxFor(ResourceService.method.checkRestorable));
    return { res, queries: Object.fromEntries(queries) };
  }

  async function protect(n: number) {
    queries.clear();
    const cases = Array.from({ length: n }, (_, i) => demoCases.protect[i % demoCases.protect.length]!);
    const req = create(
      CheckProtectableRequestSchema,
      protectMessage(
        cases.map((c) => c.request),
        { projectId: PROJECT, providerId: PROVIDER },
      ),
    );
    const res = await service.checkProtectable(req, ctxFor(ResourceService.method.checkProtectable));
    return { res, cases, queries: Object.fromEntries(queries) };
  }

  // One query per table per request: the provider, the items, their backups, the servers, their volumes.
  const RESTORE_QUERIES = { providers: 1, checkpoint_items: 1, volume_backups: 1, servers: 1, volumes: 1 };
  const PROTECT_QUERIES = { providers: 1, servers: 1, volumes: 1 };

  it("a 1-entry CheckRestorable makes one query per table", async () => {
    const { res, queries } = await restore([demoCases.restore[0]!.request]);
    expect(res.restorable).toHaveLength(1);
    expect(queries).toEqual(RESTORE_QUERIES);
  });

  it("a 100-entry CheckRestorable (every rule case, repeated) makes the same queries", async () => {
    const cases = Array.from({ length: 100 }, (_, i) => demoCases.restore[i % demoCases.restore.length]!);
    const { res, queries } = await restore(cases.map((c) => c.request));
    expect(res.restorable?.map((r) => r.errorCode)).toEqual(cases.map((c) => c.expected.error_code));
    expect(queries).toEqual(RESTORE_QUERIES);
  });

  it("1, 10 and 100 protect entries make the same queries", async () => {
    for (const n of [1, 10, 100]) {
      const { res, cases, queries } = await protect(n);
      expect(res.protectable?.map((r) => r.errorCode)).toEqual(cases.map((c) => c.expected.error_code));
      expect(queries).toEqual(PROTECT_QUERIES);
    }
  });

  it("a request that fails validation makes no query", async () => {
    const bad = structuredClone(demoCases.restore[0]!);
    bad.request.target.volumes[0]!.volume_id = "not-a-uuid";
    const err = (await restore([bad.request]).catch((e: unknown) => e)) as ConnectError;
    expect(err.rawMessage).toBe("check_restorable[0].target.volumes[0].volume_id: must be a UUID");
    expect(Object.fromEntries(queries)).toEqual({});
  });

  it("a project's check never sees another project's objects (the foreign item and server)", async () => {
    const foreign = demoCases.foreign;
    const [first, second] = foreign.mapping;
    const { res } = await restore([
      {
        checkpoint_item_id: foreign.checkpoint_item_id,
        target: { resource_id: foreign.server_id, resource_type: "OS::Nova::Server", volumes: [first!, second!] },
      },
      // A demo-project item restored onto the other project's server: the server does not exist.
      {
        ...demoCases.restore[1]!.request,
        target: { ...demoCases.restore[1]!.request.target, resource_id: foreign.server_id },
      },
    ]);
    expect(res.restorable?.map((r) => [r.errorCode, r.errorMsg])).toEqual([
      ["CSBS.3001", `Checkpoint_item (${foreign.checkpoint_item_id}) is not found.`],
      ["CSBS.6000", "server do not exist"],
    ]);
  });
});

describe("inventory import round trip", () => {
  const { path, store } = openStore();
  const inventory = expectedInventory(demoJson);
  const projects = [...new Set(inventory.servers.map((s) => s.projectId))];

  it("imports the demo inventory: one row per record", async () => {
    const counts = await importInventoryFile(store, DEMO_INVENTORY);
    expect(counts).toEqual({
      checkpointItems: demoJson.checkpoint_items!.length,
      servers: demoJson.servers!.length,
      volumes: demoJson.volumes!.length,
    });
    expect(rowCounts(path)).toEqual({
      checkpoint_items: inventory.checkpointItems.length,
      volume_backups: inventory.checkpointItems.reduce((n, c) => n + c.volumeBackups.length, 0),
      servers: inventory.servers.length,
      volumes: inventory.volumes.length,
      providers: 1,
    });
    expect(projects.sort()).toEqual([OTHER, PROJECT].sort());
  });

  it("reads back every checkpoint item with its volume backups in file order", async () => {
    for (const project of projects) {
      const mine = inventory.checkpointItems.filter((c) => c.projectId === project);
      const read = await store.getCheckpointItems(
        project,
        PROVIDER,
        mine.map((c) => c.id),
      );
      expect(read).toEqual(new Map(mine.map((c) => [c.id, c])));
    }
  });

  it("reads back every server", async () => {
    for (const project of projects) {
      const mine = inventory.servers.filter((s) => s.projectId === project);
      const read = await store.getServers(
        project,
        mine.map((s) => s.id),
      );
      expect(read).toEqual(new Map(mine.map((s) => [s.id, s])));
    }
  });

  it("reads back every attached volume, grouped by server and ordered by volume id", async () => {
    for (const project of projects) {
      const mine = inventory.volumes.filter((v) => v.projectId === project && v.serverId !== null);
      const serverIds = [...new Set(mine.map((v) => v.serverId!))];
      const read = await store.getAttachedVolumes(project, serverIds);
      const expected = new Map(
        serverIds.map((id) => [
          id,
          mine.filter((v) => v.serverId === id).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
        ]),
      );
      expect(read).toEqual(expected);
    }
  });

  it("importing the same file again changes nothing (upsert)", async () => {
    const before = rowCounts(path);
    await importInventoryFile(store, DEMO_INVENTORY);
    expect(rowCounts(path)).toEqual(before);
  });

  it("a second import updates records and replaces an item's volume backups", async () => {
    const before = rowCounts(path);
    const doc = structuredClone(demoJson);
    const item = doc.checkpoint_items!.find((c) => c.project_id === PROJECT && c.volume_backups.length >= 2)!;
    const server = doc.servers!.find((s) => s.project_id === PROJECT)!;
    const volume = doc.volumes!.find((v) => v.project_id === PROJECT)!;
    item.status = "deleted";
    item.volume_backups = item.volume_backups.slice(1);
    server.status = "SHUTOFF";
    server.policy_id = "policy-1";
    volume.server_id = null;
    await importInventory(store, { checkpoint_items: [item], servers: [server], volumes: [volume] });

    expect(rowCounts(path)).toEqual({ ...before, volume_backups: before.volume_backups - 1 });
    const readItem = (await store.getCheckpointItems(PROJECT, PROVIDER, [item.id])).get(item.id)!;
    expect(readItem.status).toBe("deleted");
    expect(readItem.volumeBackups.map((b) => b.id)).toEqual(item.volume_backups.map((b) => b.id));
    const readServer = (await store.getServers(PROJECT, [server.id])).get(server.id)!;
    expect([readServer.status, readServer.policyId]).toEqual(["SHUTOFF", "policy-1"]);
    // Detached: no longer among the server's attached volumes.
    const attached = await store.getAttachedVolumes(PROJECT, [
      demoJson.volumes!.find((v) => v.id === volume.id)!.server_id!,
    ]);
    expect([...attached.values()].flat().map((v) => v.id)).not.toContain(volume.id);
  });
});

describe("a bad inventory file is rejected with its record's path, and nothing of it is written", () => {
  const { path, store } = openStore();
  let before: RowCounts;

  beforeAll(async () => {
    await importInventoryFile(store, DEMO_INVENTORY);
    before = rowCounts(path);
  });
  afterEach(() => {
    expect(rowCounts(path)).toEqual(before);
  });

  const NEW_ID = "0000aaaa-0000-4000-8000-000000000001";
  /** The demo inventory plus a new good record at the front of each list, then the damage. */
  function damaged(damage: (doc: Required<InventoryJson>) => void): unknown {
    const doc = structuredClone(demoJson) as Required<InventoryJson>;
    doc.servers.unshift({ ...doc.servers[0]!, id: NEW_ID, project_id: "new-project" });
    doc.volumes.unshift({ ...doc.volumes[0]!, id: NEW_ID, project_id: "new-project", server_id: NEW_ID });
    doc.checkpoint_items.unshift({
      ...doc.checkpoint_items[0]!,
      id: NEW_ID,
      project_id: "new-project",
      volume_backups: [],
    });
    damage(doc);
    return doc;
  }

  const cases: ReadonlyArray<{
    name: string;
    damage: (doc: Required<InventoryJson>) => void;
    path: string;
    message: string;
  }> = [
    {
      name: "an empty server status (the last server)",
      damage: (doc) => {
        doc.servers[doc.servers.length - 1]!.status = "";
      },
      path: `servers[${demoJson.servers!.length}].status`,
      message: "must not be empty",
    },
    {
      name: "a negative volume size",
      damage: (doc) => {
        doc.volumes[5]!.size = -1;
      },
      path: "volumes[5].size",
      message: "must not be negative",
    },
    {
      name: "a fractional volume backup size",
      damage: (doc) => {
        doc.checkpoint_items[3]!.volume_backups[1]!.source_volume_size = 1.5;
      },
      path: "checkpoint_items[3].volume_backups[1].source_volume_size",
      message: "must be a whole number of GB",
    },
    {
      name: "a non-UUID volume backup id",
      damage: (doc) => {
        doc.checkpoint_items[2]!.volume_backups[0]!.id = "backup-1";
      },
      path: "checkpoint_items[2].volume_backups[0].id",
      message: "must be a UUID",
    },
    {
      name: "a bad project id",
      damage: (doc) => {
        doc.volumes[7]!.project_id = "bad project";
      },
      path: "volumes[7].project_id",
      message: "must be 1-64 characters of [A-Za-z0-9-]",
    },
    {
      name: "a duplicate server id",
      damage: (doc) => {
        doc.servers.push({ ...doc.servers[4]! });
      },
      path: `servers[${demoJson.servers!.length + 1}].id`,
      message: "duplicate id in this inventory",
    },
    {
      name: "a missing field",
      damage: (doc) => {
        delete (doc.servers[2] as Partial<(typeof doc.servers)[number]>).availability_zone;
      },
      path: "servers[2].availability_zone",
      message: "",
    },
  ];

  it.each(cases)("$name → $path", async ({ damage, path: recordPath, message }) => {
    const err = await importInventory(store, damaged(damage)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InventoryError);
    expect((err as InventoryError).path).toBe(recordPath);
    expect((err as InventoryError).message).toContain(`${recordPath}: ${message}`);
    // The new, good records that came before the bad one were not written either.
    expect((await store.getServers("new-project", [NEW_ID])).size).toBe(0);
  });

  it("the same, from a file on disk", async () => {
    const file = join(dir, "bad-inventory.json");
    writeFileSync(
      file,
      JSON.stringify(
        damaged((doc) => {
          doc.volumes[9]!.bootable = "yes" as never;
        }),
      ),
    );
    const err = await importInventoryFile(store, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InventoryError);
    expect((err as InventoryError).path).toBe("volumes[9].bootable");
  });

  it("a file that is not JSON is rejected as a whole", async () => {
    const file = join(dir, "not-json.json");
    writeFileSync(file, '{"servers": [');
    const err = await importInventoryFile(store, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InventoryError);
    expect((err as InventoryError).path).toBe("(file)");
  });

  it("a document that is not an object is rejected at its root", async () => {
    const err = await importInventory(store, [demoJson]).catch((e: unknown) => e);
    expect((err as InventoryError).path).toBe("(root)");
  });
});

describe("project isolation in the store", () => {
  const { store } = openStore();
  const SHARED = {
    item: "5e5e5e5e-0000-4000-8000-000000000001",
    server: "5e5e5e5e-0000-4000-8000-000000000002",
    volume: "5e5e5e5e-0000-4000-8000-000000000003",
    backup: "5e5e5e5e-0000-4000-8000-000000000004",
  };

  /** The same ids in two projects, with different contents. */
  function recordsOf(project: string, status: string, size: number): InventoryJson {
    return {
      checkpoint_items: [
        {
          id: SHARED.item,
          project_id: project,
          provider_id: PROVIDER,
          checkpoint_id: SHARED.item,
          resource_id: SHARED.server,
          resource_type: "OS::Nova::Server",
          status: status === "ACTIVE" ? "available" : "restoring",
          resource_az: "az1",
          supported_restore_mode: "backup",
          volume_backups: [
            // Backup ids are unique in one file; the second project's import is its own file.
            {
              id: SHARED.backup,
              source_volume_id: SHARED.volume,
              source_volume_size: size,
              bootable: true,
              status: "available",
            },
          ],
        },
      ],
      servers: [{ id: SHARED.server, project_id: project, type: "OS::Nova::Server", status, availability_zone: "az1" }],
      volumes: [
        {
          id: SHARED.volume,
          project_id: project,
          server_id: SHARED.server,
          size,
          bootable: true,
          shareable: false,
          status: "in-use",
        },
      ],
    };
  }

  beforeAll(async () => {
    await importInventory(store, recordsOf("project-a", "ACTIVE", 40));
    await importInventory(store, recordsOf("project-b", "ERROR", 80));
    await importInventoryFile(store, DEMO_INVENTORY);
  });

  it("the same ids in two projects are two objects, each seen only by its project", async () => {
    const a = await store.getServers("project-a", [SHARED.server]);
    const b = await store.getServers("project-b", [SHARED.server]);
    expect([a.get(SHARED.server)?.status, b.get(SHARED.server)?.status]).toEqual(["ACTIVE", "ERROR"]);
    const ia = await store.getCheckpointItems("project-a", PROVIDER, [SHARED.item]);
    const ib = await store.getCheckpointItems("project-b", PROVIDER, [SHARED.item]);
    expect([ia.get(SHARED.item)?.status, ib.get(SHARED.item)?.status]).toEqual(["available", "restoring"]);
    expect(ia.get(SHARED.item)?.volumeBackups.map((v) => v.sourceVolumeSize)).toEqual([40]);
    expect(ib.get(SHARED.item)?.volumeBackups.map((v) => v.sourceVolumeSize)).toEqual([80]);
    const va = await store.getAttachedVolumes("project-a", [SHARED.server]);
    const vb = await store.getAttachedVolumes("project-b", [SHARED.server]);
    expect([va.get(SHARED.server)?.map((v) => v.size), vb.get(SHARED.server)?.map((v) => v.size)]).toEqual([
      [40],
      [80],
    ]);
  });

  it("project B's objects do not exist for project A lookups", async () => {
    const f = demoCases.foreign;
    expect((await store.getCheckpointItems(PROJECT, PROVIDER, [f.checkpoint_item_id])).size).toBe(0);
    expect((await store.getServers(PROJECT, [f.server_id])).size).toBe(0);
    expect((await store.getAttachedVolumes(PROJECT, [f.server_id])).size).toBe(0);
    // ...while project B sees them.
    expect((await store.getCheckpointItems(OTHER, PROVIDER, [f.checkpoint_item_id])).size).toBe(1);
    expect((await store.getServers(OTHER, [f.server_id])).size).toBe(1);
    expect((await store.getAttachedVolumes(OTHER, [f.server_id])).get(f.server_id)?.length).toBeGreaterThan(0);
  });

  it("a project id is matched exactly (no prefix, no case folding)", async () => {
    for (const p of ["project-", "PROJECT-A", "project-a ", "%", "project-_"]) {
      expect((await store.getServers(p, [SHARED.server])).size).toBe(0);
    }
  });

  it("checkpoint items are scoped to the provider too", async () => {
    const otherProvider = "0f0f0f0f-0000-4000-8000-000000000000";
    expect(await store.hasProvider(CSBS_PROVIDER.id)).toBe(true);
    expect(await store.hasProvider(otherProvider)).toBe(false);
    expect((await store.getCheckpointItems("project-a", otherProvider, [SHARED.item])).size).toBe(0);
  });
});
