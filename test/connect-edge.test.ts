/**
 * Connect and gRPC-Web on the HTTP port, at the edge: the token is verified before the
 * body is read; what connect-es refuses before the service (a malformed protobuf message,
 * an unknown JSON field) is the CSBS 400 / INVALID_ARGUMENT with its ErrorInfo, logged and
 * counted. Raw sockets (node:http) where a client library would not send the bad input.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, type ConnectError, createClient } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse } from "@connectrpc/connect/protocol-grpc-web";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckRestorableRequestSchema, ResourceService } from "../gen/csbs/v1/resource_service_pb.js";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { ADMIN_ROLE } from "../src/auth/principal.js";
import { demoCases } from "./support/demo-cases.js";
import { restoreMessage } from "./support/demo-requests.js";
import { captureLogs } from "./support/log-capture.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

let ts: TestServer;
let token: string;
const logs = captureLogs();
const RESTORE_PATH = "/csbs.v1.ResourceService/CheckRestorable";
const UPSERT_PATH = "/csbs.admin.v1.InventoryService/UpsertInventory";
const passing = demoCases.restore.find((c) => c.expected.result)!;

beforeAll(async () => {
  ts = await startTestServer({}, { logger: logs.logger });
  token = await ts.token();
});
afterAll(async () => {
  await ts?.close();
});

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends headers and `body` on a real socket; unless `end`, the request body is left
 * unfinished (Content-Length promises more than is sent). Resolves with the full answer.
 */
function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
  end: boolean,
): Promise<RawAnswer> {
  const { port } = new URL(ts.httpUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        req.destroy();
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (body.byteLength > 0) req.write(body);
    if (end) req.end();
    else req.flushHeaders();
  });
}

/** The error of a Connect answer (JSON error body). */
function connectErrorOf(answer: RawAnswer): ConnectError {
  return errorFromJsonBytes(answer.body, undefined, new Error("no error") as never);
}

/** The error of a gRPC-Web answer (its trailer envelope). */
function grpcWebErrorOf(answer: RawAnswer): ConnectError | undefined {
  expect(answer.status).toBe(200);
  let at = 0;
  while (at + 5 <= answer.body.byteLength) {
    const flags = answer.body[at]!;
    const length = answer.body.readUInt32BE(at + 1);
    const data = answer.body.subarray(at + 5, at + 5 + length);
    if ((flags & trailerFlag) === trailerFlag) return findTrailerError(trailerParse(data));
    at += 5 + length;
  }
  return undefined;
}

function expectCsbs(error: ConnectError | undefined, code: Code, reason: string, requestId?: string) {
  expect(error?.code).toBe(code);
  const info = error?.findDetails(ErrorInfoSchema)[0];
  expect(info?.reason).toBe(reason);
  if (requestId !== undefined) expect(info?.metadata.request_id).toBe(requestId);
}

