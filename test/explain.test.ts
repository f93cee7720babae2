import { readFileSync } from "node:fs";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CheckProtectableRequestSchema,
  CheckProtectableResponseSchema,
  type CheckResp,
  CheckRestorableRequestSchema,
  CheckRestorableResponseSchema,
  ResourceService,
} from "../gen/csbs/v1/resource_service_pb.js";
import {
  demoCases,
  type ExplainExpected,
  type ExplainProtectCase,
  type ExplainRestoreCase,
  type ProtectCase,
  type RestoreCase,
} from "./support/demo-cases.js";
import { protectMessage, restoreMessage } from "./support/demo-requests.js";
import { callUnary, createGrpcClient } from "./support/grpc-client.js";
import { actionPath, postAction } from "./support/rest-client.js";
import { DEMO_INVENTORY, startTestServer, type TestServer } from "./support/test-server.js";

/**
 * Explain (docs/contract.md §8) through real servers: one shared table of cases
 * (data/demo-cases.json `explain`, expected answers written out by hand in
 * scripts/build-demo-inventory.ts) run over REST (`?explain=true`), gRPC (a grpc-js client
 * on the gRPC port) and the Connect protocol (HTTP/1.1 port); the plain answer unchanged;
 * the `explain` parameter's errors and their place in the check order; project scope.
 */

let ts: TestServer;
let token: string;
let grpcClient: grpc.Client;

beforeAll(async () => {
  ts = await startTestServer();
  token = await ts.token();
  grpcClient = createGrpcClient(ts.grpcAddress);
});
afterAll(async () => {
  grpcClient?.close();
  await ts?.close();
});

type Entry = ExplainExpected & { resource_id: string; resource_type: string };
type RestoreRequest = RestoreCase["request"];
type ProtectRequest = ProtectCase["request"];

/** One way of calling the service: the entries' answers, snake_case as over REST. */
interface Protocol {
  name: string;
  restore(entries: RestoreRequest[], explain: boolean): Promise<Entry[]>;
  protect(entries: ProtectRequest[], explain: boolean): Promise<Entry[]>;
}

function fromMessage(r: CheckResp): Entry {
  return {
    result: r.result,
    resource_type: r.resourceType,
    error_code: r.errorCode,
    error_msg: r.errorMsg,
    resource_id: r.resourceId,
    failures: r.failures.map((f) => ({ rule: f.rule, error_code: f.errorCode, error_msg: f.errorMsg })),
    suggested_volumes: r.suggestedVolumes.map((m) => ({ backup_id: m.backupId, volume_id: m.volumeId })),
  };
}

async function rest(body: object, explain: boolean): Promise<Entry[]> {
  const res = await postAction(ts.httpUrl, token, body, { path: `${actionPath()}${explain ? "?explain=true" : ""}` });
  expect(res.status, res.text).toBe(200);
  const [entries] = Object.values(res.json as Record<string, Entry[]>);
  return entries!;
}

const PROTOCOLS: Protocol[] = [
  {
    name: "REST",
    restore: (entries, explain) => rest({ check_restorable: entries }, explain),
    protect: (entries, explain) => rest({ check_protectable: entries }, explain),
  },
  {
    name: "gRPC (grpc-js client)",
    async restore(entries, explain) {
      const res = await callUnary(
        grpcClient,
        "/csbs.v1.ResourceService/CheckRestorable",
        CheckRestorableRequestSchema,
        CheckRestorableResponseSchema,
        restoreMessage(entries, { explain }),
        { token },
      );
      return res.restorable.map(fromMessage);
    },
    async protect(entries, explain) {
      const res = await callUnary(
        grpcClient,
        "/csbs.v1.ResourceService/CheckProtectable",
        CheckProtectableRequestSchema,
        CheckProtectableResponseSchema,
        protectMessage(entries, { explain }),
        { token },
      );
      return res.protectable.map(fromMessage);
    },
  },
  {
    name: "Connect (HTTP/1.1 port)",
    async restore(entries, explain) {
      const res = await connectClient().checkRestorable(restoreMessage(entries, { explain }), {
        headers: { "x-auth-token": token },
      });
      return res.restorable.map(fromMessage);
    },
    async protect(entries, explain) {
      const res = await connectClient().checkProtectable(protectMessage(entries, { explain }), {
        headers: { "x-auth-token": token },
      });
      return res.protectable.map(fromMessage);
    },
  },
];

