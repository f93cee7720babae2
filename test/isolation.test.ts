/**
 * Project isolation: objects of project B (demoCases.foreign) checked with a token of
 * project A give exactly the answer an object that does not exist gives (same code, same
 * message modulo the id), over REST, gRPC and Connect; a token of one project on the
 * other project's path is 403 whatever the body names.
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CheckProtectableRequestSchema,
  CheckProtectableResponseSchema,
  CheckRestorableRequestSchema,
  CheckRestorableResponseSchema,
  ResourceService,
} from "../gen/csbs/v1/resource_service_pb.js";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { demoCases } from "./support/demo-cases.js";
import { type ProtectEntry, protectMessage, type RestoreEntry, restoreMessage } from "./support/demo-requests.js";
import { callUnary, createGrpcClient, errorInfoOf } from "./support/grpc-client.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const A = demoCases.project_id;
const B = demoCases.other_project_id;
const PROVIDER = demoCases.provider_id;
const foreign = demoCases.foreign;
/** A's restorable seed sample: its item, server and mapping pass every rule for A. */
const sample = demoCases.restore.find((c) => c.expected.result && c.rule === null)!.request;

interface Verdict {
  result: boolean;
  error_code: string;
  error_msg: string;
}

let ts: TestServer;
let grpcClient: grpc.Client;
let tokenA: string;
let tokenB: string;

beforeAll(async () => {
  ts = await startTestServer();
  grpcClient = createGrpcClient(ts.grpcAddress);
  [tokenA, tokenB] = await Promise.all([ts.token(A), ts.token(B, ["csbs_admin"])]);
});
afterAll(async () => {
  grpcClient?.close();
  await ts?.close();
});

// ---------------------------------------------------------------------------------------
// Per-entry verdicts over each protocol

type Protocol = "rest" | "grpc" | "connect";
const PROTOCOLS: Protocol[] = ["rest", "grpc", "connect"];

type Resp = { result: boolean; errorCode: string; errorMsg: string };
const verdictOf = (r: Resp): Verdict => ({ result: r.result, error_code: r.errorCode, error_msg: r.errorMsg });