/** The value of one sample of /metrics, or 0 when absent. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${ts.httpUrl}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const parts = line.slice(name.length + 1, line.indexOf("}")).split(",");
    if (want.every((w) => parts.includes(w))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}

describe("the token is verified before the body is read", () => {
  // 1 MiB promised, a few bytes sent, never finished: answered from the headers alone.
  const promised = String(1024 * 1024);

  it("Connect: a body that never finishes, no token → 401 unauthenticated at once", async () => {
    const answer = await rawRequest(
      "POST",
      RESTORE_PATH,
      { "content-type": "application/json", "content-length": promised, "x-request-id": "edge-unfinished-1" },
      new TextEncoder().encode('{"project_id":"demo-project","check_restorable":[{},{},'),
      false,
    );
    expect(answer.status).toBe(401);
    expect(answer.headers["x-request-id"]).toBe("edge-unfinished-1");
    expectCsbs(connectErrorOf(answer), Code.Unauthenticated, "APIGW.0301", "edge-unfinished-1");
  });

  it("Connect (application/proto): the same with a binary body", async () => {
    const answer = await rawRequest(
      "POST",
      RESTORE_PATH,
      { "content-type": "application/proto", "content-length": promised, "x-auth-token": "not-a-token" },
      new Uint8Array([0x1a, 0x00, 0x1a, 0x00]),
      false,
    );
    expect(answer.status).toBe(401);
    expectCsbs(connectErrorOf(answer), Code.Unauthenticated, "APIGW.0301");
  });

  it("gRPC-Web: a message whose length prefix promises more than is sent, no token → UNAUTHENTICATED at once", async () => {
    const prefix = new Uint8Array([0, 0, 0x0f, 0xff, 0xff, 0x1a, 0x00]); // 1 MiB - 1 promised
    const answer = await rawRequest(
      "POST",
      RESTORE_PATH,
      { "content-type": "application/grpc-web+proto", "x-request-id": "edge-unfinished-2" },
      prefix,
      false,
    );
    expectCsbs(grpcWebErrorOf(answer), Code.Unauthenticated, "APIGW.0301", "edge-unfinished-2");
  });

  it("a valid token still works, on Connect and gRPC-Web", async () => {
    const request = restoreMessage([passing.request]);
    for (const transport of [
      createConnectTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" }),
      createConnectTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1", useBinaryFormat: true }),
      createGrpcWebTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" }),
    ]) {
      const client = createClient(ResourceService, transport);
      const res = await client.checkRestorable(request, { headers: { "x-auth-token": token } });
      expect(res.restorable.map((r) => r.result)).toEqual([true]);
    }
  });
});

describe("a malformed protobuf message is 400 / INVALID_ARGUMENT with the CSBS ErrorInfo, logged and counted", () => {
  // Field 3 (check_restorable), length-delimited, 16 bytes promised, 1 present.
  const malformed = new Uint8Array([0x1a, 0x10, 0x0a]);
  const cases = [
    {
      name: "Connect POST application/proto",
      protocol: "connect",
      send: (id: string) =>
        rawRequest(
          "POST",
          RESTORE_PATH,
          { "content-type": "application/proto", "x-auth-token": token, "x-request-id": id },
          malformed,
          true,
        ),
      errorOf: (a: RawAnswer) => {
        expect(a.status).toBe(400);
        return connectErrorOf(a);
      },
    },
    {
      name: "Connect GET ?encoding=proto&base64=1",
      protocol: "connect",
      send: (id: string) =>
        rawRequest(
          "GET",
          `${RESTORE_PATH}?encoding=proto&base64=1&message=${Buffer.from(malformed).toString("base64url")}`,
          { "x-auth-token": token, "x-request-id": id },
          new Uint8Array(0),
          true,
        ),
      errorOf: (a: RawAnswer) => {
        expect(a.status).toBe(400);
        return connectErrorOf(a);
      },
    },
    {
      name: "gRPC-Web application/grpc-web+proto",
      protocol: "grpc-web",
      send: (id: string) =>
        rawRequest(
          "POST",
          RESTORE_PATH,
          { "content-type": "application/grpc-web+proto", "x-auth-token": token, "x-request-id": id },
          encodeEnvelope(0, malformed),
          true,
        ),
      errorOf: grpcWebErrorOf,
    },
  ];

  it.each(cases)("$name", async (c) => {
    const labels = { protocol: c.protocol, method: "CheckRestorable", error_code: "CSBS.9001" };
    const before = await metric("csbs_requests_total", labels);
    const id = `edge-malformed-${randomUUID()}`;
    const error = c.errorOf(await c.send(id));
    expectCsbs(error, Code.InvalidArgument, "CSBS.9001", id);
    expect(error?.rawMessage).toMatch(/^body: malformed protobuf message/);
    expect(await metric("csbs_requests_total", labels)).toBe(before + 1);
    const line = logs.lines.find((l) => l.request_id === id);
    expect(line).toMatchObject({ protocol: c.protocol, method: "CheckRestorable", error_code: "CSBS.9001" });
  });

  it("a well-formed binary message on the same paths still answers", async () => {
    const bytes = toBinary(CheckRestorableRequestSchema, create(CheckRestorableRequestSchema, restoreMessage([])));
    const answer = await rawRequest(
      "POST",
      RESTORE_PATH,
      { "content-type": "application/proto", "x-auth-token": token },
      bytes,
      true,
    );
    // The empty list is the use case's own 400, naming the field.
    expect(answer.status).toBe(400);
    expect(connectErrorOf(answer).rawMessage).toBe("check_restorable: must not be empty");
  });
});

describe("unknown JSON fields are refused on Connect, as on REST", () => {
  it("the resource service: 400 invalid_argument naming the field", async () => {
    const body = { project_id: demoCases.project_id, provider_id: demoCases.provider_id, check_restorabel: [] };
    const answer = await rawRequest(
      "POST",
      RESTORE_PATH,
      { "content-type": "application/json", "x-auth-token": token },
      new TextEncoder().encode(JSON.stringify(body)),
      true,
    );
    expect(answer.status).toBe(400);
    const error = connectErrorOf(answer);
    expectCsbs(error, Code.InvalidArgument, "CSBS.9001");
    expect(error.rawMessage).toContain("check_restorabel");
  });

  it("the admin inventory API: a typo (restore_suported) is refused, nothing is written", async () => {
    const project = `edge-${randomUUID().slice(0, 8)}`;
    const admin = await ts.token(project, [ADMIN_ROLE]);
    const server = { id: randomUUID(), type: "OS::Nova::Server", status: "ACTIVE", restore_suported: false };
    const answer = await rawRequest(
      "POST",
      UPSERT_PATH,
      { "content-type": "application/json", "x-auth-token": admin },
      new TextEncoder().encode(JSON.stringify({ project_id: project, servers: [server] })),
      true,
    );
    expect(answer.status).toBe(400);
    const error = connectErrorOf(answer);
    expectCsbs(error, Code.InvalidArgument, "CSBS.9001");
    expect(error.rawMessage).toContain("restore_suported");
    expect((await ts.server.store.getServers(project, [server.id])).size).toBe(0);
  });
});
