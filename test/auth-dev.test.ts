/**
 * Development mode, only when asked (AUTH_DEV=1, as `npm start` sets): the service runs on a
 * generated development secret (file mode 0600), exposes a development token for the demo
 * project, and still rejects calls without a token; `npm run token` mints tokens that server
 * accepts. Without AUTH_DEV=1 and without a key source there is no auth mode at all.
 * Probes, gRPC health and reflection need no token.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as jose from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CheckRestorableRequestSchema,
  CheckRestorableResponseSchema,
  ResourceService,
} from "../gen/csbs/v1/resource_service_pb.js";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { loadOrCreateDevSecret } from "../src/auth/dev-secret.js";
import { ConfigError, loadConfig } from "../src/server/config.js";
import { demoCases } from "./support/demo-cases.js";
import { protectMessage, restoreBody, restoreMessage } from "./support/demo-requests.js";
import { callUnary, createGrpcClient, errorInfoOf } from "./support/grpc-client.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const run = promisify(execFile);
const ROOT = new URL("..", import.meta.url).pathname;
const PROJECT = demoCases.project_id;
const SAMPLE = demoCases.restore[0]!.request;

let dir: string;
let secretFile: string;
let ts: TestServer;
let grpcClient: grpc.Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "auth-dev-test-"));
  secretFile = join(dir, "nested", "dev-jwt-secret");
  // No AUTH_JWT_SECRET / AUTH_JWKS_FILE / AUTH_JWKS_URL ("" counts as unset). Switches
  // that other services use to turn auth off do not exist here and change nothing.
  ts = await startTestServer({
    AUTH_JWT_SECRET: "",
    AUTH_DEV: "1",
    AUTH_DEV_SECRET_FILE: secretFile,
    AUTH_DISABLED: "true",
    AUTH_MODE: "none",
  });
  grpcClient = createGrpcClient(ts.grpcAddress);
});
afterAll(async () => {
  grpcClient?.close();
  await ts?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function restStatus(token: string | undefined, projectId = PROJECT): Promise<[number, string | undefined]> {
  const res = await fetch(`${ts.httpUrl}/v1/${projectId}/providers/${demoCases.provider_id}/resources/action`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token === undefined ? {} : { "x-auth-token": token }) },
    body: JSON.stringify(restoreBody([SAMPLE])),
  });
  const body = (await res.json()) as { error_code?: string };
  return [res.status, body.error_code];
}

function grpcCall(token: string | undefined) {
  return callUnary(
    grpcClient,
    "/csbs.v1.ResourceService/CheckRestorable",
    CheckRestorableRequestSchema,
    CheckRestorableResponseSchema,
    restoreMessage([SAMPLE], { projectId: PROJECT }),
    token === undefined ? {} : { token },
  );
}

/** `npm run token -- ARGS` as a developer runs it, against the same development secret. */
async function npmRunToken(...args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, AUTH_DEV_SECRET_FILE: secretFile };
  for (const name of ["AUTH_JWT_SECRET", "AUTH_JWKS_FILE", "AUTH_JWKS_URL", "AUTH_ISSUER", "AUTH_AUDIENCE"]) {
    delete env[name];
  }
  const { stdout } = await run("npm", ["run", "--silent", "token", "--", ...args], { cwd: ROOT, env });
  return stdout.trim();
}

