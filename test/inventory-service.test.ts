import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ROLE } from "../src/auth/principal.js";
import { CSBS_PROVIDER } from "../src/domain/csbs-provider.js";
import { createGrpcClient, errorInfoOf } from "./support/grpc-client.js";
import { checkOne, deleteRecords, restorableSetup, upsert } from "./support/inventory-fixture.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

let ts: TestServer;
let client: grpc.Client;

beforeAll(async () => {
  ts = await startTestServer({ INVENTORY_FILE: "" });
  client = createGrpcClient(ts.grpcAddress);
});
afterAll(async () => {
  client?.close();
  await ts?.close();
});

function newProject(): string {
  return `admin-${randomUUID().slice(0, 8)}`;
}

async function failure(call: Promise<unknown>) {
  const err = (await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  )) as grpc.ServiceError;
  return { code: err.code, details: err.details, reason: errorInfoOf(err)?.reason };
}

describe("csbs.admin.v1.InventoryService over gRPC", () => {
  it("an upsert is seen by the next check, and changes its verdict (server to ERROR: CSBS.6015)", async () => {
    const project = newProject();
    const admin = await ts.token(project, [ADMIN_ROLE]);
    const reader = await ts.token(project);
    const setup = restorableSetup(project);

    expect(await checkOne(client, reader, setup.check)).toMatchObject({ result: false, errorCode: "CSBS.3001" });
    expect(await upsert(client, admin, setup.upsert)).toMatchObject({ checkpointItems: 1, servers: 1, volumes: 2 });
    expect(await checkOne(client, reader, setup.check)).toEqual({ result: true, errorCode: "", errorMsg: "" });

    await upsert(client, admin, { projectId: project, servers: [{ ...setup.server, status: "ERROR" }] });
    expect(await checkOne(client, reader, setup.check)).toEqual({
      result: false,
      errorCode: "CSBS.6015",
      errorMsg: "The server is restoring.",
    });
  });

  it("unset optional fields take the inventory file's defaults; unset server_id is detached", async () => {
    const project = newProject();
    const admin = await ts.token(project, [ADMIN_ROLE]);
    const setup = restorableSetup(project);
    await upsert(client, admin, {
      ...setup.upsert,
      volumes: [{ id: setup.ids.volumes[0], size: 40, bootable: true, shareable: false, status: "available" }],
    });
    const server = (await ts.server.store.getServers(project, [setup.ids.target])).get(setup.ids.target);
    expect(server).toMatchObject({
      projectId: project,
      restoreSupported: true,
      backupSupported: true,
      restoring: false,
      policyId: null,
    });
    expect((await ts.server.store.getAttachedVolumes(project, [setup.ids.target])).size).toBe(0);

    await upsert(client, admin, {
      projectId: project,
      servers: [{ ...setup.server, restoreSupported: false, restoring: true, policyId: "policy-7" }],
    });
    expect((await ts.server.store.getServers(project, [setup.ids.target])).get(setup.ids.target)).toMatchObject({
      restoreSupported: false,
      backupSupported: true,
      restoring: true,
      policyId: "policy-7",
    });
  });

  it("a batch with one bad record is INVALID_ARGUMENT naming its path, and writes nothing", async () => {
    const project = newProject();
    const admin = await ts.token(project, [ADMIN_ROLE]);
    const setup = restorableSetup(project);
    const bad = { ...setup.upsert, volumes: [setup.upsert.volumes![0]!, { ...setup.upsert.volumes![1]!, status: "" }] };
    expect(await failure(upsert(client, admin, bad))).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: "volumes[1].status: must not be empty",
      reason: "CSBS.9001",
    });
    const badBackup = structuredClone(setup.upsert);
    badBackup.checkpointItems![0]!.volumeBackups![1]!.id = "not-a-uuid";
    expect(await failure(upsert(client, admin, badBackup))).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: "checkpoint_items[0].volume_backups[1].id: must be a UUID",
    });
    const store = ts.server.store;
    expect((await store.getCheckpointItems(project, CSBS_PROVIDER.id, [setup.ids.item])).size).toBe(0);
    expect((await store.getServers(project, [setup.ids.target])).size).toBe(0);
    expect((await store.getAttachedVolumes(project, [setup.ids.target])).size).toBe(0);
  });

  it("a record of another project is INVALID_ARGUMENT naming its project_id, and nothing is written", async () => {
    const project = newProject();
    const admin = await ts.token(project, [ADMIN_ROLE]);
    const setup = restorableSetup(project);
    const other = newProject();
    expect(
      await failure(
        upsert(client, admin, {
          ...setup.upsert,
          servers: [setup.server, { ...setup.server, id: randomUUID(), projectId: other }],
        }),
      ),
    ).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: `servers[1].project_id: must be the request's project_id (${project})`,
      reason: "CSBS.9001",
    });
    expect((await ts.server.store.getServers(project, [setup.ids.target])).size).toBe(0);
    expect((await ts.server.store.getServers(other, [setup.ids.target])).size).toBe(0);
  });

  it("needs a csbs_admin token of the request's project: otherwise 403 PERMISSION_DENIED (401 without a token)", async () => {
    const project = newProject();
    const setup = restorableSetup(project);
    const denied = { code: grpc.status.PERMISSION_DENIED, reason: "APIGW.0302" };
    expect(await failure(upsert(client, await ts.token(project), setup.upsert))).toMatchObject(denied);
    expect(await failure(upsert(client, await ts.token(newProject(), [ADMIN_ROLE]), setup.upsert))).toMatchObject(
      denied,
    );
    expect(
      await failure(deleteRecords(client, await ts.token(project), { projectId: project, serverIds: [randomUUID()] })),
    ).toMatchObject(denied);
    expect(await failure(upsert(client, "", setup.upsert))).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      reason: "APIGW.0301",
    });
    expect((await ts.server.store.getServers(project, [setup.ids.target])).size).toBe(0);
  });

  it("deletes by id in one call, counting what existed; a bad id is INVALID_ARGUMENT and deletes nothing", async () => {
    const project = newProject();
    const admin = await ts.token(project, [ADMIN_ROLE]);
    const reader = await ts.token(project);
    const setup = restorableSetup(project);
    await upsert(client, admin, setup.upsert);

    expect(
      await failure(
        deleteRecords(client, admin, { projectId: project, checkpointItemIds: [setup.ids.item], serverIds: ["x"] }),
      ),
    ).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: "server_ids[0]: must be a UUID", reason: "CSBS.9001" });
    expect((await checkOne(client, reader, setup.check)).result).toBe(true);

    expect(
      await deleteRecords(client, admin, {
        projectId: project,
        checkpointItemIds: [setup.ids.item, randomUUID()],
        volumeIds: [setup.ids.volumes[1]],
      }),
    ).toMatchObject({ checkpointItems: 1, servers: 0, volumes: 1 });
    expect(await checkOne(client, reader, setup.check)).toMatchObject({ result: false, errorCode: "CSBS.3001" });
  });
});