function connectClient() {
  return createClient(ResourceService, createConnectTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" }));
}

const restoreAnswer = (c: ExplainRestoreCase): Entry => ({
  ...c.expected,
  resource_id: c.request.target.resource_id,
  resource_type: c.request.target.resource_type,
});
const protectAnswer = (c: ExplainProtectCase): Entry => ({
  ...c.expected,
  resource_id: c.request.resource_id,
  resource_type: c.request.resource_type,
});

describe.each(PROTOCOLS)("explain over $name", (protocol) => {
  it.each(demoCases.explain.restore)("check_restorable: $name", async (c) => {
    expect(await protocol.restore([c.request], true)).toEqual([restoreAnswer(c)]);
  });

  it.each(demoCases.explain.protect)("check_protectable: $name", async (c) => {
    expect(await protocol.protect([c.request], true)).toEqual([protectAnswer(c)]);
  });

  it("every case in one request, in request order", async () => {
    expect(
      await protocol.restore(
        demoCases.explain.restore.map((c) => c.request),
        true,
      ),
    ).toEqual(demoCases.explain.restore.map(restoreAnswer));
    expect(
      await protocol.protect(
        demoCases.explain.protect.map((c) => c.request),
        true,
      ),
    ).toEqual(demoCases.explain.protect.map(protectAnswer));
  });

  it("on every rule case of the plain table: the same verdict, failures[0] is it, empty exactly on a pass", async () => {
    const explained = await protocol.restore(
      demoCases.restore.map((c) => c.request),
      true,
    );
    demoCases.restore.forEach((c, i) => {
      const e = explained[i]!;
      expect({ result: e.result, error_code: e.error_code, error_msg: e.error_msg }, c.name).toEqual(c.expected);
      expect(e.failures.length === 0, c.name).toBe(c.expected.result);
      if (!c.expected.result) {
        expect(e.failures[0], c.name).toEqual({
          rule: c.rule,
          error_code: c.expected.error_code,
          error_msg: c.expected.error_msg,
        });
      }
    });
    const protect = await protocol.protect(
      demoCases.protect.map((c) => c.request),
      true,
    );
    demoCases.protect.forEach((c, i) => {
      expect(protect[i]!.failures[0] ?? null, c.name).toEqual(
        c.expected.result ? null : { rule: c.rule, error_code: c.expected.error_code, error_msg: c.expected.error_msg },
      );
      expect(protect[i]!.suggested_volumes).toEqual([]);
    });
  });

  it("without explain: the plain verdicts, no failures and no suggestion", async () => {
    const entries = await protocol.restore(
      demoCases.explain.restore.map((c) => c.request),
      false,
    );
    expect(entries.map((e) => [e.result, e.error_code, e.error_msg])).toEqual(
      demoCases.explain.restore.map((c) => [c.expected.result, c.expected.error_code, c.expected.error_msg]),
    );
    // REST has no such keys at all (see below); the RPCs' repeated fields stay empty.
    for (const e of entries) {
      expect(e.failures ?? []).toEqual([]);
      expect(e.suggested_volumes ?? []).toEqual([]);
    }
  });
});

describe("REST: the explain query parameter", () => {
  const body = { check_restorable: demoCases.explain.restore.map((c) => c.request) };
  const path = (query: string) => `${actionPath()}${query}`;

  it("absent and explain=false answer the section-1 body byte for byte, five keys per entry", async () => {
    const plain = await postAction(ts.httpUrl, token, body);
    const no = await postAction(ts.httpUrl, token, body, { path: path("?explain=false") });
    expect(plain.status).toBe(200);
    expect(no.status).toBe(200);
    expect(no.text).toBe(plain.text);
    for (const entry of (plain.json as { restorable: object[] }).restorable) {
      expect(Object.keys(entry)).toEqual(["result", "resource_type", "error_code", "error_msg", "resource_id"]);
    }
    // The same bytes as the entry-by-entry answers of the plain table.
    const one = await postAction(ts.httpUrl, token, { check_restorable: [demoCases.restore[0]!.request] });
    expect(one.text).toBe(
      `{"restorable":[{"result":true,"resource_type":"OS::Nova::Server","error_code":"","error_msg":"","resource_id":"${demoCases.restore[0]!.request.target.resource_id}"}]}`,
    );
  });

  it("explain=true: the five keys, then failures and suggested_volumes, always present", async () => {
    for (const action of [body, { check_protectable: demoCases.explain.protect.map((c) => c.request) }]) {
      const res = await postAction(ts.httpUrl, token, action, { path: path("?explain=true") });
      expect(res.status).toBe(200);
      const [entries] = Object.values(res.json as Record<string, Array<Record<string, unknown>>>);
      for (const entry of entries!) {
        expect(Object.keys(entry)).toEqual([
          "result",
          "resource_type",
          "error_code",
          "error_msg",
          "resource_id",
          "failures",
          "suggested_volumes",
        ]);
        for (const f of entry.failures as object[]) expect(Object.keys(f)).toEqual(["rule", "error_code", "error_msg"]);
        for (const m of entry.suggested_volumes as object[]) expect(Object.keys(m)).toEqual(["backup_id", "volume_id"]);
      }
    }
  });

  it.each([
    ["?explain=TRUE", 'explain: must be "true" or "false"'],
    ["?explain=1", 'explain: must be "true" or "false"'],
    ["?explain=", 'explain: must be "true" or "false"'],
    ["?explain", 'explain: must be "true" or "false"'],
    ["?explain=yes&x=1", 'explain: must be "true" or "false"'],
    ["?explain=true&explain=true", "explain: must be given at most once"],
    ["?explain=true&explain=false", "explain: must be given at most once"],
  ])("%s is 400 CSBS.9001 naming explain", async (query, message) => {
    const res = await postAction(ts.httpUrl, token, body, { path: path(query) });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error_code: "CSBS.9001", error_msg: message });
  });

  it("a bad explain value comes after the token (401) and the project scope (403), before the body (400)", async () => {
    const noToken = await postAction(ts.httpUrl, undefined, body, { path: path("?explain=bad") });
    expect([noToken.status, (noToken.json as { error_code: string }).error_code]).toEqual([401, "APIGW.0301"]);
    const other = await ts.token(demoCases.other_project_id);
    const wrongProject = await postAction(ts.httpUrl, other, body, { path: path("?explain=bad") });
    expect([wrongProject.status, (wrongProject.json as { error_code: string }).error_code]).toEqual([
      403,
      "APIGW.0302",
    ]);
    const badBody = await postAction(ts.httpUrl, token, "{not json", { path: path("?explain=bad") });
    expect(badBody.status).toBe(400);
    expect((badBody.json as { error_msg: string }).error_msg).toContain("explain");
  });

  it("explain in the body is an unknown field, not the parameter", async () => {
    const res = await postAction(ts.httpUrl, token, { ...body, explain: true });
    expect(res.status).toBe(400);
    expect((res.json as { error_msg: string }).error_msg).toContain('"explain"');
  });
});

