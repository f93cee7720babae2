import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { CheckRestorableRequestSchema } from "../gen/csbs/v1/resource_service_pb.js";
import { mintToken } from "../src/auth/mint-token.js";
import { type ChildServer, startChildServer } from "./support/child-server.js";
import { demoCases } from "./support/demo-cases.js";
import { TEST_SECRET } from "./support/test-server.js";

const IN_FLIGHT = 50;
const seed = demoCases.restore[0]!;
let server: ChildServer | undefined;

afterAll(async () => {
  await server?.kill();
});

/** A REST request whose body is sent in two halves: in flight until `finish()`. */
function slowRestRequest(port: number, token: string) {
  const body = Buffer.from(JSON.stringify({ check_restorable: [seed.request] }));
  const half = Math.floor(body.length / 2);
  const req = http.request({
    host: "127.0.0.1",
    port,
    method: "POST",
    path: `/v1/${demoCases.project_id}/providers/${demoCases.provider_id}/resources/action`,
    headers: { "content-type": "application/json", "content-length": body.length, "x-auth-token": token },
    agent: false,
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.once("response", (res) => {
      let text = "";
      res.on("data", (d: Buffer) => {
        text += d.toString();
      });
      res.once("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.once("error", reject);
  });
  req.write(body.subarray(0, half));
  return { response, finish: () => req.end(body.subarray(half)) };
}

/** A gRPC call (raw HTTP/2) whose length-prefixed message is sent in two halves. */
function slowGrpcCall(session: http2.ClientHttp2Session, token: string) {
  const message = toBinary(
    CheckRestorableRequestSchema,
    create(CheckRestorableRequestSchema, {
      projectId: demoCases.project_id,
      providerId: demoCases.provider_id,
      checkRestorable: [
        {
          checkpointItemId: seed.request.checkpoint_item_id,
          target: {
            resourceId: seed.request.target.resource_id,
            resourceType: seed.request.target.resource_type,
            volumes: seed.request.target.volumes.map((v) => ({ backupId: v.backup_id, volumeId: v.volume_id })),
          },
        },
      ],
    }),
  );
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  const stream = session.request({
    ":method": "POST",
    ":path": "/csbs.v1.ResourceService/CheckRestorable",
    "content-type": "application/grpc",
    te: "trailers",
    "x-auth-token": token,
  });
  const status = new Promise<string>((resolve, reject) => {
    stream.once("trailers", (trailers) => resolve(String(trailers["grpc-status"])));
    stream.once("error", reject);
    stream.resume();
  });
  stream.write(frame.subarray(0, 8));
  return { status, finish: () => stream.end(frame.subarray(8)) };
}

function connectRefusedOr503(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
    socket.once("connect", () => {
      socket.end("GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      let text = "";
      socket.on("data", (d: Buffer) => {
        text += d.toString();
      });
      socket.once("close", () => resolve(text.split("\r\n")[0] ?? "closed"));
    });
  });
}

describe("graceful shutdown", () => {
  it(`SIGTERM with ${IN_FLIGHT} requests in flight on each port: all complete with 200/OK, exit 0`, async () => {
    server = await startChildServer({ SHUTDOWN_TIMEOUT_MS: "10000" });
    const token = await mintToken({ secret: TEST_SECRET, projectId: demoCases.project_id, ttl: "5m" });
    const session = http2.connect(`http://127.0.0.1:${server.grpcPort}`);
    const rest = Array.from({ length: IN_FLIGHT }, () => slowRestRequest(server!.httpPort, token));
    const grpc = Array.from({ length: IN_FLIGHT }, () => slowGrpcCall(session, token));
    // Let the server receive every request's headers and first half.
    await new Promise((r) => setTimeout(r, 500));

    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    expect(server.child.exitCode).toBeNull();
    // A new connection after the signal is refused (or answered 503).
    expect(await connectRefusedOr503(server.httpPort)).toMatch(/ECONNREFUSED|503/);
    expect(await connectRefusedOr503(server.grpcPort)).toMatch(/ECONNREFUSED|503|closed/);

    for (const r of rest) r.finish();
    for (const g of grpc) g.finish();
    const restResults = await Promise.all(rest.map((r) => r.response));
    const grpcResults = await Promise.all(grpc.map((g) => g.status));
    session.close();

    expect(restResults.map((r) => r.status)).toEqual(Array(IN_FLIGHT).fill(200));
    for (const r of restResults) expect(JSON.parse(r.body).restorable[0].result).toBe(true);
    expect(grpcResults).toEqual(Array(IN_FLIGHT).fill("0"));
    expect(await server.exited).toBe(0);
    expect(server.logs.some((l) => l.msg === "shutting down: draining")).toBe(true);
  });
});
