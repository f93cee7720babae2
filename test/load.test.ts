import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../src/auth/mint-token.js";
import { type ChildServer, startChildServer } from "./support/child-server.js";
import { demoCases } from "./support/demo-cases.js";
import { TEST_SECRET } from "./support/test-server.js";

/**
 * A bounded load run (loopback only) against the real service in its own process: 100
 * connections, REST and Connect, passing and failing checks. Zero errors other than the
 * documented 503, and the process's RSS at the end within 20% of its RSS after warm-up.
 * LOAD_SECONDS sets the measured duration (default 20, after a 10 s warm-up).
 */
const SECONDS = Number(process.env.LOAD_SECONDS ?? 20);
/** Long enough for V8's heap and the allocator to reach their working size under this load. */
const WARM_UP_SECONDS = 10;
let server: ChildServer;
let token: string;

beforeAll(async () => {
  server = await startChildServer({ LOG_LEVEL: "warn" });
  token = await mintToken({ secret: TEST_SECRET, projectId: demoCases.project_id, ttl: "10m" });
});
afterAll(async () => {
  await server?.kill();
});

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

function run(duration: number) {
  const path = `/v1/${demoCases.project_id}/providers/${demoCases.provider_id}/resources/action`;
  const headers = { "content-type": "application/json", "x-auth-token": token };
  const batch = demoCases.restore.slice(0, 10).map((c) => c.request);
  return autocannon({
    url: `http://127.0.0.1:${server.httpPort}`,
    connections: 100,
    duration,
    requests: [
      { method: "POST", path, headers, body: JSON.stringify({ check_restorable: [demoCases.restore[0]!.request] }) },
      { method: "POST", path, headers, body: JSON.stringify({ check_restorable: batch }) },
      {
        method: "POST",
        path,
        headers,
        body: JSON.stringify({ check_protectable: demoCases.protect.map((c) => c.request) }),
      },
      {
        method: "POST",
        path: "/csbs.v1.ResourceService/CheckProtectable",
        headers,
        body: JSON.stringify({
          projectId: demoCases.project_id,
          providerId: demoCases.provider_id,
          checkProtectable: [
            { resourceId: demoCases.protect[0]!.request.resource_id, resourceType: "OS::Nova::Server" },
          ],
        }),
      },
    ],
  });
}

describe("load", () => {
  it(
    `${SECONDS} s at 100 connections: only 200s (or documented 503s), RSS stable`,
    async () => {
      const warm = await run(WARM_UP_SECONDS);
      expect(warm.errors).toBe(0);
      const afterWarmUp = rssBytes(server.child.pid!);
      const result = await run(SECONDS);
      const atEnd = rssBytes(server.child.pid!);
      const statuses = { ...result.statusCodeStats } as Record<string, { count: number }>;
      console.info(
        `load: ${result.requests.total} requests in ${SECONDS} s (${Math.round(result.requests.average)}/s avg), p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, RSS ${Math.round(afterWarmUp / 2 ** 20)} -> ${Math.round(atEnd / 2 ** 20)} MiB`,
      );
      const unexpected = Object.keys(statuses).filter((s) => s !== "200" && s !== "503");
      expect(result.errors, "socket errors").toBe(0);
      expect(result.timeouts, "timeouts").toBe(0);
      expect(unexpected, JSON.stringify(statuses)).toEqual([]);
      expect(result.requests.total).toBeGreaterThan(0);
      expect(atEnd / afterWarmUp, `RSS ${afterWarmUp} -> ${atEnd}`).toBeLessThan(1.2);
      expect(atEnd / afterWarmUp).toBeGreaterThan(0.8);
    },
    (WARM_UP_SECONDS + SECONDS + 30) * 1000,
  );
});
