import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ROLE } from "../src/auth/principal.js";
import { demoCases } from "./support/demo-cases.js";
import { restoreMessage } from "./support/demo-requests.js";
import { eventually } from "./support/eventually.js";
import { createGrpcClient, errorInfoOf } from "./support/grpc-client.js";
import { checkOne, restorableSetup, upsert } from "./support/inventory-fixture.js";
import { canRunPrivateCluster, type PrivateCluster, startPrivateCluster } from "./support/postgres.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/**
 * The service on a private PostgreSQL cluster of this file alone, so that it can be
 * stopped and frozen without disturbing other tests. Skipped without TEST_DATABASE_URL
 * (an error in CI).
 */
const enabled = canRunPrivateCluster();

const CONNECT_TIMEOUT_MS = 1000;
const QUERY_TIMEOUT_MS = 1000;
/** The configured bound (connect or query timeout, plus the client's read grace) and a generous margin. */
const ANSWER_WITHIN_MS = CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS + 250 + 3000;

const seed = demoCases.restore[0]!;
const seedCheck = restoreMessage([seed.request]);

function healthClient(address: string) {
  const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  return {
    status: (service = "") =>
      new Promise<string>((resolve, reject) =>
        (client as unknown as Record<string, (...a: unknown[]) => void>).Check!(
          { service },
          { deadline: Date.now() + 5000 },
          (err: Error | null, res: { status: string }) => (err ? reject(err) : resolve(res.status)),
        ),
      ),
    close: () => client.close(),
  };
}

/** How long a recovery may take, polled every 200 ms. */
const RECOVERY = { timeoutMs: 20_000, intervalMs: 200 };

describe.skipIf(!enabled)("store faults: PostgreSQL goes away under a running service", () => {
  let cluster: PrivateCluster;
  let ts: TestServer;
  let client: grpc.Client;
  let health: ReturnType<typeof healthClient>;
  let token: string;

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    const url = await cluster.createDatabase("faults");
    ts = await startTestServer({
      DATABASE_URL: url,
      DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
      DB_POOL_MAX: "4",
      // The database path's failures: with the store cache on, a check of objects already
      // cached is still answered while the database is frozen (nothing can commit then; the
      // listening connection's heartbeat empties the cache within two heartbeats). Its own
      // tests: test/store-postgres-cache.test.ts.
      STORE_CACHE_ENTRIES: "0",
    });
    client = createGrpcClient(ts.grpcAddress);
    health = healthClient(ts.grpcAddress);
    token = await ts.token(demoCases.project_id);
  });
  afterAll(async () => {
    client?.close();
    health?.close();
    cluster?.resume();
    await ts?.close();
    await cluster?.destroy();
  });

  /** A check over gRPC: its verdict or its error code and ErrorInfo reason, and how long it took. */
  async function timedCheck() {
    const start = Date.now();
    const outcome = await checkOne(client, token, seedCheck, 20_000).then(
      (verdict) => ({ verdict }),
      (err: grpc.ServiceError) => ({ code: err.code, reason: errorInfoOf(err)?.reason }),
    );
    return { outcome, ms: Date.now() - start };
  }
  async function restCheck() {
    const res = await fetch(
      `${ts.httpUrl}/v1/${demoCases.project_id}/providers/${demoCases.provider_id}/resources/action`,
      {
        method: "POST",
        headers: { "content-type": "application/json", "x-auth-token": token },
        body: JSON.stringify({ check_restorable: [seed.request] }),
      },
    );
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const readyz = async () => (await fetch(`${ts.httpUrl}/readyz`)).status;
  const unavailable = { code: grpc.status.UNAVAILABLE, reason: "CSBS.9998" };

  it("stopped: checks are 503 CSBS.9998 / UNAVAILABLE at once, not ready; started again: it recovers by itself", async () => {
    expect((await timedCheck()).outcome).toEqual({ verdict: { result: true, errorCode: "", errorMsg: "" } });
    expect(await health.status()).toBe("SERVING");

    await cluster.stop();
    const down = await timedCheck();
    expect(down.outcome).toEqual(unavailable);
    expect(down.ms).toBeLessThan(ANSWER_WITHIN_MS);
    const rest = await restCheck();
    expect(rest.status).toBe(503);
    expect(rest.body.error_code).toBe("CSBS.9998");
    expect(await readyz()).toBe(503);
    expect(
      await eventually(
        () => health.status(),
        (s) => s === "NOT_SERVING",
        RECOVERY,
      ),
    ).toBe("NOT_SERVING");
    expect(await health.status("csbs.v1.ResourceService")).toBe("NOT_SERVING");
    expect(await health.status("csbs.admin.v1.InventoryService")).toBe("NOT_SERVING");

    // Writes fail the same way, and write nothing.
    const admin = await ts.token(demoCases.project_id, [ADMIN_ROLE]);
    const setup = restorableSetup(demoCases.project_id);
    const write = await upsert(client, admin, setup.upsert).then(
      () => ({}),
      (err: grpc.ServiceError) => ({ code: err.code, reason: errorInfoOf(err)?.reason }),
    );
    expect(write).toEqual(unavailable);

    await cluster.start();
    expect((await eventually(timedCheck, (c) => "verdict" in c.outcome, RECOVERY)).outcome).toEqual({
      verdict: { result: true, errorCode: "", errorMsg: "" },
    });
    expect((await restCheck()).status).toBe(200);
    expect(await eventually(readyz, (s) => s === 200, RECOVERY)).toBe(200);
    expect(
      await eventually(
        () => health.status(),
        (s) => s === "SERVING",
        RECOVERY,
      ),
    ).toBe("SERVING");
    expect(await checkOne(client, token, setup.check)).toMatchObject({ result: false, errorCode: "CSBS.3001" });
  });

  it("frozen (connections hang): checks are UNAVAILABLE within the configured timeouts; thawed: it recovers", async () => {
    expect((await timedCheck()).outcome).toHaveProperty("verdict");

    cluster.pause();
    try {
      const hung = await timedCheck();
      expect(hung.outcome).toEqual(unavailable);
      expect(hung.ms).toBeLessThan(ANSWER_WITHIN_MS);
      // A second call needs a new connection: bounded by the connect timeout.
      const again = await timedCheck();
      expect(again.outcome).toEqual(unavailable);
      expect(again.ms).toBeLessThan(ANSWER_WITHIN_MS);
      expect(await readyz()).toBe(503);
    } finally {
      cluster.resume();
    }
    expect((await eventually(timedCheck, (c) => "verdict" in c.outcome, RECOVERY)).outcome).toEqual({
      verdict: { result: true, errorCode: "", errorMsg: "" },
    });
    expect(await eventually(readyz, (s) => s === 200, RECOVERY)).toBe(200);
  });
});
