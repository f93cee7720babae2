import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { protoPath } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.js";

type HealthClient = grpc.Client & {
  Check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
  Watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

function healthClient(address: string): HealthClient {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (a: string, c: grpc.ChannelCredentials) => HealthClient } } };
  };
  return new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
}

describe("health follows the store", () => {
  let ts: TestServer;
  let client: HealthClient;
  beforeAll(async () => {
    ts = await startTestServer();
    client = healthClient(ts.grpcAddress);
  });
  afterAll(async () => {
    client?.close();
    await ts?.close();
  });

  it("Check is SERVING, /healthz and /readyz are 200, with no token", async () => {
    for (const service of ["", "csbs.v1.ResourceService"]) {
      const res = await new Promise<{ status: string }>((resolve, reject) =>
        client.Check({ service }, (err, r) => (err ? reject(err) : resolve(r!))),
      );
      expect(res.status).toBe("SERVING");
    }
    expect((await fetch(`${ts.httpUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${ts.httpUrl}/readyz`)).status).toBe(200);
  });

  it("Watch streams NOT_SERVING when the store goes away; /readyz 503, /healthz still 200", async () => {
    const stream = client.Watch({ service: "csbs.v1.ResourceService" });
    stream.on("error", () => undefined); // CANCELLED when the test cancels it
    const statuses: string[] = [];
    const seen = (status: string) =>
      new Promise<void>((resolve) => {
        const check = () => statuses.includes(status) && resolve();
        stream.on("data", (m: { status: string }) => {
          statuses.push(m.status);
          check();
        });
        check();
      });
    await seen("SERVING");
    await ts.server.store.close(); // the SQLite handle is gone: every query fails
    expect((await fetch(`${ts.httpUrl}/readyz`)).status).toBe(503);
    await seen("NOT_SERVING");
    expect((await fetch(`${ts.httpUrl}/healthz`)).status).toBe(200);
    stream.cancel();
  });
});

describe("slow-loris protection", () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer({ HTTP_HEADERS_TIMEOUT_MS: "500" });
  });
  afterAll(async () => {
    await ts?.close();
  });

  it("a client that never finishes its headers is cut off (408 and close), not kept forever", async () => {
    const socket = net.connect(ts.server.httpPort, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write("POST /v1/demo-project/providers/x/resources/action HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    let text = "";
    socket.on("data", (d: Buffer) => {
      text += d.toString();
    });
    const closedAfter = await new Promise<number>((resolve) => {
      const start = Date.now();
      const drip = setInterval(() => socket.write("a"), 100); // keeps sending, never ends the headers
      socket.once("close", () => {
        clearInterval(drip);
        resolve(Date.now() - start);
      });
      socket.once("error", () => undefined);
    });
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfter).toBeGreaterThan(0);
  });
});