describe("development mode (AUTH_DEV=1, no key source)", () => {
  it("runs in dev mode and writes the generated secret with mode 0600", () => {
    expect(ts.config.auth).toMatchObject({ mode: "dev", secretFile });
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(secretFile, "utf8").trim().length).toBeGreaterThanOrEqual(32);
  });

  it("exposes a development token (12 h, under the 24 h maximum) that works for the demo project on REST and gRPC", async () => {
    const token = ts.server.devToken;
    expect(token).toBeTypeOf("string");
    const claims = jose.decodeJwt(token!);
    expect(claims).toMatchObject({ project_id: PROJECT });
    expect(claims.exp! - claims.iat!).toBe(12 * 3600);
    expect(await restStatus(token)).toEqual([200, undefined]);
    const res = await grpcCall(token);
    expect(res.restorable[0]!.result).toBe(true);
  });

  it.each([
    { name: "no token", token: async () => undefined },
    { name: "a garbage token", token: async () => "dev" },
    // The well-known test secret is not the generated one.
    { name: "a token signed with another secret", token: () => ts.token(PROJECT) },
  ])("still rejects $name on every port (there is no unauthenticated mode)", async (c) => {
    const token = await c.token();
    expect(await restStatus(token)).toEqual([401, "APIGW.0301"]);
    const err = (await grpcCall(token).catch((e: unknown) => e)) as grpc.ServiceError;
    expect([err.code, errorInfoOf(err)?.reason]).toEqual([grpc.status.UNAUTHENTICATED, "APIGW.0301"]);
    const connect = createClient(ResourceService, createConnectTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" }));
    const cerr = await connect
      .checkProtectable(protectMessage([demoCases.protect[0]!.request], { projectId: PROJECT }), {
        headers: token === undefined ? {} : { "x-auth-token": token },
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect(cerr).toBeInstanceOf(ConnectError);
    expect([(cerr as ConnectError).code, (cerr as ConnectError).findDetails(ErrorInfoSchema)[0]?.reason]).toEqual([
      Code.Unauthenticated,
      "APIGW.0301",
    ]);
  });

  it("`npm run token` mints tokens the running dev-mode server accepts, scoped as asked", async () => {
    const token = await npmRunToken("--project", PROJECT, "--roles", "csbs_admin,viewer", "--ttl", "5m");
    const claims = jose.decodeJwt(token);
    expect(claims).toMatchObject({ project_id: PROJECT, roles: ["csbs_admin", "viewer"], sub: "developer" });
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(await restStatus(token)).toEqual([200, undefined]);
    // Scoped to the project in the token, not to the path.
    expect(await restStatus(token, demoCases.other_project_id)).toEqual([403, "APIGW.0302"]);
  });

  it("`npm run token` refuses a --ttl the service would refuse (over AUTH_MAX_TOKEN_TTL_SECONDS)", async () => {
    const error = (await npmRunToken("--ttl", "48h").catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/AUTH_MAX_TOKEN_TTL_SECONDS: --ttl 48h is longer than 86400 s/);
  });
});

describe("the development secret file", () => {
  it("is reused when present and replaced (0600) when too short to be a secret", () => {
    const file = join(dir, "short-secret");
    writeFileSync(file, "short\n");
    chmodSync(file, 0o644);
    const secret = loadOrCreateDevSecret(file);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateDevSecret(file)).toBe(secret);
  });

  it("an existing secret readable by group/others is kept, set to 0600, and a warning names the file", () => {
    const file = join(dir, "open-secret");
    writeFileSync(file, `${"s".repeat(40)}\n`);
    chmodSync(file, 0o644);
    const warnings: string[] = [];
    expect(loadOrCreateDevSecret(file, (m) => warnings.push(m))).toBe("s".repeat(40));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/AUTH_DEV_SECRET_FILE .*open-secret.*0644.*0600/);
    loadOrCreateDevSecret(file, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1); // 0600 already: nothing to say
  });
});

