import { cors as connectCors, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResourceService } from "../gen/csbs/v1/resource_service_pb.js";
import { ConfigError, loadConfig } from "../src/server/config.js";
import { demoCases } from "./support/demo-cases.js";
import { protectBody, protectMessage } from "./support/demo-requests.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/**
 * CORS on the HTTP port: off by default (OPTIONS is the CSBS 404, no CORS headers), on with
 * CORS_ALLOWED_ORIGINS: the preflights a browser sends before a Connect, gRPC-Web or REST
 * call, and the real calls' responses as a browser needs them (allowed origin, exposed headers).
 */

const ORIGIN = "https://console.example.com";
const CONNECT_PATH = "/csbs.v1.ResourceService/CheckProtectable";
const REST_PATH = `/v1/${demoCases.project_id}/providers/${demoCases.provider_id}/resources/action`;
const entries = [demoCases.protect[0]!.request];

let on: TestServer;
let off: TestServer;
let token: string;

beforeAll(async () => {
  [on, off] = await Promise.all([
    startTestServer({ CORS_ALLOWED_ORIGINS: `${ORIGIN}, http://localhost:5173` }),
    startTestServer(),
  ]);
  token = await on.token();
});
afterAll(async () => {
  await Promise.all([on?.close(), off?.close()]);
});

function preflight(ts: TestServer, path: string, method: string, headers: string[], origin = ORIGIN) {
  return fetch(`${ts.httpUrl}${path}`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": headers.join(","),
    },
  });
}

const list = (value: string | null) => (value ?? "").split(",").map((h) => h.trim().toLowerCase());

/** What a browser's Connect (JSON) client, its gRPC-Web client and a REST page ask before calling. */
const PREFLIGHTS = [
  {
    name: "Connect",
    path: CONNECT_PATH,
    method: "POST",
    headers: ["content-type", "connect-protocol-version", "connect-timeout-ms", "x-auth-token", "x-request-id"],
  },
  { name: "Connect GET", path: CONNECT_PATH, method: "GET", headers: ["connect-protocol-version", "x-auth-token"] },
  {
    name: "gRPC-Web",
    path: CONNECT_PATH,
    method: "POST",
    headers: ["content-type", "x-grpc-web", "x-user-agent", "grpc-timeout", "x-auth-token"],
  },
  { name: "REST", path: REST_PATH, method: "POST", headers: ["content-type", "x-auth-token", "x-request-id"] },
];

describe("CORS_ALLOWED_ORIGINS set", () => {
  it.each(PREFLIGHTS)("$name preflight: 204, the origin, method and every requested header allowed", async (p) => {
    const res = await preflight(on, p.path, p.method, p.headers);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(list(res.headers.get("access-control-allow-methods"))).toContain(p.method.toLowerCase());
    const allowed = list(res.headers.get("access-control-allow-headers"));
    for (const h of p.headers) expect(allowed, h).toContain(h);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(list(res.headers.get("vary"))).toContain("origin");
  });

  it("the header lists are connect-es's own, plus X-Auth-Token and X-Request-Id", async () => {
    const res = await preflight(on, CONNECT_PATH, "POST", ["content-type"]);
    expect(list(res.headers.get("access-control-allow-headers"))).toEqual(
      [...connectCors.allowedHeaders, "x-auth-token", "x-request-id"].map((h) => h.toLowerCase()),
    );
  });

  it("a second listed origin is allowed too; another origin gets no CORS headers", async () => {
    const second = await preflight(on, CONNECT_PATH, "POST", ["content-type"], "http://localhost:5173");
    expect(second.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    const other = await preflight(on, CONNECT_PATH, "POST", ["content-type"], "https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  /** Adds the Origin header a browser adds to a cross-origin call, and keeps the response headers. */
  function browserLike(seen: Headers[]): Interceptor {
    return (next) => async (req) => {
      req.header.set("origin", ORIGIN);
      req.header.set("x-auth-token", token);
      const res = await next(req);
      seen.push(res.header);
      return res;
    };
  }

  it.each([
    [
      "Connect",
      (i: Interceptor) => createConnectTransport({ baseUrl: on.httpUrl, httpVersion: "1.1", interceptors: [i] }),
    ],
    [
      "gRPC-Web",
      (i: Interceptor) => createGrpcWebTransport({ baseUrl: on.httpUrl, httpVersion: "1.1", interceptors: [i] }),
    ],
  ] as [string, (i: Interceptor) => Transport][])(
    "a cross-origin %s call: allowed origin, X-Request-Id and the gRPC-Web status headers exposed",
    async (_name, make) => {
      const seen: Headers[] = [];
      const client = createClient(ResourceService, make(browserLike(seen)));
      const res = await client.checkProtectable(protectMessage(entries), {
        headers: { "x-request-id": "cors-call-1" },
      });
      expect(res.protectable).toHaveLength(1);
      const header = seen[0]!;
      expect(header.get("access-control-allow-origin")).toBe(ORIGIN);
      expect(header.get("x-request-id")).toBe("cors-call-1");
      const exposed = list(header.get("access-control-expose-headers"));
      for (const h of ["grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id"]) {
        expect(exposed, h).toContain(h);
      }
    },
  );

  it("a cross-origin REST call: allowed origin, X-Request-Id exposed, same answer", async () => {
    const res = await fetch(`${on.httpUrl}${REST_PATH}`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "application/json", "x-auth-token": token },
      body: JSON.stringify(protectBody(entries)),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(list(res.headers.get("access-control-expose-headers"))).toContain("x-request-id");
    expect(((await res.json()) as { protectable: unknown[] }).protectable).toHaveLength(1);
  });
});

describe("CORS off (the default)", () => {
  it.each(PREFLIGHTS.filter((p) => p.name !== "Connect GET"))(
    "$name preflight: the CSBS 404 body, no CORS headers",
    async (p) => {
      const res = await preflight(off, p.path, p.method, p.headers);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error_code: "APIGW.0101" });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    },
  );

  it.each(["PUT", "DELETE", "PATCH"])("%s on a Connect path: the CSBS 404 too (not a bodiless 405)", async (method) => {
    const res = await fetch(`${off.httpUrl}${CONNECT_PATH}`, { method });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error_code: "APIGW.0101" });
  });

  it("a call with an Origin header is answered without CORS headers", async () => {
    const res = await fetch(`${off.httpUrl}${REST_PATH}`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "application/json", "x-auth-token": token },
      body: JSON.stringify(protectBody(entries)),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("CORS_ALLOWED_ORIGINS parsing", () => {
  it.each([
    ["", []],
    ["*", ["*"]],
    [" https://a.example ,http://localhost:8080 ", ["https://a.example", "http://localhost:8080"]],
  ])("%j → %j", (raw, expected) => {
    expect(loadConfig({ CORS_ALLOWED_ORIGINS: raw }).corsAllowedOrigins).toEqual(expected);
  });

  it.each(["a.example", "https://a.example/", "https://a.example/path", "ftp://a.example"])(
    "%j is refused, naming the variable",
    (raw) => {
      expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: raw })).toThrow(ConfigError);
      expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: raw })).toThrow(/^CORS_ALLOWED_ORIGINS: /);
    },
  );
});
