import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResourceService } from "../gen/csbs/v1/resource_service_pb.js";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { demoCases } from "./support/demo-cases.js";
import { protectBody, protectMessage } from "./support/demo-requests.js";
import { captureLogs } from "./support/log-capture.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/**
 * One request id per call on every protocol: the caller's `x-request-id` when it is 1-128
 * printable characters, else a generated one; returned in the response headers (gRPC: header
 * metadata), written in the call's log line, and carried by the error (REST body
 * `request_id`; gRPC, Connect, gRPC-Web: ErrorInfo metadata `request_id`).
 */

let ts: TestServer;
let token: string;
const logs = captureLogs();
const entries = [demoCases.protect[0]!.request];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  ts = await startTestServer({}, { logger: logs.logger });
  token = await ts.token();
});
afterAll(async () => {
  await ts?.close();
});

/** What a caller sees of one call: the id in the response headers, and in the error if it failed. */
interface Seen {
  header: string | null;
  /** REST error body `request_id`, or the ErrorInfo metadata `request_id`; undefined on success. */
  errorId: string | undefined;
}

type Protocol = "rest" | "connect" | "grpc-web" | "grpc";

async function rest(requestId: string | undefined, withToken: boolean): Promise<Seen> {
  const res = await fetch(
    `${ts.httpUrl}/v1/${demoCases.project_id}/providers/${demoCases.provider_id}/resources/action`,
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(withToken ? { "x-auth-token": token } : {}),
        ...(requestId === undefined ? {} : { "x-request-id": requestId }),
      },
      body: JSON.stringify(protectBody(entries)),
    },
  );
  const body = (await res.json()) as { request_id?: string };
  return { header: res.headers.get("x-request-id"), errorId: res.ok ? undefined : body.request_id };
}

function transportOf(protocol: Exclude<Protocol, "rest">): Transport {
  switch (protocol) {
    case "connect":
      return createConnectTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" });
    case "grpc":
      return createGrpcTransport({ baseUrl: `http://${ts.grpcAddress}`, idleConnectionTimeoutMs: 100 });
  }
}

async function rpc(
  protocol: Exclude<Protocol, "rest">,
  requestId: string | undefined,
  withToken: boolean,
): Promise<Seen> {
  const client = createClient(ResourceService, transportOf(protocol));
  const headers: Record<string, string> = {
    ...(withToken ? { "x-auth-token": token } : {}),
    ...(requestId === undefined ? {} : { "x-request-id": requestId }),
  };
  let header: string | null = null;
  try {
    await client.checkProtectable(protectMessage(entries), {
      headers,
      onHeader: (h) => {
        header = h.get("x-request-id");
      },
    });
    return { header, errorId: undefined };
  } catch (error) {
    const err = error as ConnectError;
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.code).toBe(Code.Unauthenticated);
    const info = err.findDetails(ErrorInfoSchema)[0];
    expect(info?.reason).toBe("APIGW.0301");
    return { header: err.metadata.get("x-request-id"), errorId: info?.metadata.request_id };
  }
}

const call = (protocol: Protocol, requestId: string | undefined, withToken: boolean) =>
  protocol === "rest" ? rest(requestId, withToken) : rpc(protocol, requestId, withToken);

/** The request log lines of a protocol carrying this id. */
const logLinesOf = (protocol: Protocol, id: string) =>
  logs.lines.filter((l) => l.msg !== undefined && l.protocol === protocol && l.request_id === id);

const PROTOCOLS: Protocol[] = ["rest", "connect", "grpc-web", "grpc"];

describe.each(PROTOCOLS)("%s", (protocol) => {
  it("a printable id of at most 128 characters is returned, logged, and in the error", async () => {
    for (const withToken of [true, false]) {
      const id = `${protocol}-${withToken ? "ok" : "denied"}-${"x".repeat(100)}`.slice(0, 128);
      const seen = await call(protocol, id, withToken);
      expect(seen.header).toBe(id);
      expect(seen.errorId).toBe(withToken ? undefined : id);
      expect(logLinesOf(protocol, id)).toHaveLength(1);
    }
  });

  it.each([
    ["absent", undefined],
    ["129 characters", "a".repeat(129)],
    ["7,000 characters", "b".repeat(7_000)],
    ["with a space", "two words"],
    ["non-ASCII", "réquest"],
  ])("%s: a generated id instead, the same in the headers, the error and the log line", async (_what, sent) => {
    for (const withToken of [true, false]) {
      const seen = await call(protocol, sent, withToken);
      expect(seen.header).toMatch(UUID);
      expect(seen.errorId).toBe(withToken ? undefined : seen.header);
      expect(logLinesOf(protocol, seen.header!)).toHaveLength(1);
    }
    if (sent !== undefined) expect(JSON.stringify(logs.lines)).not.toContain(sent);
  });
});

it("a 15 KB id on the HTTP port (REST and Connect) is never echoed or logged", async () => {
  const huge = "c".repeat(15_000);
  for (const protocol of ["rest", "connect"] as const) {
    const seen = await call(protocol, huge, false);
    expect(seen.header).toMatch(UUID);
    expect(seen.errorId).toBe(seen.header);
  }
  expect(JSON.stringify(logs.lines)).not.toContain("c".repeat(200));
});