describe("auth configuration", () => {
  it.each([
    { name: "nothing set → none (a serving entry point refuses to start)", env: {}, mode: "none" },
    { name: "AUTH_DEV=1 → dev", env: { AUTH_DEV: "1" }, mode: "dev" },
    {
      name: "empty values count as unset → dev with AUTH_DEV=1",
      env: { AUTH_JWT_SECRET: "", AUTH_JWKS_URL: "", AUTH_DEV: "1" },
      mode: "dev",
    },
    {
      name: "a key source wins over AUTH_DEV=1",
      env: { AUTH_JWT_SECRET: "x".repeat(32), AUTH_DEV: "1" },
      mode: "hs256",
    },
    { name: "AUTH_JWT_SECRET → hs256", env: { AUTH_JWT_SECRET: "x".repeat(32) }, mode: "hs256" },
    { name: "AUTH_JWKS_FILE → jwks-file", env: { AUTH_JWKS_FILE: "/etc/jwks.json" }, mode: "jwks-file" },
    { name: "AUTH_JWKS_URL → jwks-url", env: { AUTH_JWKS_URL: "https://iam.example/jwks" }, mode: "jwks-url" },
  ])("$name", (c) => {
    expect(loadConfig(c.env).auth.mode).toBe(c.mode);
  });

  it.each([
    { name: "a secret under 32 bytes", env: { AUTH_JWT_SECRET: "x".repeat(31) }, variable: "AUTH_JWT_SECRET" },
    {
      name: "two key sources",
      env: { AUTH_JWT_SECRET: "x".repeat(32), AUTH_JWKS_URL: "https://iam.example/jwks" },
      variable: "AUTH_JWKS_URL",
    },
    {
      name: "a JWKS URL that is not http(s)",
      env: { AUTH_JWKS_URL: "file:///etc/jwks.json" },
      variable: "AUTH_JWKS_URL",
    },
    {
      name: "a clock tolerance over 5 min",
      env: { AUTH_CLOCK_TOLERANCE_SECONDS: "301" },
      variable: "AUTH_CLOCK_TOLERANCE_SECONDS",
    },
  ])("rejects $name", (c) => {
    let error: unknown;
    try {
      loadConfig(c.env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(c.variable);
  });

  it("requireAuth (the serving entry point, npm run token): no key source is one problem naming the three variables", () => {
    let error: unknown;
    try {
      loadConfig({ HTTP_PORT: "eighty" }, { requireAuth: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(["HTTP_PORT", "AUTH_JWT_SECRET"]);
    expect((error as ConfigError).problems[1]!.reason).toMatch(
      /AUTH_JWT_SECRET.*AUTH_JWKS_FILE.*AUTH_JWKS_URL.*AUTH_DEV=1/,
    );
    expect(loadConfig({ AUTH_DEV: "1" }, { requireAuth: true }).auth.mode).toBe("dev");
  });

  it("defaults: 30 s clock tolerance, 30 s JWKS refetch cooldown, 24 h longest token lifetime", () => {
    const config = loadConfig({});
    expect([config.auth.clockToleranceSeconds, config.auth.jwksCooldownSeconds]).toEqual([30, 30]);
    expect(config.auth.maxTokenTtlSeconds).toBe(86_400);
  });
});

// ---------------------------------------------------------------------------------------
// Public endpoints: no token needed

const identity = (b: Buffer) => b;

function grpcRaw(path: string, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    grpcClient.makeUnaryRequest(path, identity, identity, request, new grpc.Metadata(), (err, res) =>
      err ? reject(err) : resolve(res as Buffer),
    ),
  );
}

/** One ServerReflectionRequest{list_services: ""} on a bidi stream; the raw responses. */
function listServices(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const call = grpcClient.makeBidiStreamRequest(path, identity, identity, new grpc.Metadata());
    const chunks: Buffer[] = [];
    call.on("data", (b: Buffer) => chunks.push(b));
    call.on("error", reject);
    call.on("end", () => resolve(Buffer.concat(chunks)));
    call.write(Buffer.from([0x3a, 0x00])); // field 7 (list_services), empty string
    call.end();
  });
}

describe("no token needed", () => {
  it.each(["", "csbs.v1.ResourceService"])("gRPC health Check(%j) → SERVING", async (service) => {
    const req = Buffer.concat([Buffer.from([0x0a, service.length]), Buffer.from(service)]);
    const res = await grpcRaw("/grpc.health.v1.Health/Check", service === "" ? Buffer.alloc(0) : req);
    expect([...res]).toEqual([0x08, 0x01]); // status: SERVING
  });

  it.each(["grpc.reflection.v1", "grpc.reflection.v1alpha"])("%s lists the services", async (pkg) => {
    const res = await listServices(`/${pkg}.ServerReflection/ServerReflectionInfo`);
    expect(res.toString("latin1")).toContain("csbs.v1.ResourceService");
  });

  it.each(["/healthz", "/readyz"])("GET %s → 200", async (path) => {
    const res = await fetch(`${ts.httpUrl}${path}`);
    expect(res.status).toBe(200);
  });

  it("GET /openapi.json is never an auth failure", async () => {
    const res = await fetch(`${ts.httpUrl}/openapi.json`);
    expect([401, 403]).not.toContain(res.status);
  });
});
