/**
 * The REST decoder's list bounds: a list longer than its limit is refused at its first
 * extra element, naming the list, and nothing after it is read (counted with a Proxy over
 * the parsed array); end to end, a 1 MiB body of ~350,000 entries gets that 400.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckRestorableRequestSchema } from "../gen/csbs/v1/resource_service_pb.js";
import { decodeJson, JsonShapeError } from "../src/gateway/decode-json.js";
import { demoCases } from "./support/demo-cases.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/** The array, and how many of its elements have been read. */
function countingArray<T>(items: T[]): { list: T[]; readonly reads: number } {
  let reads = 0;
  const list = new Proxy(items, {
    get(target, key, receiver) {
      if (typeof key === "string" && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  return {
    list,
    get reads() {
      return reads;
    },
  };
}

const bounds = { maxItems: (f: { name: string }) => (f.name === "volumes" ? 4 : 100) };

function shapeError(run: () => unknown): JsonShapeError {
  try {
    run();
  } catch (error) {
    if (error instanceof JsonShapeError) return error;
    throw error;
  }
  throw new Error("expected a JsonShapeError");
}

describe("decodeJson: list bounds", () => {
  it("500,000 entries: refused at the 101st, the rest never read", () => {
    const entries = countingArray(Array.from({ length: 500_000 }, () => ({})));
    const error = shapeError(() =>
      decodeJson(CheckRestorableRequestSchema, { check_restorable: entries.list }, {}, bounds),
    );
    expect(error.field).toBe("check_restorable");
    expect(error.message).toBe("check_restorable: must have at most 100 entries");
    expect(entries.reads).toBe(100);
  });

  it.each([
    {
      name: "a nested list over its own bound",
      json: { check_restorable: [{ target: { volumes: [{}, {}, {}, {}, {}, {}] } }] },
      message: "check_restorable[0].target.volumes: must have at most 4 entries",
    },
    {
      name: "a wrong element within the bound still names that element",
      json: { check_restorable: [{}, 5, ...Array.from({ length: 200 }, () => ({}))] },
      message: "check_restorable[1]: must be an object, not a number",
    },
  ])("$name", ({ json, message }) => {
    expect(shapeError(() => decodeJson(CheckRestorableRequestSchema, json, {}, bounds)).message).toBe(message);
  });

  it("at the bound: decoded", () => {
    const json = { check_restorable: Array.from({ length: 100 }, () => ({})) };
    expect(decodeJson(CheckRestorableRequestSchema, json, {}, bounds).checkRestorable).toHaveLength(100);
  });
});

describe("REST: a 1 MiB body of ~350,000 entries", () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer();
  });
  afterAll(async () => {
    await ts?.close();
  });

  it("with a valid token: 400 naming check_restorable", async () => {
    const head = '{"check_restorable":[';
    const count = Math.floor((1024 * 1024 - head.length - 2) / 3);
    const body = `${head}${"{},".repeat(count - 1)}{}]}`;
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1024 * 1024);
    const res = await fetch(
      `${ts.httpUrl}/v1/${demoCases.project_id}/providers/${demoCases.provider_id}/resources/action`,
      {
        method: "POST",
        headers: { "content-type": "application/json", "x-auth-token": await ts.token() },
        body,
      },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error_code: "CSBS.9001",
      error_msg: "check_restorable: must have at most 100 entries",
    });
  });
});
