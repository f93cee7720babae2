import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CheckProtectableRequestSchema,
  CheckProtectableResponseSchema,
  CheckRestorableRequestSchema,
  CheckRestorableResponseSchema,
} from "../gen/csbs/v1/resource_service_pb.js";
import { demoCases, type ProtectCase, type RestoreCase } from "./support/demo-cases.js";
import { restoreMessage } from "./support/demo-requests.js";
import { callUnary, createGrpcClient } from "./support/grpc-client.js";
import { postAction } from "./support/rest-client.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/**
 * One shared table of rule cases (data/demo-cases.json) through REST and through gRPC,
 * asserting the same verdict on both, plus the exact response shape of the REST path.
 */

const ENTRY_KEYS = ["error_code", "error_msg", "resource_id", "resource_type", "result"];
const RESTORE_PATH = "/csbs.v1.ResourceService/CheckRestorable";
const PROTECT_PATH = "/csbs.v1.ResourceService/CheckProtectable";

let ts: TestServer;
let client: grpc.Client;
let token: string;

beforeAll(async () => {
  ts = await startTestServer();
  client = createGrpcClient(ts.grpcAddress);
  token = await ts.token();
});
afterAll(async () => {
  client?.close();
  await ts?.close();
});

interface Entry {
  result: boolean;
  resource_type: string;
  error_code: string;
  error_msg: string;
  resource_id: string;
}

async function restRestore(requests: ReadonlyArray<RestoreCase["request"]>): Promise<Entry[]> {
  const res = await postAction(ts.httpUrl, token, { check_restorable: requests });
  expect(res.status, res.text).toBe(200);
  expect(Object.keys(res.json as object)).toEqual(["restorable"]);
  return (res.json as { restorable: Entry[] }).restorable;
}

async function restProtect(requests: ReadonlyArray<ProtectCase["request"]>): Promise<Entry[]> {
  const res = await postAction(ts.httpUrl, token, { check_protectable: requests });
  expect(res.status, res.text).toBe(200);
  expect(Object.keys(res.json as object)).toEqual(["protectable"]);
  return (res.json as { protectable: Entry[] }).protectable;
}

async function grpcRestore(requests: ReadonlyArray<RestoreCase["request"]>): Promise<Entry[]> {
  const res = await callUnary(
    client,
    RESTORE_PATH,
    CheckRestorableRequestSchema,
    CheckRestorableResponseSchema,
    restoreMessage(requests),
    { token },
  );
  return res.restorable.map(toEntry);
}

async function grpcProtect(requests: ReadonlyArray<ProtectCase["request"]>): Promise<Entry[]> {
  const res = await callUnary(
    client,
    PROTECT_PATH,
    CheckProtectableRequestSchema,
    CheckProtectableResponseSchema,
    {
      projectId: demoCases.project_id,
      providerId: demoCases.provider_id,
      checkProtectable: requests.map((r) => ({ resourceId: r.resource_id, resourceType: r.resource_type })),
    },
    { token },
  );
  return res.protectable.map(toEntry);
}

function toEntry(r: {
  result: boolean;
  resourceType: string;
  errorCode: string;
  errorMsg: string;
  resourceId: string;
}) {
  return {
    result: r.result,
    resource_type: r.resourceType,
    error_code: r.errorCode,
    error_msg: r.errorMsg,
    resource_id: r.resourceId,
  };
}

function expectedRestore(c: RestoreCase): Entry {
  return { ...c.expected, resource_type: c.request.target.resource_type, resource_id: c.request.target.resource_id };
}
function expectedProtect(c: ProtectCase): Entry {
  return { ...c.expected, resource_type: c.request.resource_type, resource_id: c.request.resource_id };
}

describe("the shared table: every restore case gives the same verdict through REST and gRPC", () => {
  it("the table covers the passing cases and every one of the 18 rules", () => {
    const rules = new Set(demoCases.restore.map((c) => c.rule));
    expect([...rules].filter((r) => r !== null).sort((a, b) => a! - b!)).toEqual(
      Array.from({ length: 18 }, (_, i) => i + 1),
    );
    expect(rules.has(null)).toBe(true);
  });

  it.each(demoCases.restore)("$name", async (c) => {
    const [rest, grpcEntry] = await Promise.all([restRestore([c.request]), grpcRestore([c.request])]);
    expect(rest).toEqual([expectedRestore(c)]);
    expect(grpcEntry).toEqual(rest);
    expect(Object.keys(rest[0]!).sort()).toEqual(ENTRY_KEYS);
  });
});

