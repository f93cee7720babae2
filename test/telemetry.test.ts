import { readFileSync } from "node:fs";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CheckRestorableRequestSchema,
  CheckRestorableResponseSchema,
  ResourceService,
} from "../gen/csbs/v1/resource_service_pb.js";
import { demoCases } from "./support/demo-cases.js";
import { restoreMessage } from "./support/demo-requests.js";
import { callUnary, createGrpcClient } from "./support/grpc-client.js";
import { captureLogs } from "./support/log-capture.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

let ts: TestServer;
let token: string;
const logs = captureLogs();
const actionUrl = () => `${ts.httpUrl}/v1/${demoCases.project_id}/providers/${demoCases.provider_id}/resources/action`;
const passing = demoCases.restore.find((c) => c.expected.result)!;
const failing = demoCases.restore.find((c) => c.expected.error_code === "CSBS.6017")!;

beforeAll(async () => {
  ts = await startTestServer({}, { logger: logs.logger });
  token = await ts.token();
});
afterAll(async () => {
  await ts?.close();
});

/** The value of one sample of /metrics, or 0 when absent. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${ts.httpUrl}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `)) return Number(line.slice(name.length + 1));
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf("}"));
    const parts = labelText.split(",");
    if (want.every((w) => parts.includes(w))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}

function restCheck(entries: unknown[], requestId: string) {
  return fetch(actionUrl(), {
    method: "POST",
    headers: { "content-type": "application/json", "x-auth-token": token, "x-request-id": requestId },
    body: JSON.stringify({ check_restorable: entries }),
  });
}

const RESOURCE = "csbs.v1.ResourceService";

describe("metrics", () => {
  it("REST calls, codes and verdicts move by the number sent; probes and scrapes are not calls", async () => {
    const ok = { protocol: "rest", service: RESOURCE, method: "CheckRestorable", code: "ok", error_code: "" };
    const bad = {
      protocol: "rest",
      service: RESOURCE,
      method: "unknown",
      code: "unauthenticated",
      error_code: "APIGW.0301",
    };
    const before = {
      ok: await metric("csbs_requests_total", ok),
      bad: await metric("csbs_requests_total", bad),
      pass: await metric("csbs_check_verdicts_total", { method: "CheckRestorable", error_code: "" }),
      fail: await metric("csbs_check_verdicts_total", { method: "CheckRestorable", error_code: "CSBS.6017" }),
      hist: await metric("csbs_request_duration_seconds_count", { protocol: "rest", method: "CheckRestorable" }),
      hits: await metric("csbs_store_cache_lookups_total", { result: "hit" }),
    };
    for (let i = 0; i < 7; i++) {
      const res = await restCheck([passing.request, failing.request, failing.request], `metrics-${i}`);
      expect(res.status).toBe(200);
    }
    for (let i = 0; i < 3; i++) {
      const res = await fetch(actionUrl(), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(res.status).toBe(401);
    }
    for (const probe of ["/healthz", "/readyz", "/openapi.json"])
      expect((await fetch(`${ts.httpUrl}${probe}`)).status).toBe(200);
    expect(await metric("csbs_requests_total", ok)).toBe(before.ok + 7);
    expect(await metric("csbs_requests_total", bad)).toBe(before.bad + 3);
    expect(await metric("csbs_check_verdicts_total", { method: "CheckRestorable", error_code: "" })).toBe(
      before.pass + 7,
    );
    expect(await metric("csbs_check_verdicts_total", { method: "CheckRestorable", error_code: "CSBS.6017" })).toBe(
      before.fail + 14,
    );
    expect(await metric("csbs_request_duration_seconds_count", { protocol: "rest", method: "CheckRestorable" })).toBe(
      before.hist + 7,
    );
    // The same check 7 times: read from the database once, then from the store's cache.
    expect(await metric("csbs_store_query_duration_seconds_count", { table: "servers" })).toBeGreaterThanOrEqual(1);
    expect(await metric("csbs_store_cache_lookups_total", { result: "hit" })).toBeGreaterThanOrEqual(
      before.hits + 6 * 2,
    );
    const text = await (await fetch(`${ts.httpUrl}/metrics`)).text();
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    // Only RPC calls are counted: no probe, scrape or route label exists.
    const methods = new Set([...text.matchAll(/^csbs_requests_total\{[^}]*method="([^"]*)"/gm)].map((m) => m[1]));
    expect(
      [...methods].every((m) => /^(Check(Restorable|Protectable)|UpsertInventory|DeleteInventory|unknown)$/.test(m!)),
    ).toBe(true);
    const codes = new Set([...text.matchAll(/^csbs_requests_total\{(?:[^}]*,)?code="([^"]*)"/gm)].map((m) => m[1]));
    expect([...codes].every((c) => /^[a-z_]+$/.test(c!))).toBe(true);
  });

  it("gRPC, Connect and gRPC-Web calls are counted with their code, one vocabulary", async () => {
    const client = createGrpcClient(ts.grpcAddress);
    const request = restoreMessage([passing.request]);
    const labels = (protocol: string, code: string, errorCode = "") => ({
      protocol,
      service: RESOURCE,
      method: "CheckRestorable",
      code,
      error_code: errorCode,
    });
    const series = ["grpc", "connect", "grpc-web"].flatMap((p) => [
      labels(p, "ok"),
      labels(p, "unauthenticated", "APIGW.0301"),
    ]);
    const before = await Promise.all(series.map((l) => metric("csbs_requests_total", l)));
    const path = "/csbs.v1.ResourceService/CheckRestorable";
    for (let i = 0; i < 5; i++) {
      await callUnary(client, path, CheckRestorableRequestSchema, CheckRestorableResponseSchema, request, { token });
    }
    const err = await callUnary(
      client,
      path,
      CheckRestorableRequestSchema,
      CheckRestorableResponseSchema,
      request,
    ).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.UNAUTHENTICATED);
    client.close();
    const transports = [
      createConnectTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" }),
      createGrpcWebTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" }),
    ];
    for (const [n, transport] of transports.entries()) {
      const web = createClient(ResourceService, transport);
      for (let i = 0; i < 3 + n; i++) await web.checkRestorable(request, { headers: { "x-auth-token": token } });
      await expect(web.checkRestorable(request)).rejects.toMatchObject({ code: Code.Unauthenticated });
    }
    const after = await Promise.all(series.map((l) => metric("csbs_requests_total", l)));
    expect(after.map((v, i) => v - before[i]!)).toEqual([5, 1, 3, 1, 4, 1]);
  });

  it("in-flight and store-up gauges, build info", async () => {
    expect(await metric("csbs_requests_in_flight", {})).toBe(0);
    expect(await metric("csbs_store_up", {})).toBe(1);
    const version = (
      JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
    ).version;
    expect(await metric("csbs_build_info", { version, node_version: process.version })).toBe(1);
  });
});

describe("logs", () => {
  it("one JSON line per request, carrying the request id that was sent", async () => {
    const requestId = "log-line-test-42";
    await restCheck([passing.request], requestId);
    const mine = logs.lines.filter((l) => l.request_id === requestId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      msg: "request",
      protocol: "rest",
      method: "CheckRestorable",
      project_id: demoCases.project_id,
      status: "200",
    });
    expect(typeof mine[0]!.duration_ms).toBe("number");
  });

  it("a failed request logs its status and CSBS code, never the token", async () => {
    const requestId = "log-line-test-43";
    await fetch(actionUrl(), {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-token": token, "x-request-id": requestId },
      body: JSON.stringify({ check_restorable: [] }),
    });
    const mine = logs.lines.filter((l) => l.request_id === requestId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ status: "400", error_code: "CSBS.9001" });
    expect(JSON.stringify(logs.lines)).not.toContain(token);
  });
});

describe("metrics access", () => {
  let guarded: TestServer;
  beforeAll(async () => {
    guarded = await startTestServer({ METRICS_TOKEN: "metrics-test-token" });
  });
  afterAll(async () => {
    await guarded?.close();
  });

  it("with METRICS_TOKEN set, /metrics needs the bearer token", async () => {
    const denied = await fetch(`${guarded.httpUrl}/metrics`);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ error_code: "APIGW.0301" });
    const allowed = await fetch(`${guarded.httpUrl}/metrics`, {
      headers: { authorization: "Bearer metrics-test-token" },
    });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain("csbs_requests_total");
  });
});
