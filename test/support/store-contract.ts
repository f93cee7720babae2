import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CSBS_PROVIDER } from "../../src/domain/csbs-provider.js";
import type { CheckpointItem, Server, Volume, VolumeBackup } from "../../src/domain/types.js";
import { type QueryObserver, type Store, StoreUnavailableError } from "../../src/store/store.js";
import { aCheckpointItem, anInventory, aServer, aVolume, aVolumeBackup } from "./domain-builders.js";

/** Opens the store under test; the contract closes it in afterAll. */
export type OpenStore = (onQuery: QueryObserver) => Promise<Store>;

const PROVIDER = CSBS_PROVIDER.id;

/** A project of its own for each test, so the suite can share a database with other tests. */
function newProject(): string {
  return `contract-${randomUUID().slice(0, 18)}`;
}

function backup(size = 10, bootable = false): VolumeBackup {
  return aVolumeBackup({ sourceVolumeSize: size, bootable });
}

function item(projectId: string, overrides: Partial<CheckpointItem> = {}): CheckpointItem {
  return aCheckpointItem({ projectId, volumeBackups: [backup(40, true), backup(20)], ...overrides });
}

function server(projectId: string, overrides: Partial<Server> = {}): Server {
  return aServer({ projectId, ...overrides });
}

function volume(projectId: string, serverId: string | null, overrides: Partial<Volume> = {}): Volume {
  return aVolume({ projectId, serverId, ...overrides });
}

const inventory = anInventory;

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The store contract: every Store implementation passes these tests unchanged (SQLite on a
 * temp file, PostgreSQL on a real server). Pass `skip` to report them as skipped.
 */
/**
 * `cached`: the store keeps looked-up objects between lookUps (SQLite's facts cache), so a
 * lookUp may read fewer tables than the first time; what it answers must not change.
 */
