import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import Database from "better-sqlite3";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckRestorableRequestSchema, CheckRestorableResponseSchema } from "../gen/csbs/v1/resource_service_pb.js";
import { mintToken } from "../src/auth/mint-token.js";
import { demoCases } from "./support/demo-cases.js";
import { restoreMessage } from "./support/demo-requests.js";
import { callUnary, createGrpcClient, errorInfoOf } from "./support/grpc-client.js";
import { actionPath, type HttpResult, httpRequest, postAction } from "./support/rest-client.js";
import { REST_STATUSES } from "./support/rest-statuses.js";
import { startTestServer, TEST_SECRET, type TestServer } from "./support/test-server.js";

/**
 * Every row of docs/contract.md §2's error table through real HTTP: status, error_code, a
 * message naming the field, the flat body with exactly three keys, request_id equal to
 * the X-Request-Id header, JSON (never HTML, never a stack trace); and the check order of
 * docs/contract.md §2.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESTORE = demoCases.restore[0]!.request;
const PROTECT = demoCases.protect[0]!.request;

let ts: TestServer;
let token: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  ts = await startTestServer();
  token = await ts.token();
  const secret = new TextEncoder().encode(TEST_SECRET);
  const now = Math.floor(Date.now() / 1000);
  tokens.otherProject = await ts.token(demoCases.other_project_id);
  tokens.otherProjectAdmin = await ts.token(demoCases.other_project_id, ["csbs_admin"]);
  tokens.expired = await new SignJWT({ project_id: demoCases.project_id, roles: [] })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt(now - 7200)
    .setExpirationTime(now - 3600)
    .sign(secret);
  tokens.badSignature = await mintToken({ secret: `${TEST_SECRET}-but-another-one`, projectId: demoCases.project_id });
  tokens.noProject = await new SignJWT({ roles: [] })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("10m")
    .sign(secret);
  tokens.noExp = await new SignJWT({ project_id: demoCases.project_id })
    .setProtectedHeader({ alg: "HS256" })
    .sign(secret);
  tokens.algNone = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(
    JSON.stringify({ project_id: demoCases.project_id, exp: now + 600 }),
  ).toString("base64url")}.`;
});
afterAll(async () => {
  await ts?.close();
});

interface ErrorBody {
  error_code: string;
  error_msg: string;
  request_id: string;
}

/** The assertions every error response must pass, then its status, code and message parts. */
function expectError(res: HttpResult, status: number, code: string, ...msgParts: string[]): ErrorBody {
  expect(res.status, res.text).toBe(status);
  expect(Object.keys(REST_STATUSES).map(Number)).toContain(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json(;|$)/);
  const body = res.json as ErrorBody;
  expect(body, `not JSON: ${res.text}`).toBeTypeOf("object");
  expect(Object.keys(body).sort()).toEqual(["error_code", "error_msg", "request_id"]);
  expect(body.error_code).toBe(code);
  expect(body.error_code).toBe(REST_STATUSES[status as keyof typeof REST_STATUSES]);
  for (const part of msgParts) expect(body.error_msg).toContain(part);
  expect(body.request_id).toBe(res.headers["x-request-id"]);
  expect(body.request_id).not.toBe("");
  // Never an HTML page, never a stack trace.
  expect(res.text).not.toMatch(/<html|<!DOCTYPE|\n\s+at |\.ts:\d+|node_modules/i);
  return body;
}

function restore(over: (e: ReturnType<typeof structuredClone<typeof RESTORE>>) => void = () => {}) {
  const e = structuredClone(RESTORE);
  over(e);
  return e;
}

type Row = {
  name: string;
  body: unknown;
  status: number;
  code: string;
  msg: string[];
  headers?: Record<string, string>;
  path?: string;
  token?: string | null;
};

