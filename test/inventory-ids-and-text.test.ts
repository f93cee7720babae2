import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CheckProtectableRequestSchema,
  CheckProtectableResponseSchema,
  CheckRestorableRequestSchema,
  CheckRestorableResponseSchema,
} from "../gen/csbs/v1/resource_service_pb.js";
import { ADMIN_ROLE } from "../src/auth/principal.js";
import { CSBS_PROVIDER } from "../src/domain/csbs-provider.js";
import { InventoryError, importInventoryFile } from "../src/store/import-inventory.js";
import { callUnary, createGrpcClient, errorInfoOf } from "./support/grpc-client.js";
import { deleteRecords, restorableSetup, upsert } from "./support/inventory-fixture.js";
import { createTestDatabase, testDatabaseUrl } from "./support/postgres.js";
import { actionPath, postAction } from "./support/rest-client.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/**
 * Inventory text fields refuse control characters (NUL: PostgreSQL cannot store it), and
 * ids are case-insensitive: stored in lower case, matched in either case, echoed as sent.
 * On SQLite always, and on PostgreSQL when TEST_DATABASE_URL is set (an error in CI).
 */
const pgBase = testDatabaseUrl();
const STORES: { name: string; skip: boolean; env: () => Promise<Record<string, string>> }[] = [
  { name: "SQLite", skip: false, env: async () => ({}) },
  {
    name: "PostgreSQL",
    skip: pgBase === undefined,
    env: async () => ({ DATABASE_URL: await createTestDatabase(pgBase!, "ids_text") }),
  },
];

async function failure(call: Promise<unknown>) {
  const err = (await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  )) as grpc.ServiceError;
  return { code: err.code, details: err.details, reason: errorInfoOf(err)?.reason };
}

let counter = 0;
const newProject = () => `ids-${process.pid}-${++counter}`;

