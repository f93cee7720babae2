import http2 from "node:http2";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoCases } from "./support/demo-cases.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/**
 * Property-based robustness: random and mutated JSON bodies, headers and path segments at
 * the running gateway, random bytes at the gRPC method. Every answer is a documented 4xx or
 * a 200 with the documented shape, never a 5xx, never a hang, never a crash.
 * FUZZ_RUNS sets the runs per property (npm test: 750; `npm run fuzz`: 25,000 → 100k cases).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 750);
const TIMEOUT = RUNS > 1000 ? 600_000 : 60_000;
const DOCUMENTED = new Set([200, 400, 401, 403, 404, 413, 415]);

let ts: TestServer;
let token: string;
let otherToken: string;

beforeAll(async () => {
  ts = await startTestServer({ MAX_BODY_BYTES: "65536" });
  token = await ts.token();
  otherToken = await ts.token("other-project");
});
afterAll(async () => {
  await ts?.close();
});

async function expectDocumented(res: Response): Promise<void> {
  const text = await res.text();
  expect(DOCUMENTED.has(res.status), `status ${res.status}: ${text}`).toBe(true);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  if (res.status === 200) {
    const keys = Object.keys(body);
    expect(keys.length).toBe(1);
    expect(["restorable", "protectable"]).toContain(keys[0]);
  } else {
    expect(Object.keys(body).sort()).toEqual(["error_code", "error_msg", "request_id"]);
    expect(body.request_id).toBe(res.headers.get("x-request-id"));
  }
}

const uuid = fc.uuid();
const leaf = fc.oneof(fc.string(), uuid, fc.integer(), fc.boolean(), fc.constant(null), fc.double(), fc.constant(""));
const mapping = fc.record({ backup_id: fc.oneof(uuid, leaf), volume_id: fc.oneof(uuid, leaf) }, { requiredKeys: [] });
const target = fc.record(
  {
    resource_id: fc.oneof(uuid, leaf),
    resource_type: fc.oneof(fc.constantFrom("OS::Nova::Server", "OS::Ironic::BareMetalServer"), leaf),
    volumes: fc.oneof(fc.array(mapping, { maxLength: 70 }), leaf),
  },
  { requiredKeys: [] },
);
const entry = fc.record(
  { checkpoint_item_id: fc.oneof(uuid, leaf), target: fc.oneof(target, leaf) },
  { requiredKeys: [] },
);
const protectEntry = fc.record({ resource_id: fc.oneof(uuid, leaf), resource_type: leaf }, { requiredKeys: [] });
/** Bodies near the valid shape (deep mutations), and arbitrary JSON. */
const body = fc.oneof(
  fc.record({ check_restorable: fc.oneof(fc.array(entry, { maxLength: 120 }), leaf) }),
  fc.record({ check_protectable: fc.oneof(fc.array(protectEntry, { maxLength: 120 }), leaf) }),
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
  fc.jsonValue(),
);
const action = () => `/v1/${demoCases.project_id}/providers/${demoCases.provider_id}/resources/action`;

describe("fuzzing the REST gateway", () => {
  it(
    "random and mutated JSON bodies",
    async () => {
      await fc.assert(
        fc.asyncProperty(body, fc.constantFrom(0, 1, 2), async (json, who) => {
          const res = await fetch(`${ts.httpUrl}${action()}`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              ...(who < 2 ? { "x-auth-token": who ? otherToken : token } : {}),
            },
            body: JSON.stringify(json),
            signal: AbortSignal.timeout(5000),
          });
          await expectDocumented(res);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    "random bytes and truncated JSON as the body",
    async () => {
      const valid = JSON.stringify({ check_restorable: [demoCases.restore[0]!.request] });
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ maxLength: 2000 }),
            fc.nat(valid.length).map((n) => new TextEncoder().encode(valid.slice(0, n))),
          ),
          async (bytes) => {
            const res = await fetch(`${ts.httpUrl}${action()}`, {
              method: "POST",
              headers: { "content-type": "application/json", "x-auth-token": token },
              body: bytes,
              signal: AbortSignal.timeout(5000),
            });
            await expectDocumented(res);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    "random headers, methods and path segments",
    async () => {
      const headerValue = fc.string({
        unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
        maxLength: 300,
      });
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
          fc.oneof(fc.constant(demoCases.project_id), fc.string({ maxLength: 80 })),
          fc.oneof(fc.constant(demoCases.provider_id), fc.string({ maxLength: 50 }), uuid),
          fc.oneof(fc.constant("resources/action"), fc.string({ maxLength: 20 })),
          fc.oneof(fc.constant("application/json"), headerValue),
          fc.oneof(fc.constant(undefined), headerValue),
          fc.oneof(fc.constant(token), headerValue),
          async (method, project, provider, tail, contentType, requestId, auth) => {
            const path = `/v1/${encodeURIComponent(project)}/providers/${encodeURIComponent(provider)}/${tail.split("/").map(encodeURIComponent).join("/")}`;
            const res = await fetch(`${ts.httpUrl}${path}`, {
              method,
              headers: {
                "content-type": contentType,
                "x-auth-token": auth,
                ...(requestId !== undefined ? { "x-request-id": requestId } : {}),
              },
              ...(method === "GET" || method === "OPTIONS"
                ? {}
                : { body: JSON.stringify({ check_restorable: [demoCases.restore[0]!.request] }) }),
              signal: AbortSignal.timeout(5000),
            });
            await expectDocumented(res);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("fuzzing the gRPC method", () => {
  it(
    "random bytes as the request message: a gRPC status, never INTERNAL or UNKNOWN",
    async () => {
      const session = http2.connect(`http://127.0.0.1:${ts.server.grpcPort}`);
      const call = (frame: Uint8Array, withToken: boolean, path: string) =>
        new Promise<string>((resolve, reject) => {
          const stream = session.request({
            ":method": "POST",
            ":path": path,
            "content-type": "application/grpc",
            te: "trailers",
            ...(withToken ? { "x-auth-token": token } : {}),
          });
          const timer = setTimeout(() => reject(new Error("no answer in 5 s")), 5000);
          let status = "";
          stream.once("response", (headers) => {
            // Trailers-only responses put grpc-status in the headers.
            if (headers["grpc-status"] !== undefined) status = String(headers["grpc-status"]);
          });
          stream.once("trailers", (trailers) => {
            status = String(trailers["grpc-status"]);
          });
          stream.once("close", () => {
            clearTimeout(timer);
            resolve(status);
          });
          stream.once("error", reject);
          stream.resume();
          stream.end(frame);
        });
      const framed = (bytes: Uint8Array) => {
        const frame = new Uint8Array(5 + bytes.length);
        new DataView(frame.buffer).setUint32(1, bytes.length);
        frame.set(bytes, 5);
        return frame;
      };
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.uint8Array({ maxLength: 3000 }),
            fc.boolean(),
            fc.boolean(),
            fc.constantFrom("/csbs.v1.ResourceService/CheckRestorable", "/csbs.v1.ResourceService/CheckProtectable"),
            async (bytes, frameIt, withToken, path) => {
              const status = await call(frameIt ? framed(bytes) : bytes, withToken, path);
              // OK, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAUTHENTICATED, and grpc-js's own
              // UNIMPLEMENTED / INVALID_ARGUMENT for a malformed frame.
              expect(["0", "3", "8", "12", "16"]).toContain(status);
            },
          ),
          { numRuns: RUNS },
        );
      } finally {
        session.close();
      }
    },
    TIMEOUT,
  );
});