describe("400 CSBS.9001: the body, ids and provider (the message names the field path)", () => {
  const rows: Row[] = [
    {
      name: "malformed JSON",
      body: '{"check_restorable": [',
      status: 400,
      code: "CSBS.9001",
      msg: ["body: malformed JSON"],
    },
    { name: "an empty body", body: "", status: 400, code: "CSBS.9001", msg: ["body: malformed JSON"] },
    { name: "a JSON array body", body: "[]", status: 400, code: "CSBS.9001", msg: ["body: must be an object"] },
    { name: "a JSON string body", body: '"check_restorable"', status: 400, code: "CSBS.9001", msg: ["body:"] },
    {
      name: "wrong type: the list is a string",
      body: { check_restorable: "x" },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable: must be an array, not a string"],
    },
    {
      name: "wrong type: an entry is null",
      body: { check_restorable: [null] },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0]: must be an object, not null"],
    },
    {
      name: "wrong type: the target is an array",
      body: { check_restorable: [restore((e) => Object.assign(e, { target: [] }))] },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0].target: must be an object, not an array"],
    },
    {
      name: "wrong type (nested): a volume_id is a number",
      body: {
        check_restorable: [RESTORE, restore((e) => Object.assign(e.target.volumes[0]!, { volume_id: 5 }))],
      },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[1].target.volumes[0].volume_id: must be a string, not a number"],
    },
    {
      name: "wrong type: a protect resource_type is a boolean",
      body: { check_protectable: [{ ...PROTECT, resource_type: true }] },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_protectable[0].resource_type: must be a string, not a boolean"],
    },
    {
      name: "missing field: checkpoint_item_id",
      body: { check_restorable: [{ target: RESTORE.target }] },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0].checkpoint_item_id: is required"],
    },
    {
      name: "missing field: target",
      body: { check_restorable: [RESTORE, { checkpoint_item_id: RESTORE.checkpoint_item_id }] },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[1].target: is required"],
    },
    {
      name: "missing field (nested): target.resource_type",
      body: {
        check_restorable: [
          restore((e) => {
            delete (e.target as Partial<typeof e.target>).resource_type;
          }),
        ],
      },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0].target.resource_type: is required"],
    },
    {
      name: "missing field (nested): target.volumes",
      body: {
        check_restorable: [
          restore((e) => {
            delete (e.target as Partial<typeof e.target>).volumes;
          }),
        ],
      },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0].target.volumes: must not be empty"],
    },
    {
      name: "missing field (nested): volumes[0].backup_id",
      body: {
        check_restorable: [
          restore((e) => {
            e.target.volumes = [{ volume_id: RESTORE.target.volumes[0]!.volume_id } as never];
          }),
        ],
      },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0].target.volumes[0].backup_id: is required"],
    },
    {
      name: "missing field: protect resource_id",
      body: { check_protectable: [{ resource_type: PROTECT.resource_type }] },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_protectable[0].resource_id: is required"],
    },
    {
      name: "unknown field (top level), named",
      body: { check_restorable: [RESTORE], dry_run: true },
      status: 400,
      code: "CSBS.9001",
      msg: ["dry_run"],
    },
    {
      name: "unknown field: project_id in the body (it comes from the path)",
      body: { check_restorable: [RESTORE], project_id: demoCases.project_id },
      status: 400,
      code: "CSBS.9001",
      msg: ["project_id"],
    },
    {
      name: "unknown field (nested in target), named",
      body: { check_restorable: [restore((e) => Object.assign(e.target, { server_name: "x" }))] },
      status: 400,
      code: "CSBS.9001",
      msg: ['check_restorable[0].target.server_name: unknown field "server_name"'],
    },
    {
      name: "unknown field (nested in a mapping), named",
      body: { check_restorable: [restore((e) => Object.assign(e.target.volumes[0]!, { size: 40 }))] },
      status: 400,
      code: "CSBS.9001",
      msg: ['check_restorable[0].target.volumes[0].size: unknown field "size"'],
    },
    {
      name: "unknown field (in a protect entry), named",
      body: { check_protectable: [{ ...PROTECT, checkpoint_item_id: RESTORE.checkpoint_item_id }] },
      status: 400,
      code: "CSBS.9001",
      msg: ['check_protectable[0].checkpoint_item_id: unknown field "checkpoint_item_id"'],
    },
    {
      name: "a camelCase key is unknown (keys are snake_case)",
      body: { check_restorable: [restore((e) => Object.assign(e, { checkpointItemId: e.checkpoint_item_id }))] },
      status: 400,
      code: "CSBS.9001",
      msg: ["checkpointItemId"],
    },
    {
      name: "non-UUID id: the contract's example path",
      body: {
        check_restorable: [
          RESTORE,
          RESTORE,
          restore((e) => {
            e.target.volumes[0]!.volume_id = "vol-1";
          }),
        ],
      },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[2].target.volumes[0].volume_id: must be a UUID"],
    },
    {
      name: "non-UUID checkpoint_item_id",
      body: {
        check_restorable: [
          restore((e) => {
            e.checkpoint_item_id = "item-1";
          }),
        ],
      },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0].checkpoint_item_id: must be a UUID"],
    },
    {
      name: "non-UUID target.resource_id",
      body: {
        check_restorable: [
          restore((e) => {
            e.target.resource_id = "5aa119a8";
          }),
        ],
      },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0].target.resource_id: must be a UUID"],
    },
    {
      name: "non-UUID backup_id",
      body: {
        check_restorable: [
          restore((e) => {
            e.target.volumes[0]!.backup_id = "7ea119a8-d25b-43a7-8d1b-88e12788513";
          }),
        ],
      },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0].target.volumes[0].backup_id: must be a UUID"],
    },
    {
      name: "non-UUID protect resource_id",
      body: { check_protectable: [PROTECT, { ...PROTECT, resource_id: "server-1" }] },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_protectable[1].resource_id: must be a UUID"],
    },
    {
      name: "empty restore list",
      body: { check_restorable: [] },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable: must not be empty"],
    },
    {
      name: "empty protect list",
      body: { check_protectable: [] },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_protectable: must not be empty"],
    },
    {
      name: "empty target.volumes",
      body: {
        check_restorable: [
          restore((e) => {
            e.target.volumes = [];
          }),
        ],
      },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0].target.volumes: must not be empty"],
    },
    {
      name: "over-limit list: 101 entries (default MAX_CHECK_ITEMS 100)",
      body: { check_restorable: Array.from({ length: 101 }, () => RESTORE) },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable: must have at most 100 entries"],
    },
    {
      name: "over-limit protect list: 101 entries",
      body: { check_protectable: Array.from({ length: 101 }, () => PROTECT) },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_protectable: must have at most 100 entries"],
    },
    {
      name: "over-limit volumes: 65 mappings",
      body: {
        check_restorable: [
          restore((e) => {
            e.target.volumes = Array.from({ length: 65 }, (_, i) => ({
              backup_id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
              volume_id: `11111111-0000-4000-8000-${String(i).padStart(12, "0")}`,
            }));
          }),
        ],
      },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0].target.volumes: must have at most 64 entries"],
    },
    {
      name: "duplicate backup_id within a target",
      body: {
        check_restorable: [
          restore((e) => {
            e.target.volumes.push({ ...e.target.volumes[0]!, volume_id: "22222222-0000-4000-8000-000000000000" });
          }),
        ],
      },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0].target.volumes[1].backup_id", "duplicate"],
    },
    {
      name: "duplicate volume_id within a target",
      body: {
        check_restorable: [
          restore((e) => {
            e.target.volumes.push({ ...e.target.volumes[0]!, backup_id: "22222222-0000-4000-8000-000000000000" });
          }),
        ],
      },
      status: 400,
      code: "CSBS.9001",
      msg: ["check_restorable[0].target.volumes[1].volume_id", "duplicate"],
    },
    {
      name: "unknown provider (a UUID that is no provider)",
      path: actionPath(demoCases.project_id, "0f0f0f0f-0000-4000-8000-000000000000"),
      body: { check_restorable: [RESTORE] },
      status: 400,
      code: "CSBS.9001",
      msg: ["provider_id", "provider invalid"],
    },
    {
      name: "unknown provider for check_protectable",
      path: actionPath(demoCases.project_id, "0f0f0f0f-0000-4000-8000-000000000000"),
      body: { check_protectable: [PROTECT] },
      status: 400,
      code: "CSBS.9001",
      msg: ["provider invalid"],
    },
    {
      name: "a provider id that is not a UUID",
      path: actionPath(demoCases.project_id, "csbs"),
      body: { check_restorable: [RESTORE] },
      status: 400,
      code: "CSBS.9001",
      msg: ["provider_id: must be a UUID"],
    },
  ];

  it.each(rows)("$name → $status $code", async (row) => {
    const res = await postAction(ts.httpUrl, token, row.body as object, { ...(row.path ? { path: row.path } : {}) });
    expectError(res, row.status, row.code, ...row.msg);
  });

  // Keys an object inherits (an `in` lookup would take them for actions): 400, not 500.
  it.each(['{"toString":[]}', '{"constructor":[{}]}', '{"hasOwnProperty":[]}', '{"__proto__":[]}'])(
    "a top-level key inherited from Object.prototype, %s → 400 naming the key",
    async (body) => {
      const key = Object.keys(JSON.parse(body) as object)[0]!;
      const res = await postAction(ts.httpUrl, token, body);
      expectError(res, 400, "CSBS.9001", `unknown field "${key}"`);
    },
  );

  it("a request with two faults reports the first in document order", async () => {
    const body = {
      check_restorable: [
        RESTORE,
        restore((e) => {
          e.target.resource_id = "x";
          e.target.volumes[0]!.volume_id = "y";
        }),
        restore((e) => {
          e.checkpoint_item_id = "z";
        }),
      ],
    };
    const res = await postAction(ts.httpUrl, token, body);
    expectError(res, 400, "CSBS.9001", "check_restorable[1].target.resource_id: must be a UUID");
  });
});