describe.each(STORES)("$name store", ({ skip, env }) => {
  let ts: TestServer;
  let client: grpc.Client;
  let databaseUrl: string | undefined;

  beforeAll(async () => {
    if (skip) return;
    const extra = await env();
    databaseUrl = extra.DATABASE_URL;
    ts = await startTestServer({ INVENTORY_FILE: "", ...extra });
    client = createGrpcClient(ts.grpcAddress);
  });
  afterAll(async () => {
    client?.close();
    await ts?.close();
    if (databaseUrl) {
      const admin = new pg.Client({ connectionString: pgBase });
      await admin.connect();
      await admin.query(
        `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(new URL(databaseUrl).pathname.slice(1))} WITH (FORCE)`,
      );
      await admin.end();
    }
  });

  describe.skipIf(skip)("control characters in inventory text", () => {
    it.each([
      ["NUL in a server status", "servers[0].status", { servers: [{ status: "ACT\u0000IVE" }] }],
      ["BEL in a policy id", "servers[0].policy_id", { servers: [{ policyId: "policy\u0007" }] }],
      ["newline in a volume status", "volumes[0].status", { volumes: [{ status: "in-use\n" }] }],
      [
        "DEL in a checkpoint item AZ",
        "checkpoint_items[0].resource_az",
        { checkpointItems: [{ resourceAz: "az\u007f1" }] },
      ],
      ["C1 control in a backup status", "checkpoint_items[0].volume_backups[0].status", { backup: "avail\u0085able" }],
    ])("admin upsert with %s: INVALID_ARGUMENT CSBS.9001 naming %s, nothing written", async (_name, path, change) => {
      const project = newProject();
      const admin = await ts.token(project, [ADMIN_ROLE]);
      const setup = restorableSetup(project);
      const request = structuredClone(setup.upsert) as Record<string, unknown[]>;
      const patch = change as Record<string, unknown>;
      for (const field of ["servers", "volumes", "checkpointItems"]) {
        if (patch[field]) request[field]![0] = { ...(request[field]![0] as object), ...(patch[field] as object[])[0] };
      }
      if (patch.backup) {
        const item = request.checkpointItems![0] as { volumeBackups: Record<string, unknown>[] };
        item.volumeBackups[0]!.status = patch.backup;
      }
      const f = await failure(upsert(client, admin, request as never));
      expect(f).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, reason: "CSBS.9001" });
      expect(f.details).toBe(`${path}: must not contain control characters`);
      expect((await ts.server.store.getServers(project, [setup.ids.target])).size).toBe(0);
    });

    it("the file import rejects a control character naming the record's path", async () => {
      const file = join(ts.dir, "bad-inventory.json");
      writeFileSync(
        file,
        JSON.stringify({
          servers: [
            {
              id: "0f7b5a52-5a3c-4b8e-9a4e-0d6f1c2b3a40",
              project_id: newProject(),
              type: "OS::Nova::Server",
              status: "ACTIVE\u0000",
              availability_zone: "az1",
            },
          ],
        }),
      );
      const error = await importInventoryFile(ts.server.store, file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InventoryError);
      expect((error as InventoryError).path).toBe("servers[0].status");
    });
  });

  describe.skipIf(skip)("upper-case ids", () => {
    const upper = (s: string) => s.toUpperCase();

    it("an upsert in upper case is stored in lower case; the same id in lower case is the same object", async () => {
      const project = newProject();
      const admin = await ts.token(project, [ADMIN_ROLE]);
      const setup = restorableSetup(project);
      await upsert(client, admin, { projectId: project, servers: [{ ...setup.server, id: upper(setup.ids.target) }] });
      await upsert(client, admin, { projectId: project, servers: [{ ...setup.server, status: "SHUTOFF" }] });
      const servers = await ts.server.store.getServers(project, [setup.ids.target, upper(setup.ids.target)]);
      expect([...servers.keys()]).toEqual([setup.ids.target]);
      expect(servers.get(setup.ids.target)?.status).toBe("SHUTOFF");
    });

    it("a check in upper case (provider id included) finds lower-case records, and echoes resource_id as sent", async () => {
      const project = newProject();
      const admin = await ts.token(project, [ADMIN_ROLE]);
      const reader = await ts.token(project);
      const setup = restorableSetup(project);
      // The inventory in upper case, the check in upper case: both sides lowered.
      const up = structuredClone(setup.upsert);
      up.checkpointItems![0]!.id = upper(setup.ids.item);
      up.checkpointItems![0]!.providerId = upper(CSBS_PROVIDER.id);
      up.volumes![0]!.serverId = upper(setup.ids.target);
      up.checkpointItems![0]!.volumeBackups![0]!.id = upper(setup.ids.backups[0]);
      await upsert(client, admin, up);
      const target = setup.check.checkRestorable[0]!.target;
      const request = {
        projectId: project,
        providerId: upper(CSBS_PROVIDER.id),
        checkRestorable: [
          {
            checkpointItemId: upper(setup.ids.item),
            target: {
              ...target,
              resourceId: upper(setup.ids.target),
              volumes: target.volumes.map((m) => ({ backupId: upper(m.backupId), volumeId: upper(m.volumeId) })),
            },
          },
        ],
      };
      const res = await callUnary(
        client,
        "/csbs.v1.ResourceService/CheckRestorable",
        CheckRestorableRequestSchema,
        CheckRestorableResponseSchema,
        request,
        { token: reader },
      );
      expect(res.restorable.map((r) => [r.result, r.errorCode, r.resourceId])).toEqual([
        [true, "", upper(setup.ids.target)],
      ]);

      const protect = await callUnary(
        client,
        "/csbs.v1.ResourceService/CheckProtectable",
        CheckProtectableRequestSchema,
        CheckProtectableResponseSchema,
        {
          projectId: project,
          providerId: upper(CSBS_PROVIDER.id),
          checkProtectable: [{ resourceId: upper(setup.ids.target), resourceType: "OS::Nova::Server" }],
        },
        { token: reader },
      );
      // Found (not CSBS.6003 "not support protection"): the server exists with volumes, no policy.
      expect(protect.protectable.map((r) => [r.result, r.errorCode, r.resourceId])).toEqual([
        [true, "", upper(setup.ids.target)],
      ]);

      // REST: the provider id in the path, in upper case.
      const rest = await postAction(
        ts.httpUrl,
        reader,
        { check_protectable: [{ resource_id: upper(setup.ids.target), resource_type: "OS::Nova::Server" }] },
        { path: actionPath(project, upper(CSBS_PROVIDER.id)) },
      );
      expect(rest.status).toBe(200);
      expect(rest.json).toMatchObject({ protectable: [{ result: true, resource_id: upper(setup.ids.target) }] });
    });

    it("a delete in upper case removes the lower-case record", async () => {
      const project = newProject();
      const admin = await ts.token(project, [ADMIN_ROLE]);
      const setup = restorableSetup(project);
      await upsert(client, admin, { projectId: project, servers: [setup.server] });
      expect(
        await deleteRecords(client, admin, { projectId: project, serverIds: [upper(setup.ids.target)] }),
      ).toMatchObject({ servers: 1 });
      expect((await ts.server.store.getServers(project, [setup.ids.target])).size).toBe(0);
    });

    it("the file import lowers ids", async () => {
      const project = newProject();
      const id = "0F7B5A52-5A3C-4B8E-9A4E-0D6F1C2B3A41";
      const file = join(ts.dir, "upper-inventory.json");
      writeFileSync(
        file,
        JSON.stringify({
          servers: [{ id, project_id: project, type: "OS::Nova::Server", status: "ACTIVE", availability_zone: "az1" }],
        }),
      );
      await importInventoryFile(ts.server.store, file);
      expect([...(await ts.server.store.getServers(project, [id.toLowerCase()])).keys()]).toEqual([id.toLowerCase()]);
    });
  });
});