describe("the shared table: every protect case gives the same verdict through REST and gRPC", () => {
  it("the table covers the passing cases and every one of the 8 rules", () => {
    const rules = new Set(demoCases.protect.map((c) => c.rule));
    expect([...rules].filter((r) => r !== null).sort((a, b) => a! - b!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rules.has(null)).toBe(true);
  });

  it.each(demoCases.protect)("$name", async (c) => {
    const [rest, grpcEntry] = await Promise.all([restProtect([c.request]), grpcProtect([c.request])]);
    expect(rest).toEqual([expectedProtect(c)]);
    expect(grpcEntry).toEqual(rest);
    expect(Object.keys(rest[0]!).sort()).toEqual(ENTRY_KEYS);
  });
});

describe("the seed document's sample", () => {
  // Byte for byte the seed's request sample (its spacing, its key order).
  const SAMPLE = `{
  "check_restorable" : [ {
    "checkpoint_item_id" : "8986ce68-3da7-4d29-9cc2-1921e9504975",
    "target" : {
      "resource_type" : "OS::Nova::Server",
      "resource_id" : "5aa119a8-d25b-45a7-8d1b-88e127885635",
      "volumes" : [ {
        "backup_id" : "7ea119a8-d25b-43a7-8d1b-88e12788513a",
        "volume_id" : "45baf976-c20a-4894-a7c3-c94b7376bf55"
      } ]
    }
  } ]
}`;

  it("gives the sample's response shape: one key `restorable`, entries with exactly the five keys", async () => {
    const res = await postAction(ts.httpUrl, token, SAMPLE);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    const body = res.json as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["restorable"]);
    const entries = body.restorable as Record<string, unknown>[];
    expect(entries).toHaveLength(1);
    expect(Object.keys(entries[0]!).sort()).toEqual(ENTRY_KEYS);
    expect(entries[0]).toEqual({
      // The entry echoes the request's target (the seed's response shows another server id).
      resource_id: "5aa119a8-d25b-45a7-8d1b-88e127885635",
      resource_type: "OS::Nova::Server",
      result: true,
      error_msg: "",
      error_code: "",
    });
    // Every field is present even at its zero value.
    expect(res.text).toContain('"error_code":""');
    expect(res.text).toContain('"error_msg":""');
  });

  it('the raw text of a failing entry contains "result":false', async () => {
    const failing = demoCases.restore.find((c) => c.rule === 1)!;
    const res = await postAction(ts.httpUrl, token, { check_restorable: [failing.request] });
    expect(res.status).toBe(200);
    expect(res.text).toContain('"result":false');
    expect(res.text).toContain(`"error_code":"${failing.expected.error_code}"`);
  });

  it("application/json; charset=utf-8 is accepted", async () => {
    const res = await postAction(ts.httpUrl, token, SAMPLE, {
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    expect(res.status).toBe(200);
  });
});

describe("batches: response order equals request order", () => {
  it("a restore batch mixing every case (shuffled, repeated) through REST and gRPC", async () => {
    // A fixed permutation: every case, then every case again in reverse, then every third.
    const all = demoCases.restore;
    const batch = [...all, ...[...all].reverse(), ...all.filter((_, i) => i % 3 === 0)].slice(0, 100);
    const [rest, grpcEntries] = await Promise.all([
      restRestore(batch.map((c) => c.request)),
      grpcRestore(batch.map((c) => c.request)),
    ]);
    expect(rest).toEqual(batch.map(expectedRestore));
    expect(grpcEntries).toEqual(rest);
  });

  it("a protect batch mixing every case through REST and gRPC", async () => {
    const all = demoCases.protect;
    const batch = [...[...all].reverse(), ...all, ...all.filter((c) => c.rule !== null)];
    const [rest, grpcEntries] = await Promise.all([
      restProtect(batch.map((c) => c.request)),
      grpcProtect(batch.map((c) => c.request)),
    ]);
    expect(rest).toEqual(batch.map(expectedProtect));
    expect(grpcEntries).toEqual(rest);
  });

  it("the same entry twice in one batch gets two identical answers", async () => {
    const c = demoCases.restore.find((x) => x.rule === 18)!;
    expect(await restRestore([c.request, c.request])).toEqual([expectedRestore(c), expectedRestore(c)]);
  });
});

describe("the top-level key picks the action", () => {
  const restore = demoCases.restore[0]!.request;
  const protect = demoCases.protect[0]!.request;

  it.each([
    { name: "both keys", body: { check_restorable: [restore], check_protectable: [protect] } },
    { name: "neither key (empty object)", body: {} },
  ])("$name → 400 CSBS.9001", async ({ body }) => {
    const res = await postAction(ts.httpUrl, token, body);
    expect(res.status).toBe(400);
    expect((res.json as { error_code: string }).error_code).toBe("CSBS.9001");
    expect((res.json as { error_msg: string }).error_msg).toContain("check_restorable or check_protectable");
  });

  it("another top-level key → 400 naming the key", async () => {
    const res = await postAction(ts.httpUrl, token, { check_restorable: [restore], restorable: [] });
    expect(res.status).toBe(400);
    expect((res.json as { error_msg: string }).error_msg).toContain("restorable");
  });

  it("check_protectable entries answer under `protectable`", async () => {
    const res = await postAction(ts.httpUrl, token, { check_protectable: [protect] });
    expect(res.status).toBe(200);
    expect(Object.keys(res.json as object)).toEqual(["protectable"]);
  });
});