describe("400 CSBS.9001: the project id in the path", () => {
  it.each([
    ["an underscore", "demo_project"],
    ["65 characters", "p".repeat(65)],
    ["a dot", "demo.project"],
    ["a percent-encoded space", "demo%20project"],
  ])("%s → 400 naming project_id", async (_name, projectId) => {
    const res = await postAction(ts.httpUrl, token, { check_restorable: [RESTORE] }, { path: actionPath(projectId) });
    expectError(res, 400, "CSBS.9001", "project_id");
  });

  it("a malformed percent-encoding in the path → 400 naming the path, not the body", async () => {
    const res = await postAction(
      ts.httpUrl,
      token,
      { check_restorable: [RESTORE] },
      { path: actionPath("demo%E0%A4%A") },
    );
    const body = expectError(res, 400, "CSBS.9001", "path: ");
    expect(body.error_msg).not.toMatch(/^body/);
  });
});

describe("413 and 415", () => {
  const big = JSON.stringify({ check_restorable: [RESTORE], pad: "x".repeat(1024 * 1024) });

  it("a body over 1 MiB → 413 CSBS.9001", async () => {
    expectError(await postAction(ts.httpUrl, token, big), 413, "CSBS.9001");
  });

  it("a body over 1 MiB sent chunked (no Content-Length) → 413 CSBS.9001", async () => {
    const res = await httpRequest(ts.httpUrl, actionPath(), {
      body: big,
      headers: {
        "content-type": "application/json",
        "x-auth-token": token,
        "transfer-encoding": "chunked",
      },
    });
    expectError(res, 413, "CSBS.9001");
  });

  it("a body of exactly 1 MiB is not too large", async () => {
    const base = JSON.stringify({ check_restorable: [RESTORE] });
    const exact = `${base}${" ".repeat(1024 * 1024 - Buffer.byteLength(base))}`;
    expect(Buffer.byteLength(exact)).toBe(1024 * 1024);
    expect((await postAction(ts.httpUrl, token, exact)).status).toBe(200);
  });

  it.each([
    ["text/plain", "text/plain"],
    ["application/xml", "application/xml"],
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded"],
    ["text/json", "text/json"],
    ["application/jsonp", "application/jsonp"],
  ])("Content-Type %s → 415 CSBS.9001", async (_name, type) => {
    const res = await postAction(
      ts.httpUrl,
      token,
      { check_restorable: [RESTORE] },
      { headers: { "content-type": type } },
    );
    expectError(res, 415, "CSBS.9001", "Content-Type");
  });

  it("a missing Content-Type → 415 CSBS.9001", async () => {
    const res = await httpRequest(ts.httpUrl, actionPath(), {
      body: JSON.stringify({ check_restorable: [RESTORE] }),
      headers: { "x-auth-token": token },
    });
    expectError(res, 415, "CSBS.9001");
  });

  it.each(["application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"])(
    "Content-Type %s is accepted",
    async (type) => {
      const res = await postAction(
        ts.httpUrl,
        token,
        { check_restorable: [RESTORE] },
        { headers: { "content-type": type } },
      );
      expect(res.status, res.text).toBe(200);
    },
  );
});