describe("explain respects project scope", () => {
  /** Every id of another project's objects in the demo inventory. */
  const foreignIds = (() => {
    const inv = JSON.parse(readFileSync(DEMO_INVENTORY, "utf8")) as {
      checkpoint_items: Array<{
        id: string;
        project_id: string;
        resource_id: string;
        volume_backups: Array<{ id: string; source_volume_id: string }>;
      }>;
      servers: Array<{ id: string; project_id: string }>;
      volumes: Array<{ id: string; project_id: string }>;
    };
    const other = demoCases.other_project_id;
    return [
      ...inv.checkpoint_items
        .filter((c) => c.project_id === other)
        .flatMap((c) => [c.id, c.resource_id, ...c.volume_backups.flatMap((b) => [b.id, b.source_volume_id])]),
      ...inv.servers.filter((s) => s.project_id === other).map((s) => s.id),
      ...inv.volumes.filter((v) => v.project_id === other).map((v) => v.id),
    ];
  })();

  it.each(PROTOCOLS)(
    "$name: no answer names an object of another project that the request did not name",
    async (protocol) => {
      expect(foreignIds.length).toBeGreaterThan(0);
      const requests = demoCases.explain.restore.map((c) => c.request);
      const answer = JSON.stringify(await protocol.restore(requests, true));
      const asked = JSON.stringify(requests);
      const leaked = foreignIds.filter((id) => answer.includes(id) && !asked.includes(id));
      expect(leaked).toEqual([]);
      const protect = demoCases.explain.protect.map((c) => c.request);
      const protectAnswerText = JSON.stringify(await protocol.protect(protect, true));
      expect(
        foreignIds.filter((id) => protectAnswerText.includes(id) && !JSON.stringify(protect).includes(id)),
      ).toEqual([]);
    },
  );
});

describe("the README's explain example", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("### Explain"), readme.indexOf("### gRPC"));

  it("answers exactly what the README shows, with and without explain", async () => {
    const curl = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    const query = /resources\/action(\?explain=true)'/.exec(curl)![1]!;
    const body = JSON.parse(/-d '([\s\S]*?)'/.exec(curl)![1]!) as object;
    const shown = JSON.parse(/```json\n([\s\S]*?)```/.exec(section)![1]!) as unknown;
    const res = await postAction(ts.httpUrl, token, body, { path: `${actionPath()}${query}` });
    expect(res.status).toBe(200);
    expect(res.json).toEqual(shown);
    // Key order too: the README shows the bytes of the answer, indented.
    expect(res.text).toBe(JSON.stringify(shown));
    const plain = /Without `\?explain=true` the same request answers only\n`([^`]+)`/.exec(section)![1]!;
    expect((await postAction(ts.httpUrl, token, body)).text).toBe(plain);
  });
});