describe("csbs.admin.v1.InventoryService over Connect (HTTP port)", () => {
  const post = async (method: string, token: string, body: unknown) => {
    const res = await fetch(`${ts.httpUrl}/csbs.admin.v1.InventoryService/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-token": token },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("upserts with snake_case JSON for a csbs_admin, and is 403 permission_denied without the role", async () => {
    const project = newProject();
    const setup = restorableSetup(project);
    const server = {
      id: setup.ids.target,
      type: "OS::Nova::Server",
      status: "SHUTOFF",
      availability_zone: "az1",
      policy_id: "p-1",
    };
    const denied = await post("UpsertInventory", await ts.token(project), { project_id: project, servers: [server] });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe("permission_denied");
    expect((await ts.server.store.getServers(project, [setup.ids.target])).size).toBe(0);

    const ok = await post("UpsertInventory", await ts.token(project, [ADMIN_ROLE]), {
      project_id: project,
      servers: [server],
    });
    expect(ok.status).toBe(200);
    expect(ok.body.servers).toBe(1);
    expect((await ts.server.store.getServers(project, [setup.ids.target])).get(setup.ids.target)).toMatchObject({
      status: "SHUTOFF",
      policyId: "p-1",
    });

    const bad = await post("UpsertInventory", await ts.token(project, [ADMIN_ROLE]), {
      project_id: project,
      servers: [{ ...server, availability_zone: "" }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe("servers[0].availability_zone: must not be empty");
  });
});