describe("404 APIGW.0101: no such route or method", () => {
  const MSG = "The API does not exist or has not been published";
  it.each([
    ["GET on the action path", "GET", actionPath()],
    ["PUT on the action path", "PUT", actionPath()],
    ["DELETE on the action path", "DELETE", actionPath()],
    ["PATCH on the action path", "PATCH", actionPath()],
    ["POST to an unknown path", "POST", "/v1/demo-project/providers"],
    ["POST to a sibling path", "POST", actionPath().replace(/action$/, "actions")],
    ["POST with a trailing slash", "POST", `${actionPath()}/`],
    ["POST to another version", "POST", actionPath().replace("/v1/", "/v2/")],
    ["POST with another case", "POST", actionPath().replace("/resources/", "/Resources/")],
    ["GET /", "GET", "/"],
    ["GET an unknown file", "GET", "/index.html"],
  ])("%s → 404", async (_name, method, path) => {
    const res = await httpRequest(ts.httpUrl, path, {
      method,
      headers: { "content-type": "application/json", "x-auth-token": token },
      ...(method === "GET" || method === "DELETE" ? {} : { body: { check_restorable: [RESTORE] } }),
    });
    expectError(res, 404, "APIGW.0101", MSG);
  });
});

describe("401 APIGW.0301 and 403 APIGW.0302", () => {
  const PHRASE = "Incorrect IAM authentication information";
  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["malformed", "not-a-jwt"],
    ["expired", "expired"],
    ["bad signature", "badSignature"],
    ["without a project_id claim", "noProject"],
    ["without exp", "noExp"],
    ["alg none", "algNone"],
  ])("a token %s → 401", async (_name, which) => {
    const t = which === undefined ? undefined : (tokens[which] ?? which);
    const res = await postAction(ts.httpUrl, t, { check_restorable: [RESTORE] });
    expectError(res, 401, "APIGW.0301", PHRASE);
  });

  it("a token in the Authorization header instead of X-Auth-Token → 401", async () => {
    const res = await postAction(
      ts.httpUrl,
      undefined,
      { check_restorable: [RESTORE] },
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expectError(res, 401, "APIGW.0301", PHRASE);
  });

  it("a valid token of another project → 403", async () => {
    const res = await postAction(ts.httpUrl, tokens.otherProject, { check_restorable: [RESTORE] });
    expectError(res, 403, "APIGW.0302", demoCases.project_id);
  });

  it("a csbs_admin of another project is still 403", async () => {
    const res = await postAction(ts.httpUrl, tokens.otherProjectAdmin, { check_protectable: [PROTECT] });
    expectError(res, 403, "APIGW.0302");
  });
});

