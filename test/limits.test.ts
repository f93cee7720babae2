import http from "node:http";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import * as jose from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckRestorableRequestSchema, CheckRestorableResponseSchema } from "../gen/csbs/v1/resource_service_pb.js";
import { demoCases } from "./support/demo-cases.js";
import { restoreBody, restoreMessage } from "./support/demo-requests.js";
import { callUnary, createGrpcClient, errorInfoOf, type UnaryOptions } from "./support/grpc-client.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/**
 * A real JWKS endpoint that holds every answer until released: calls are then genuinely in
 * flight inside the service (verifying their token), which is how these tests fill the
 * concurrency limit and run past the deadline without any test hook in the service.
 */
async function startStallingJwks(jwks: jose.JSONWebKeySet) {
  const waiting: http.ServerResponse[] = [];
  let released = false;
  const server = http.createServer((_req, res) => {
    if (released) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    else waiting.push(res);
  });
  server.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    release() {
      released = true;
      for (const res of waiting.splice(0))
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const seed = demoCases.restore[0]!;
const grpcRequest = restoreMessage([seed.request]);
const PATH = "/csbs.v1.ResourceService/CheckRestorable";
/** CheckRestorable over gRPC with a grpc-js client. */
const check = (client: grpc.Client, request: typeof grpcRequest, options: UnaryOptions) =>
  callUnary(client, PATH, CheckRestorableRequestSchema, CheckRestorableResponseSchema, request, options);

function rest(ts: TestServer, token: string, body: unknown = restoreBody([seed.request])) {
  return fetch(`${ts.httpUrl}/v1/${demoCases.project_id}/providers/${demoCases.provider_id}/resources/action`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-auth-token": token },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

let key: { privateKey: jose.CryptoKey; jwks: jose.JSONWebKeySet };
beforeAll(async () => {
  const pair = await jose.generateKeyPair("ES256");
  key = {
    privateKey: pair.privateKey,
    jwks: { keys: [{ ...(await jose.exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" }] },
  };
});
const sign = () =>
  new jose.SignJWT({ project_id: demoCases.project_id, roles: [] })
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setSubject("limits-test")
    .setExpirationTime("5m")
    .sign(key.privateKey);

/** A service whose token verification waits on a stalling JWKS URL, for the tests of one describe block. */
function stallingServer(env: Record<string, string>) {
  const state = {} as { ts: TestServer; jwks: Awaited<ReturnType<typeof startStallingJwks>> };
  beforeAll(async () => {
    state.jwks = await startStallingJwks(key.jwks);
    state.ts = await startTestServer({ AUTH_JWT_SECRET: "", AUTH_JWKS_URL: state.jwks.url, ...env });
  });
  afterAll(async () => {
    state.jwks?.release();
    await state.ts?.close();
    await state.jwks?.close();
  });
  return state;
}

describe("concurrency limit", () => {
  const s = stallingServer({ MAX_CONCURRENT_REQUESTS: "2" });

  it("over MAX_CONCURRENT_REQUESTS: 503 CSBS.9998 / RESOURCE_EXHAUSTED at once, the admitted calls complete", async () => {
    const token = await sign();
    const admitted = [rest(s.ts, token), rest(s.ts, token)];
    await new Promise((r) => setTimeout(r, 300)); // both are now waiting on the key set

    const refused = await rest(s.ts, token);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error_code: "CSBS.9998" });

    const client = createGrpcClient(s.ts.grpcAddress);
    const err = await check(client, grpcRequest, {
      token,
    }).catch((e: unknown) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(errorInfoOf(err)?.reason).toBe("CSBS.9998");

    s.jwks.release();
    const done = await Promise.all(admitted);
    expect(done.map((r) => r.status)).toEqual([200, 200]);
    // Capacity is back.
    const res = await check(client, grpcRequest, {
      token,
    });
    expect(res.restorable[0]!.result).toBe(true);
    client.close();
  });
});

describe("deadlines", () => {
  const s = stallingServer({ REQUEST_TIMEOUT_MS: "300" });

  it("REST: a call past REQUEST_TIMEOUT_MS is 503 CSBS.9998, not a hang", async () => {
    const res = await rest(s.ts, await sign());
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error_code: "CSBS.9998" });
  });

  it("gRPC: the client's grpc-timeout is honoured: DEADLINE_EXCEEDED", async () => {
    const client = createGrpcClient(s.ts.grpcAddress);
    const err = await check(client, grpcRequest, {
      token: await sign(),
      deadlineMs: 100,
    }).catch((e: unknown) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.DEADLINE_EXCEEDED);
    client.close();
  });

  it("gRPC without a client deadline: the server maximum applies, DEADLINE_EXCEEDED with ErrorInfo CSBS.9998", async () => {
    const client = createGrpcClient(s.ts.grpcAddress);
    const err = await check(client, grpcRequest, {
      token: await sign(),
    }).catch((e: unknown) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(errorInfoOf(err)?.reason).toBe("CSBS.9998");
    client.close();
  });
});

describe("cancellation", () => {
  const s = stallingServer({ REQUEST_TIMEOUT_MS: "60000" });
  const inFlight = async () => {
    const text = await (await fetch(`${s.ts.httpUrl}/metrics`)).text();
    return Number(/^csbs_requests_in_flight (\d+)$/m.exec(text)?.[1]);
  };

  it("gRPC: a call the client cancels while its token is verified leaves the in-flight calls at once", async () => {
    const client = createGrpcClient(s.ts.grpcAddress);
    const metadata = new grpc.Metadata();
    metadata.set("x-auth-token", await sign());
    const outcome = new Promise<grpc.ServiceError | null>((resolve) => {
      const call = client.makeUnaryRequest(
        PATH,
        (m: Buffer) => m,
        (b: Buffer) => b,
        Buffer.from(toBinary(CheckRestorableRequestSchema, create(CheckRestorableRequestSchema, grpcRequest))),
        metadata,
        {},
        (err) => resolve(err),
      );
      // Cancelled once the call is waiting on the stalled key set.
      setTimeout(() => call.cancel(), 300);
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(await inFlight()).toBe(1);
    expect((await outcome)?.code).toBe(grpc.status.CANCELLED);
    // Freed by the cancellation, not by REQUEST_TIMEOUT_MS (60 s) or the key set (still stalled).
    let count = await inFlight();
    for (let i = 0; i < 40 && count !== 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
      count = await inFlight();
    }
    expect(count).toBe(0);
    client.close();
  });
});

describe("message size limits are equal on both ports", () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer({ MAX_BODY_BYTES: "65536", MAX_CHECK_ITEMS: "10000" });
  });
  afterAll(async () => {
    await ts?.close();
  });
  const many = (n: number) => Array.from({ length: n }, () => grpcRequest.checkRestorable[0]!);

  it("REST: a body over MAX_BODY_BYTES is 413 CSBS.9001", async () => {
    const body = { check_restorable: Array.from({ length: 400 }, () => seed.request) };
    expect(JSON.stringify(body).length).toBeGreaterThan(65536);
    const res = await rest(ts, await ts.token(), body);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error_code: "CSBS.9001" });
  });

  it("gRPC: a message over MAX_BODY_BYTES is RESOURCE_EXHAUSTED; one under it is served", async () => {
    const client = createGrpcClient(ts.grpcAddress);
    const token = await ts.token();
    const err = await check(
      client,
      {
        ...grpcRequest,
        checkRestorable: many(500),
      },
      { token },
    ).catch((e: unknown) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const ok = await check(
      client,
      {
        ...grpcRequest,
        checkRestorable: many(50),
      },
      { token },
    );
    expect(ok.restorable).toHaveLength(50);
    client.close();
  });
});
