import { randomUUID } from "node:crypto";
import type * as grpc from "@grpc/grpc-js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ROLE } from "../src/auth/principal.js";
import { createGrpcClient } from "./support/grpc-client.js";
import { checkOne, restorableSetup, upsert } from "./support/inventory-fixture.js";
import { createTestDatabase, testDatabaseUrl } from "./support/postgres.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/** Skipped without TEST_DATABASE_URL (an error in CI): see .ci/postgres.sh. */
const baseUrl = testDatabaseUrl();

describe.skipIf(baseUrl === undefined)("two service instances on one PostgreSQL database", () => {
  let databaseUrl: string;
  let instances: TestServer[] = [];
  let clients: grpc.Client[] = [];

  beforeAll(async () => {
    // A fresh database, and both instances started at once: they race to migrate it,
    // which the advisory lock serializes.
    databaseUrl = await createTestDatabase(baseUrl!, "instances");
    instances = await Promise.all(
      [1, 2].map(() => startTestServer({ DATABASE_URL: databaseUrl, INVENTORY_FILE: "", DB_POOL_MAX: "4" })),
    );
    clients = instances.map((i) => createGrpcClient(i.grpcAddress));
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(instances.map((i) => i.close()));
    if (databaseUrl) {
      const admin = new pg.Client({ connectionString: baseUrl });
      await admin.connect();
      await admin.query(
        `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(new URL(databaseUrl).pathname.slice(1))} WITH (FORCE)`,
      );
      await admin.end();
    }
  });

  it("both use the PostgreSQL store, on their own ports, and migrated the schema once", async () => {
    expect(instances.map((i) => i.server.store.kind)).toEqual(["postgres", "postgres"]);
    expect(instances[0]!.grpcAddress).not.toBe(instances[1]!.grpcAddress);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT version FROM schema_migrations ORDER BY version");
      expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
    } finally {
      await client.end();
    }
  });

  it("an upsert through instance 1's admin API is seen by a check through instance 2", async () => {
    const project = `multi-${randomUUID().slice(0, 8)}`;
    const admin = await instances[0]!.token(project, [ADMIN_ROLE]);
    const reader = await instances[1]!.token(project);
    const setup = restorableSetup(project);
    const [one, two] = clients as [grpc.Client, grpc.Client];

    expect(await checkOne(two, reader, setup.check)).toMatchObject({ result: false, errorCode: "CSBS.3001" });
    await upsert(one, admin, setup.upsert);
    expect(await checkOne(two, reader, setup.check)).toEqual({ result: true, errorCode: "", errorMsg: "" });

    // And the other way round: instance 2 puts the server in ERROR, instance 1 sees it.
    await upsert(two, admin, { projectId: project, servers: [{ ...setup.server, status: "ERROR" }] });
    expect(await checkOne(one, reader, setup.check)).toMatchObject({ result: false, errorCode: "CSBS.6015" });
  });
});