describe("the check order of docs/contract.md §2: 404, 415, 413, 401, 403, then 400", () => {
  const big = JSON.stringify({ check_restorable: [RESTORE], pad: "x".repeat(1024 * 1024 + 10) });
  const rows: Array<{
    name: string;
    method?: string;
    path?: string;
    type?: string | null;
    token?: string | null;
    body: string;
    status: number;
    code: string;
  }> = [
    {
      name: "404 before 415: unknown route, text/plain",
      path: "/v1/x",
      type: "text/plain",
      body: "x",
      status: 404,
      code: "APIGW.0101",
    },
    {
      name: "404 before 401: wrong method, no token",
      method: "PUT",
      token: null,
      body: "{}",
      status: 404,
      code: "APIGW.0101",
    },
    { name: "415 before 413: oversize text/plain", type: "text/plain", body: big, status: 415, code: "CSBS.9001" },
    {
      name: "415 before 401: text/plain, no token",
      type: "text/plain",
      token: null,
      body: "{}",
      status: 415,
      code: "CSBS.9001",
    },
    {
      name: "415 before 401: no Content-Type, no token",
      type: null,
      token: null,
      body: "{}",
      status: 415,
      code: "CSBS.9001",
    },
    { name: "413 before 401: oversize JSON, no token", token: null, body: big, status: 413, code: "CSBS.9001" },
    {
      name: "401 before 403: bad token on another project's path",
      path: actionPath("other-project"),
      token: "bad",
      body: "{}",
      status: 401,
      code: "APIGW.0301",
    },
    {
      name: "401 before 400: malformed JSON, no token (not parsed)",
      token: null,
      body: "{oops",
      status: 401,
      code: "APIGW.0301",
    },
    {
      name: "401 before 400: bad project_id in the path, no token",
      path: actionPath("bad_project"),
      token: null,
      body: "{}",
      status: 401,
      code: "APIGW.0301",
    },
    {
      name: "401 before 400: unknown provider, expired token",
      path: actionPath(undefined, "0f0f0f0f-0000-4000-8000-000000000000"),
      token: "expired",
      body: "{}",
      status: 401,
      code: "APIGW.0301",
    },
    {
      name: "403 before 400: malformed JSON, another project's token",
      token: "otherProject",
      body: "{oops",
      status: 403,
      code: "APIGW.0302",
    },
    {
      name: "403 before 400: unknown provider, another project's token",
      path: actionPath(undefined, "0f0f0f0f-0000-4000-8000-000000000000"),
      token: "otherProject",
      body: JSON.stringify({ check_restorable: [RESTORE] }),
      status: 403,
      code: "APIGW.0302",
    },
    {
      name: "403 before 400: empty list, another project's token",
      token: "otherProject",
      body: '{"check_restorable":[]}',
      status: 403,
      code: "APIGW.0302",
    },
  ];

  it.each(rows)("$name → $status", async (row) => {
    const t = row.token === null ? undefined : row.token === undefined ? token : (tokens[row.token] ?? row.token);
    const res = await httpRequest(ts.httpUrl, row.path ?? actionPath(), {
      method: row.method ?? "POST",
      body: row.body,
      headers: {
        ...(row.type === null ? {} : { "content-type": row.type ?? "application/json" }),
        ...(t !== undefined ? { "x-auth-token": t } : {}),
      },
    });
    expectError(res, row.status, row.code);
  });
});