async function rest(projectId: string, token: string, body: unknown): Promise<Verdict[]> {
  const res = await fetch(`${ts.httpUrl}/v1/${projectId}/providers/${PROVIDER}/resources/action`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-auth-token": token },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { restorable?: Verdict[]; protectable?: Verdict[] };
  expect(res.status, JSON.stringify(json)).toBe(200);
  return (json.restorable ?? json.protectable)!.map(({ result, error_code, error_msg }) => ({
    result,
    error_code,
    error_msg,
  }));
}

function connectClient() {
  return createClient(ResourceService, createConnectTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" }));
}

async function checkRestorable(protocol: Protocol, token: string, entries: RestoreEntry[]): Promise<Verdict[]> {
  switch (protocol) {
    case "rest":
      return rest(A, token, { check_restorable: entries });
    case "grpc": {
      const res = await callUnary(
        grpcClient,
        "/csbs.v1.ResourceService/CheckRestorable",
        CheckRestorableRequestSchema,
        CheckRestorableResponseSchema,
        restoreMessage(entries),
        { token },
      );
      return res.restorable.map(verdictOf);
    }
    case "connect": {
      const res = await connectClient().checkRestorable(restoreMessage(entries), {
        headers: { "x-auth-token": token },
      });
      return res.restorable.map(verdictOf);
    }
  }
}

async function checkProtectable(protocol: Protocol, token: string, entries: ProtectEntry[]): Promise<Verdict[]> {
  switch (protocol) {
    case "rest":
      return rest(A, token, { check_protectable: entries });
    case "grpc": {
      const res = await callUnary(
        grpcClient,
        "/csbs.v1.ResourceService/CheckProtectable",
        CheckProtectableRequestSchema,
        CheckProtectableResponseSchema,
        protectMessage(entries),
        { token },
      );
      return res.protectable.map(verdictOf);
    }
    case "connect": {
      const res = await connectClient().checkProtectable(protectMessage(entries), {
        headers: { "x-auth-token": token },
      });
      return res.protectable.map(verdictOf);
    }
  }
}

/** The verdict for `unknown` with each random id put back to the foreign id it stands for. */
function withIds(v: Verdict, substitutions: ReadonlyArray<[random: string, foreign: string]>): Verdict {
  let msg = v.error_msg;
  for (const [random, original] of substitutions) msg = msg.replaceAll(random, original);
  return { ...v, error_msg: msg };
}

// ---------------------------------------------------------------------------------------

interface IsolationCase {
  name: string;
  code: string;
  /** An entry naming project B's objects, as project A sends it. */
  foreign: RestoreEntry;
  /** The ids of B in `foreign` that the "missing" twin replaces with fresh UUIDs. */
  foreignIds: string[];
}

function withTarget(entry: RestoreEntry, patch: Partial<RestoreEntry["target"]>): RestoreEntry {
  return { ...entry, target: { ...entry.target, ...patch } };
}

const RESTORE_CASES: IsolationCase[] = [
  {
    name: "B's checkpoint item (with A's server)",
    code: "CSBS.3001",
    foreign: { ...sample, checkpoint_item_id: foreign.checkpoint_item_id },
    foreignIds: [foreign.checkpoint_item_id],
  },
  {
    name: "B's item, B's server and B's disks together",
    code: "CSBS.3001",
    foreign: {
      checkpoint_item_id: foreign.checkpoint_item_id,
      target: { resource_id: foreign.server_id, resource_type: "OS::Nova::Server", volumes: foreign.mapping },
    },
    foreignIds: [
      foreign.checkpoint_item_id,
      foreign.server_id,
      ...foreign.mapping.flatMap((m) => [m.backup_id, m.volume_id]),
    ],
  },
  {
    name: "B's server as the target of A's item",
    code: "CSBS.6000",
    foreign: withTarget(sample, { resource_id: foreign.server_id, resource_type: "OS::Nova::Server" }),
    foreignIds: [foreign.server_id],
  },
  {
    name: "B's volume backups mapped from A's item",
    code: "CSBS.6017",
    foreign: withTarget(sample, {
      volumes: sample.target.volumes.map((v, i) => ({
        ...v,
        backup_id: foreign.mapping[i % foreign.mapping.length]!.backup_id,
      })),
    }),
    foreignIds: foreign.mapping.map((m) => m.backup_id),
  },
  {
    name: "B's disks as the target volumes on A's server",
    code: "CSBS.6014",
    foreign: withTarget(sample, {
      volumes: sample.target.volumes.map((v, i) => ({
        ...v,
        volume_id: foreign.mapping[i % foreign.mapping.length]!.volume_id,
      })),
    }),
    foreignIds: foreign.mapping.map((m) => m.volume_id),
  },
];

function missingTwin(c: IsolationCase): { entry: RestoreEntry; substitutions: [string, string][] } {
  const substitutions = c.foreignIds.map((id): [string, string] => [randomUUID(), id]);
  let json = JSON.stringify(c.foreign);
  for (const [random, original] of substitutions) json = json.replaceAll(original, random);
  return { entry: JSON.parse(json) as RestoreEntry, substitutions };
}

describe("project B's objects look missing to project A", () => {
  it("control: project B's token on B's path sees its objects (they do exist)", async () => {
    const entry = {
      checkpoint_item_id: foreign.checkpoint_item_id,
      target: { resource_id: foreign.server_id, resource_type: "OS::Nova::Server", volumes: foreign.mapping },
    };
    expect(await rest(B, tokenB, { check_restorable: [entry] })).toEqual([
      { result: true, error_code: "", error_msg: "" },
    ]);
    expect(
      await rest(B, tokenB, {
        check_protectable: [{ resource_id: foreign.server_id, resource_type: "OS::Nova::Server" }],
      }),
    ).toEqual([{ result: true, error_code: "", error_msg: "" }]);
  });

  describe.each(PROTOCOLS)("over %s", (protocol) => {
    it.each(RESTORE_CASES)("$name → $code, as for unknown ids", async (c) => {
      const twin = missingTwin(c);
      // Both in one request: the foreign entry and its never-existing twin.
      const [got, missing] = await checkRestorable(protocol, tokenA, [c.foreign, twin.entry]);
      expect(missing!.error_code).toBe(c.code);
      expect(got).toEqual(withIds(missing!, twin.substitutions));
    });

    it("B's server in check_protectable → CSBS.6000, as for an unknown id", async () => {
      const [got, missing] = await checkProtectable(protocol, tokenA, [
        { resource_id: foreign.server_id, resource_type: "OS::Nova::Server" },
        { resource_id: randomUUID(), resource_type: "OS::Nova::Server" },
      ]);
      expect(missing).toEqual({ result: false, error_code: "CSBS.6000", error_msg: "server do not exist" });
      expect(got).toEqual(missing);
    });
  });
});

describe("a token of one project on the other project's path is 403", () => {
  const entryB = {
    checkpoint_item_id: foreign.checkpoint_item_id,
    target: { resource_id: foreign.server_id, resource_type: "OS::Nova::Server", volumes: foreign.mapping },
  };
  it.each([
    { name: "B's admin token on A's path (naming B's objects)", path: A, who: "B", entry: entryB },
    { name: "B's admin token on A's path (naming A's objects)", path: A, who: "B", entry: sample },
    { name: "A's token on B's path (naming B's objects)", path: B, who: "A", entry: entryB },
    {
      name: "A's token on B's path (naming unknown objects)",
      path: B,
      who: "A",
      entry: missingTwin(RESTORE_CASES[1]!).entry,
    },
  ])("$name", async (c) => {
    const token = c.who === "A" ? tokenA : tokenB;
    const res = await fetch(`${ts.httpUrl}/v1/${c.path}/providers/${PROVIDER}/resources/action`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-token": token },
      body: JSON.stringify({ check_restorable: [c.entry] }),
    });
    const body = (await res.json()) as { error_code: string; error_msg: string };
    expect([res.status, body.error_code]).toEqual([403, "APIGW.0302"]);
    // The message names the path's project only, never the objects.
    expect(body.error_msg).not.toContain(c.entry.checkpoint_item_id);

    const g = await callUnary(
      grpcClient,
      "/csbs.v1.ResourceService/CheckRestorable",
      CheckRestorableRequestSchema,
      CheckRestorableResponseSchema,
      restoreMessage([c.entry], { projectId: c.path }),
      { token },
    ).catch((e: grpc.ServiceError) => e);
    expect((g as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
    expect(errorInfoOf(g)?.reason).toBe("APIGW.0302");
    expect((g as grpc.ServiceError).details).toBe(body.error_msg);

    const cn = await connectClient()
      .checkRestorable(restoreMessage([c.entry], { projectId: c.path }), { headers: { "x-auth-token": token } })
      .catch((e: unknown) => ConnectError.from(e));
    expect((cn as ConnectError).code).toBe(Code.PermissionDenied);
    expect((cn as ConnectError).findDetails(ErrorInfoSchema)[0]?.reason).toBe("APIGW.0302");
  });
});
