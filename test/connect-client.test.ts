import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResourceService } from "../gen/csbs/v1/resource_service_pb.js";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { demoCases, type ProtectCase, type RestoreCase } from "./support/demo-cases.js";
import { protectMessage, restoreMessage } from "./support/demo-requests.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/**
 * Generated Connect clients on the HTTP/1.1 port (Connect protocol, also with GET, and
 * gRPC-Web) and on the gRPC port (connect-node's gRPC transport over HTTP/2): the same
 * verdicts, and errors carrying the google.rpc.ErrorInfo with the CSBS/APIGW code.
 */

let ts: TestServer;
let token: string;

beforeAll(async () => {
  ts = await startTestServer();
  token = await ts.token();
});
afterAll(async () => {
  await ts?.close();
});

/** Puts the token on every call, as a Connect app would. */
const withToken =
  (t: () => string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set("x-auth-token", t());
    return next(req);
  };

function restoreRequest(cases: ReadonlyArray<RestoreCase>, projectId = demoCases.project_id) {
  return restoreMessage(
    cases.map((c) => c.request),
    { projectId },
  );
}

function protectRequest(cases: ReadonlyArray<ProtectCase>) {
  return protectMessage(cases.map((c) => c.request));
}

function verdicts(
  entries: ReadonlyArray<{ result: boolean; errorCode: string; errorMsg: string; resourceId: string }>,
) {
  return entries.map((e) => ({ result: e.result, error_code: e.errorCode, error_msg: e.errorMsg, id: e.resourceId }));
}

async function connectErrorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error("expected the call to fail");
}

interface TransportCase {
  name: string;
  make: () => Transport;
}

const TRANSPORTS: TransportCase[] = [
  {
    name: "Connect protocol, HTTP/1.1 port",
    make: () =>
      createConnectTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1", interceptors: [withToken(() => token)] }),
  },
  {
    name: "Connect protocol with GET (NO_SIDE_EFFECTS), HTTP/1.1 port",
    make: () =>
      createConnectTransport({
        baseUrl: ts.httpUrl,
        httpVersion: "1.1",
        useHttpGet: true,
        interceptors: [withToken(() => token)],
      }),
  },
  {
    name: "Connect protocol, binary, HTTP/1.1 port",
    make: () =>
      createConnectTransport({
        baseUrl: ts.httpUrl,
        httpVersion: "1.1",
        useBinaryFormat: true,
        interceptors: [withToken(() => token)],
      }),
  },
  {
    name: "gRPC-Web, HTTP/1.1 port",
    make: () =>
      createGrpcWebTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1", interceptors: [withToken(() => token)] }),
  },
  {
    name: "gRPC, gRPC port (grpc-js host)",
    make: () =>
      createGrpcTransport({
        baseUrl: `http://${ts.grpcAddress}`,
        idleConnectionTimeoutMs: 100,
        interceptors: [withToken(() => token)],
      }),
  },
];

describe.each(TRANSPORTS)("$name", ({ make }) => {
  it("CheckRestorable answers every rule case in request order", async () => {
    const client = createClient(ResourceService, make());
    const res = await client.checkRestorable(restoreRequest(demoCases.restore));
    expect(verdicts(res.restorable)).toEqual(
      demoCases.restore.map((c) => ({ ...c.expected, id: c.request.target.resource_id })),
    );
  });

  it("CheckProtectable answers every rule case in request order", async () => {
    const client = createClient(ResourceService, make());
    const res = await client.checkProtectable(protectRequest(demoCases.protect));
    expect(verdicts(res.protectable)).toEqual(
      demoCases.protect.map((c) => ({ ...c.expected, id: c.request.resource_id })),
    );
  });

  it("a malformed request is InvalidArgument with ErrorInfo CSBS.9001 naming the field", async () => {
    const client = createClient(ResourceService, make());
    const req = restoreRequest([demoCases.restore[0]!, demoCases.restore[1]!]);
    req.checkRestorable[1]!.target.volumes[0]!.volumeId = "not-a-uuid";
    const err = await connectErrorOf(client.checkRestorable(req));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe("check_restorable[1].target.volumes[0].volume_id: must be a UUID");
    expect(err.findDetails(ErrorInfoSchema).map((i) => i.reason)).toEqual(["CSBS.9001"]);
  });

  it("another project's path is PermissionDenied with ErrorInfo APIGW.0302", async () => {
    const client = createClient(ResourceService, make());
    const err = await connectErrorOf(
      client.checkRestorable(restoreRequest([demoCases.restore[0]!], demoCases.other_project_id)),
    );
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe("APIGW.0302");
  });

  it("an unknown provider is InvalidArgument ('provider invalid')", async () => {
    const client = createClient(ResourceService, make());
    const err = await connectErrorOf(
      client.checkProtectable({
        ...protectRequest([demoCases.protect[0]!]),
        providerId: "0f0f0f0f-0000-4000-8000-000000000000",
      }),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("provider invalid");
    expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe("CSBS.9001");
  });

  it("the token passed as call-option headers works too", async () => {
    const client = createClient(ResourceService, make());
    const res = await client.checkRestorable(restoreRequest([demoCases.restore[0]!]), {
      headers: { "x-auth-token": token },
    });
    expect(res.restorable[0]?.result).toBe(true);
  });
});

describe("without a token", () => {
  it.each([
    ["Connect", () => createConnectTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" })],
    ["gRPC-Web", () => createGrpcWebTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" })],
    ["gRPC", () => createGrpcTransport({ baseUrl: `http://${ts.grpcAddress}`, idleConnectionTimeoutMs: 100 })],
  ])("%s: Unauthenticated with ErrorInfo APIGW.0301", async (_name, make) => {
    const client = createClient(ResourceService, make());
    const err = await connectErrorOf(client.checkRestorable(restoreRequest([demoCases.restore[0]!])));
    expect(err.code).toBe(Code.Unauthenticated);
    expect(err.rawMessage).toContain("Incorrect IAM authentication information");
    expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe("APIGW.0301");
  });
});

describe("request ids on the HTTP port", () => {
  it("a Connect call gets X-Request-Id back, the sent one when valid", async () => {
    const client = createClient(ResourceService, createConnectTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" }));
    let header: Headers | undefined;
    await client.checkRestorable(restoreRequest([demoCases.restore[0]!]), {
      headers: { "x-auth-token": token, "x-request-id": "connect-req-1" },
      onHeader: (h) => {
        header = h;
      },
    });
    expect(header?.get("x-request-id")).toBe("connect-req-1");
  });
});