describe("X-Request-Id", () => {
  const bad = { check_restorable: [] };

  it("a valid X-Request-Id is echoed in the header and the error body", async () => {
    const res = await postAction(ts.httpUrl, token, bad, { headers: { "x-request-id": "req-0123_ABC:xyz.42" } });
    expect(expectError(res, 400, "CSBS.9001").request_id).toBe("req-0123_ABC:xyz.42");
  });

  it("a 128-character X-Request-Id is echoed", async () => {
    const id = "r".repeat(128);
    const res = await postAction(ts.httpUrl, token, bad, { headers: { "x-request-id": id } });
    expect(expectError(res, 400, "CSBS.9001").request_id).toBe(id);
  });

  it.each([
    ["129 characters", "r".repeat(129)],
    ["200 characters", "x".repeat(200)],
    ["a space", "req 1"],
    ["a tab (a control character)", "req\t1"],
    ["a non-ASCII byte", "req-\u00e9"],
  ])("an X-Request-Id with %s is replaced by a generated one", async (_name, id) => {
    const res = await postAction(ts.httpUrl, token, bad, { headers: { "x-request-id": id } });
    const body = expectError(res, 400, "CSBS.9001");
    expect(body.request_id).not.toBe(id);
    expect(body.request_id).toMatch(UUID);
  });

  it("without X-Request-Id, one is generated, different for each request", async () => {
    const [a, b] = await Promise.all([postAction(ts.httpUrl, token, bad), postAction(ts.httpUrl, token, bad)]);
    const ia = expectError(a, 400, "CSBS.9001").request_id;
    const ib = expectError(b, 400, "CSBS.9001").request_id;
    expect(ia).toMatch(UUID);
    expect(ia).not.toBe(ib);
  });

  it("a successful response carries X-Request-Id too", async () => {
    const res = await postAction(
      ts.httpUrl,
      token,
      { check_restorable: [RESTORE] },
      { headers: { "x-request-id": "ok-1" } },
    );
    expect(res.status).toBe(200);
    expect(res.headers["x-request-id"]).toBe("ok-1");
  });

  it.each([
    ["404", "GET", actionPath(), undefined],
    ["401", "POST", actionPath(), "{}"],
    ["415", "POST", actionPath(), "x"],
  ])("the %s error body carries the sent X-Request-Id", async (status, method, path, body) => {
    const res = await httpRequest(ts.httpUrl, path, {
      method,
      ...(body !== undefined ? { body } : {}),
      headers: {
        "x-request-id": `id-${status}`,
        ...(status === "415" ? { "content-type": "text/plain" } : { "content-type": "application/json" }),
      },
    });
    expect(expectError(res, Number(status), REST_STATUSES[Number(status) as 404]).request_id).toBe(`id-${status}`);
  });
});