export function defineStoreContract(
  name: string,
  open: OpenStore,
  options: { skip?: boolean; cached?: boolean } = {},
): void {
  describe.skipIf(options.skip ?? false)(`Store contract: ${name}`, () => {
    let store: Store;
    let queries: string[] = [];
    let project: string;

    beforeAll(async () => {
      store = await open((table) => queries.push(table));
    });
    afterAll(async () => {
      await store?.close();
    });
    beforeEach(() => {
      project = newProject();
      queries = [];
    });

    it("knows the CSBS provider and no other", async () => {
      expect(await store.hasProvider(PROVIDER)).toBe(true);
      expect(await store.hasProvider(randomUUID())).toBe(false);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it("batched lookups return exactly the asked-for objects, with volume backups in order", async () => {
      const items = [item(project), item(project, { volumeBackups: [] }), item(project)];
      const otherProvider = item(project, { providerId: randomUUID() });
      const servers = [server(project), server(project, { status: "ERROR", policyId: "policy-1" }), server(project)];
      const volumes = [
        volume(project, servers[0]!.id, { bootable: true }),
        volume(project, servers[0]!.id),
        volume(project, servers[0]!.id, { shareable: true, size: 7 }),
        volume(project, servers[1]!.id),
        volume(project, null),
      ];
      const counts = await store.write(inventory({ checkpointItems: [...items, otherProvider], servers, volumes }));
      expect(counts).toEqual({ checkpointItems: 4, servers: 3, volumes: 5 });

      const found = await store.getCheckpointItems(project, PROVIDER, [
        items[0]!.id,
        items[1]!.id,
        otherProvider.id,
        randomUUID(),
      ]);
      expect([...found.keys()].sort()).toEqual([items[0]!.id, items[1]!.id].sort());
      expect(found.get(items[0]!.id)).toEqual(items[0]);
      expect(found.get(items[1]!.id)).toEqual(items[1]);

      const foundServers = await store.getServers(project, [servers[1]!.id, servers[2]!.id, randomUUID()]);
      expect([...foundServers.keys()].sort()).toEqual([servers[1]!.id, servers[2]!.id].sort());
      expect(foundServers.get(servers[1]!.id)).toEqual(servers[1]);

      const attached = await store.getAttachedVolumes(project, [servers[0]!.id, servers[1]!.id, servers[2]!.id]);
      expect(attached.get(servers[0]!.id)).toEqual(volumes.slice(0, 3).sort(byId));
      expect(attached.get(servers[1]!.id)).toEqual([volumes[3]]);
      expect(attached.has(servers[2]!.id)).toBe(false);
    });

    it("empty id lists return empty maps", async () => {
      expect((await store.getCheckpointItems(project, PROVIDER, [])).size).toBe(0);
      expect((await store.getServers(project, [])).size).toBe(0);
      expect((await store.getAttachedVolumes(project, [])).size).toBe(0);
    });

    it("is scoped to the project: another project's objects do not exist", async () => {
      const other = newProject();
      const mine = item(project);
      const theirs = { ...item(other), id: mine.id, status: "deleted", volumeBackups: [backup(99)] };
      const myServer = server(project);
      const theirServer = { ...server(other), id: myServer.id, status: "SHUTOFF" };
      const theirVolume = volume(other, myServer.id);
      await store.write(inventory({ checkpointItems: [mine], servers: [myServer] }));
      await store.write(inventory({ checkpointItems: [theirs], servers: [theirServer], volumes: [theirVolume] }));

      expect((await store.getCheckpointItems(project, PROVIDER, [mine.id])).get(mine.id)).toEqual(mine);
      expect((await store.getCheckpointItems(other, PROVIDER, [mine.id])).get(mine.id)).toEqual(theirs);
      expect((await store.getServers(project, [myServer.id])).get(myServer.id)).toEqual(myServer);
      expect((await store.getAttachedVolumes(project, [myServer.id])).size).toBe(0);
      expect((await store.getAttachedVolumes(other, [myServer.id])).get(myServer.id)).toEqual([theirVolume]);

      const third = newProject();
      expect((await store.getCheckpointItems(third, PROVIDER, [mine.id])).size).toBe(0);
      expect((await store.getServers(third, [myServer.id])).size).toBe(0);

      // Deleting in one project leaves the same ids of another project alone.
      const deleted = await store.write(inventory({}), [
        { projectId: other, checkpointItemIds: [mine.id], serverIds: [myServer.id], volumeIds: [theirVolume.id] },
      ]);
      expect(deleted).toEqual({ checkpointItems: 1, servers: 1, volumes: 1 });
      expect((await store.getCheckpointItems(project, PROVIDER, [mine.id])).get(mine.id)).toEqual(mine);
      expect((await store.getServers(project, [myServer.id])).get(myServer.id)).toEqual(myServer);
    });

    it("an upsert replaces the record, including the item's volume backups and their order", async () => {
      const b = [backup(10, true), backup(20), backup(30)];
      const original = item(project, { volumeBackups: b });
      const srv = server(project);
      const vol = volume(project, srv.id);
      await store.write(inventory({ checkpointItems: [original], servers: [srv], volumes: [vol] }));

      const replaced: CheckpointItem = {
        ...original,
        status: "protecting",
        resourceAz: "az2",
        volumeBackups: [{ ...b[2]!, sourceVolumeSize: 35 }, b[0]!],
      };
      const srv2: Server = { ...srv, status: "ERROR", restoring: true, policyId: "p-9", availabilityZone: "az2" };
      const vol2: Volume = { ...vol, serverId: null, status: "available", size: 80 };
      expect(await store.write(inventory({ checkpointItems: [replaced], servers: [srv2], volumes: [vol2] }))).toEqual({
        checkpointItems: 1,
        servers: 1,
        volumes: 1,
      });

      expect((await store.getCheckpointItems(project, PROVIDER, [original.id])).get(original.id)).toEqual(replaced);
      expect((await store.getServers(project, [srv.id])).get(srv.id)).toEqual(srv2);
      expect((await store.getAttachedVolumes(project, [srv.id])).size).toBe(0);

      // Moving the volume to another server shows it there.
      const other = server(project);
      await store.write(inventory({ servers: [other], volumes: [{ ...vol2, serverId: other.id, status: "in-use" }] }));
      expect((await store.getAttachedVolumes(project, [other.id])).get(other.id)?.map((v) => v.id)).toEqual([vol.id]);

      // The last record of an id in one write wins; an item can lose all its backups.
      const last = { ...replaced, status: "available", volumeBackups: [] };
      await store.write(inventory({ checkpointItems: [replaced, last] }));
      expect((await store.getCheckpointItems(project, PROVIDER, [original.id])).get(original.id)).toEqual(last);
    });

    it("deletes remove the records and count only what existed", async () => {
      const items = [item(project), item(project)];
      const srv = server(project);
      const vols = [volume(project, srv.id), volume(project, srv.id)];
      await store.write(inventory({ checkpointItems: items, servers: [srv], volumes: vols }));

      const counts = await store.write(inventory({}), [
        {
          projectId: project,
          checkpointItemIds: [items[0]!.id, randomUUID()],
          serverIds: [srv.id],
          volumeIds: [vols[1]!.id, randomUUID()],
        },
      ]);
      expect(counts).toEqual({ checkpointItems: 1, servers: 1, volumes: 1 });
      const left = await store.getCheckpointItems(
        project,
        PROVIDER,
        items.map((i) => i.id),
      );
      expect([...left.keys()]).toEqual([items[1]!.id]);
      expect((await store.getServers(project, [srv.id])).size).toBe(0);
      expect((await store.getAttachedVolumes(project, [srv.id])).get(srv.id)).toEqual([vols[0]]);

      // A deleted item re-created without backups has none (its old backups went with it).
      await store.write(inventory({ checkpointItems: [{ ...items[0]!, volumeBackups: [] }] }));
      expect(
        (await store.getCheckpointItems(project, PROVIDER, [items[0]!.id])).get(items[0]!.id)?.volumeBackups,
      ).toEqual([]);

      // Upserts and deletes in one write: the deletes apply after the upserts.
      const again = server(project);
      expect(
        await store.write(inventory({ servers: [again] }), [
          { projectId: project, checkpointItemIds: [], serverIds: [again.id], volumeIds: [] },
        ]),
      ).toEqual({ checkpointItems: 0, servers: 2, volumes: 0 });
      expect((await store.getServers(project, [again.id])).size).toBe(0);
    });

    it("a write that fails part-way writes nothing", async () => {
      const existing = server(project);
      const keptItem = item(project);
      await store.write(inventory({ servers: [existing], checkpointItems: [keptItem] }));

      const newItem = item(project);
      const newServer = server(project);
      const bad = { ...volume(project, newServer.id), size: null } as unknown as Volume;
      const failed = store.write(
        inventory({
          checkpointItems: [newItem, { ...keptItem, volumeBackups: [] }],
          servers: [newServer, { ...existing, status: "ERROR" }],
          volumes: [volume(project, newServer.id), bad],
        }),
        [{ projectId: project, checkpointItemIds: [keptItem.id], serverIds: [], volumeIds: [] }],
      );
      const error = await failed.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(StoreUnavailableError);

      expect((await store.getCheckpointItems(project, PROVIDER, [newItem.id])).size).toBe(0);
      expect((await store.getCheckpointItems(project, PROVIDER, [keptItem.id])).get(keptItem.id)).toEqual(keptItem);
      expect((await store.getServers(project, [newServer.id])).size).toBe(0);
      expect((await store.getServers(project, [existing.id])).get(existing.id)).toEqual(existing);
      expect((await store.getAttachedVolumes(project, [newServer.id])).size).toBe(0);

      // The store still works after the failed write.
      await store.write(inventory({ servers: [newServer] }));
      expect((await store.getServers(project, [newServer.id])).get(newServer.id)).toEqual(newServer);
    });

    it("makes a constant number of queries per lookup, whatever the number of ids", async () => {
      const many = 300;
      const items = Array.from({ length: many }, () => item(project));
      const servers = Array.from({ length: many }, () => server(project));
      const volumes = servers.map((s) => volume(project, s.id));
      await store.write(inventory({ checkpointItems: items, servers, volumes }));

      const measure = async (lookup: () => Promise<Map<string, unknown>>) => {
        queries = [];
        const result = await lookup();
        const perTable: Record<string, number> = {};
        for (const table of queries) perTable[table] = (perTable[table] ?? 0) + 1;
        return { size: result.size, perTable };
      };
      const ids = (records: { id: string }[], n: number) => records.slice(0, n).map((r) => r.id);

      for (const [lookup, tables] of [
        [(n: number) => store.getCheckpointItems(project, PROVIDER, ids(items, n)), ["checkpoint_items"]],
        [(n: number) => store.getServers(project, ids(servers, n)), ["servers"]],
        [(n: number) => store.getAttachedVolumes(project, ids(servers, n)), ["volumes"]],
      ] as const) {
        const one = await measure(() => lookup(1));
        const all = await measure(() => lookup(many));
        expect(one.size).toBe(1);
        expect(all.size).toBe(many);
        expect(all.perTable).toEqual(one.perTable);
        for (const table of tables) expect(one.perTable[table]).toBe(1);
        for (const count of Object.values(one.perTable)) expect(count).toBe(1);
      }
    });

    it("lookUp reads in one call what the per-table lookups read, for one id and for a list", async () => {
      const items = [item(project), item(project, { volumeBackups: [] }), item(project)];
      const otherProvider = item(project, { providerId: randomUUID() });
      const servers = [server(project), server(project, { status: "ERROR", policyId: "policy-1" })];
      // Volumes attached to a server id with no server record still count as attached.
      const orphanServerId = randomUUID();
      const volumes = [
        volume(project, servers[0]!.id, { bootable: true }),
        volume(project, servers[0]!.id, { shareable: true, size: 7 }),
        volume(project, orphanServerId),
        volume(project, null),
      ];
      await store.write(inventory({ checkpointItems: [...items, otherProvider], servers, volumes }));
      const missing = randomUUID();
      const itemIdSets = [
        [items[0]!.id],
        [items[1]!.id],
        [otherProvider.id],
        [missing],
        [...items, otherProvider].map((c) => c.id).concat(missing),
        [],
      ];
      const serverIdSets = [
        [servers[0]!.id],
        [orphanServerId],
        [missing],
        [...servers.map((s) => s.id), orphanServerId, missing],
        [],
      ];
      for (const [providerId, known] of [
        [PROVIDER, true],
        [randomUUID(), false],
      ] as const) {
        for (const checkpointItemIds of itemIdSets) {
          for (const serverIds of serverIdSets) {
            queries = [];
            const facts = await store.lookUp({ projectId: project, providerId, checkpointItemIds, serverIds });
            const tables = [...new Set(queries)].sort();
            const uncached =
              checkpointItemIds.length > 0
                ? ["checkpoint_items", "providers", "servers", "volume_backups", "volumes"]
                : ["providers", "servers", "volumes"];
            if (options.cached || serverIds.length === 0) {
              // A cached object is not read again; with no server, the servers' tables may be skipped.
              for (const table of tables) expect(uncached).toContain(table);
              if (!options.cached) expect(tables).toContain("providers");
            } else expect(tables).toEqual(uncached);
            expect(facts).toEqual({
              providerKnown: known,
              items: await store.getCheckpointItems(project, providerId, checkpointItemIds),
              servers: await store.getServers(project, serverIds),
              volumes: await store.getAttachedVolumes(project, serverIds),
            });
          }
        }
      }
      // Another project's objects do not exist for it.
      const other = await store.lookUp({
        projectId: newProject(),
        providerId: PROVIDER,
        checkpointItemIds: [items[0]!.id],
        serverIds: [servers[0]!.id],
      });
      expect([other.items.size, other.servers.size, other.volumes.size]).toEqual([0, 0, 0]);
    });
  });
}