describe("a small MAX_CHECK_ITEMS", () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ MAX_CHECK_ITEMS: "3" });
  });
  afterAll(async () => {
    await small?.close();
  });

  it("4 entries → 400 naming the configured limit; 3 pass", async () => {
    const t = await small.token();
    expectError(
      await postAction(small.httpUrl, t, { check_restorable: [RESTORE, RESTORE, RESTORE, RESTORE] }),
      400,
      "CSBS.9001",
      "check_restorable: must have at most 3 entries",
    );
    expectError(
      await postAction(small.httpUrl, t, { check_protectable: [PROTECT, PROTECT, PROTECT, PROTECT] }),
      400,
      "CSBS.9001",
      "check_protectable: must have at most 3 entries",
    );
    expect((await postAction(small.httpUrl, t, { check_restorable: [RESTORE, RESTORE, RESTORE] })).status).toBe(200);
  });
});

describe("500 CSBS.9999 and 503 CSBS.9998 (a dedicated server whose store is broken under it)", () => {
  let broken: TestServer;
  let t: string;
  let client: grpc.Client;
  const grpcRequest = () => restoreMessage([RESTORE]);
  const grpcCall = () =>
    callUnary(
      client,
      "/csbs.v1.ResourceService/CheckRestorable",
      CheckRestorableRequestSchema,
      CheckRestorableResponseSchema,
      grpcRequest(),
      {
        token: t,
      },
    ).catch((e: unknown) => e as grpc.ServiceError);

  beforeAll(async () => {
    broken = await startTestServer();
    t = await broken.token();
    client = createGrpcClient(broken.grpcAddress);
  });
  afterAll(async () => {
    client?.close();
    await broken?.close();
  });

  // These run in order: first the schema is damaged (an unexpected SQLite error), then the store is closed.
  it("an unexpected store failure (a table dropped under the service) → 500 CSBS.9999, no details", async () => {
    expect((await postAction(broken.httpUrl, t, { check_restorable: [RESTORE] })).status).toBe(200);
    const db = new Database(join(broken.dir, "test.db"));
    try {
      db.exec("DROP TABLE servers");
    } finally {
      db.close();
    }
    const res = await postAction(
      broken.httpUrl,
      t,
      { check_restorable: [RESTORE] },
      { headers: { "x-request-id": "boom-1" } },
    );
    const body = expectError(res, 500, "CSBS.9999", "failed");
    expect(body.request_id).toBe("boom-1");
    expect(body.error_msg).toBe("check resource failed");
    expect(res.text).not.toMatch(/sqlite|no such table|SqliteError|DROP|\bat\b/i);
  });

  it("the same over gRPC → INTERNAL with ErrorInfo CSBS.9999 and no details", async () => {
    const err = await grpcCall();
    expect((err as grpc.ServiceError).code).toBe(grpc.status.INTERNAL);
    expect((err as grpc.ServiceError).details).toBe("check resource failed");
    expect(errorInfoOf(err)?.reason).toBe("CSBS.9999");
  });

  it("the store closed under the service → 503 CSBS.9998", async () => {
    await broken.server.store.close();
    const res = await postAction(broken.httpUrl, t, { check_protectable: [PROTECT] });
    expectError(res, 503, "CSBS.9998");
    const restore = await postAction(broken.httpUrl, t, { check_restorable: [RESTORE] });
    expectError(restore, 503, "CSBS.9998");
  });

  it("the same over gRPC → UNAVAILABLE with ErrorInfo CSBS.9998", async () => {
    const err = await grpcCall();
    expect((err as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
    expect(errorInfoOf(err)?.reason).toBe("CSBS.9998");
  });

  it("whole-request errors that need no store still answer as before (401, 400)", async () => {
    expectError(await postAction(broken.httpUrl, undefined, { check_restorable: [RESTORE] }), 401, "APIGW.0301");
    expectError(await postAction(broken.httpUrl, t, { check_restorable: [] }), 400, "CSBS.9001");
  });
});
