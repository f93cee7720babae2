/**
 * Authentication on every port: real tokens signed here with jose, verified by the real
 * server in its three configured modes (HS256 secret, JWKS file, JWKS URL), over REST,
 * gRPC (a plain @grpc/grpc-js client) and Connect (connect-node over HTTP/1.1).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as jose from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CheckProtectableRequestSchema,
  CheckProtectableResponseSchema,
  CheckRestorableRequestSchema,
  CheckRestorableResponseSchema,
  ResourceService,
} from "../gen/csbs/v1/resource_service_pb.js";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { AuthError } from "../src/auth/auth-error.js";
import { createAuthenticator } from "../src/auth/authenticator.js";
import { loadConfig } from "../src/server/config.js";
import { demoCases } from "./support/demo-cases.js";
import { protectMessage, restoreMessage } from "./support/demo-requests.js";
import { callUnary, createGrpcClient, errorInfoOf } from "./support/grpc-client.js";
import { createSigningKey, type JwksServer, type SigningKey, startJwksServer, writeJwksFile } from "./support/jwks.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const ISSUER = "https://iam.test.example/";
const AUDIENCE = "restorability";
const HS_SECRET = "auth-test-hs256-secret-0123456789abcdef";
const PROJECT = demoCases.project_id;
const OTHER_PROJECT = demoCases.other_project_id;
const IAM_PHRASE = "Incorrect IAM authentication information";
const SAMPLE = demoCases.restore[0]!; // the seed sample: restorable
const enc = new TextEncoder();

// ---------------------------------------------------------------------------------------
// Tokens

type Claims = Record<string, unknown>;
const now = () => Math.floor(Date.now() / 1000);

function baseClaims(): Claims {
  return {
    sub: "alice",
    project_id: PROJECT,
    roles: [],
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now(),
    exp: now() + 600,
  };
}

/** What a server trusts, and how its "own" tokens are signed. */
interface Mode {
  name: "hs256" | "jwks-file" | "jwks-url";
  /** Signs with the key the server trusts (header defaults to its alg/kid). */
  sign(claims: Claims, header?: jose.JWTHeaderParameters, options?: jose.SignOptions): Promise<string>;
  /** Signs with a key of the same kind the server does not trust (same kid, for JWKS). */
  signForeign(claims: Claims): Promise<string>;
}

let k1: SigningKey; // trusted ES256 key, kid "k1"
let impostor: SigningKey; // another ES256 key that claims kid "k1"
let dir: string;
let jwksServer: JwksServer;

function withoutClaims(claims: Claims, ...names: string[]): Claims {
  const copy = { ...claims };
  for (const n of names) delete copy[n];
  return copy;
}

function signHs(claims: Claims, secret: Uint8Array, header: Partial<jose.JWTHeaderParameters> = {}) {
  return new jose.SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT", ...header }).sign(secret);
}

function signEs(
  claims: Claims,
  key: SigningKey,
  header: Partial<jose.JWTHeaderParameters> = {},
  options?: jose.SignOptions,
) {
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", typ: "JWT", kid: key.kid, ...header })
    .sign(key.privateKey, options);
}

const MODES: Record<Mode["name"], Mode> = {
  hs256: {
    name: "hs256",
    sign: (claims, header, options) =>
      new jose.SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", typ: "JWT", ...header })
        .sign(enc.encode(HS_SECRET), options),
    signForeign: (claims) => signHs(claims, enc.encode(`${HS_SECRET}-but-not-quite`)),
  },
  "jwks-file": {
    name: "jwks-file",
    sign: (claims, header, options) => signEs(claims, k1, header, options),
    signForeign: (claims) => signEs(claims, impostor),
  },
  "jwks-url": {
    name: "jwks-url",
    sign: (claims, header, options) => signEs(claims, k1, header, options),
    signForeign: (claims) => signEs(claims, impostor),
  },
};

/** The trusted ES256 public key in the forms an alg-confusion attacker would use as an HMAC key. */
async function publicKeyAsHmacKeys(): Promise<Record<string, Uint8Array>> {
  const jwk = k1.publicJwk;
  const point = new Uint8Array([
    0x04,
    ...jose.base64url.decode(jwk.x as string),
    ...jose.base64url.decode(jwk.y as string),
  ]);
  return {
    "PEM (SPKI)": enc.encode(await jose.exportSPKI(k1.publicKey)),
    "JWK JSON": enc.encode(JSON.stringify(jwk)),
    "raw point bytes": point,
  };
}

function b64json(value: unknown): string {
  return jose.base64url.encode(JSON.stringify(value));
}

type Outcome = "ok" | "unauthenticated" | "permission_denied";

interface TokenCase {
  name: string;
  expect: Outcome;
  /** Only for these modes (default: all). */
  modes?: ReadonlyArray<Mode["name"]>;
  /** The token, or undefined for "no header at all". */
  token(mode: Mode): Promise<string | undefined>;
}

const CASES: TokenCase[] = [
  { name: "valid", expect: "ok", token: (m) => m.sign(baseClaims()) },
  {
    name: "valid without typ",
    expect: "ok",
    token: (m) => m.sign(baseClaims(), { alg: m.name === "hs256" ? "HS256" : "ES256", typ: undefined }),
  },
  {
    name: "valid with typ at+jwt (RFC 9068)",
    expect: "ok",
    token: (m) => m.sign(baseClaims(), { alg: m.name === "hs256" ? "HS256" : "ES256", typ: "at+jwt" }),
  },
  {
    name: "valid with aud as an array that contains ours",
    expect: "ok",
    token: (m) => m.sign({ ...baseClaims(), aud: ["someone-else", AUDIENCE] }),
  },
  {
    name: "valid: expired 5 s ago, within the 30 s clock tolerance",
    expect: "ok",
    token: (m) => m.sign({ ...baseClaims(), exp: now() - 5 }),
  },
  {
    name: "valid: a csbs_admin role is not needed but does not hurt",
    expect: "ok",
    token: (m) => m.sign({ ...baseClaims(), roles: ["csbs_admin"] }),
  },
  { name: "expired", expect: "unauthenticated", token: (m) => m.sign({ ...baseClaims(), exp: now() - 120 }) },
  // AUTH_MAX_TOKEN_TTL_SECONDS (default 24 h): exp - iat, or exp - now without iat.
  {
    name: "valid: lifetime exactly 24 h (exp - iat)",
    expect: "ok",
    token: (m) => m.sign({ ...baseClaims(), iat: now(), exp: now() + 86_400 }),
  },
  {
    name: "lifetime over 24 h (exp - iat), though exp is near",
    expect: "unauthenticated",
    token: (m) => m.sign({ ...baseClaims(), iat: now() - 86_400, exp: now() + 60 }),
  },
  {
    name: "no iat, exp more than 24 h ahead",
    expect: "unauthenticated",
    token: (m) => m.sign({ ...withoutClaims(baseClaims(), "iat"), exp: now() + 86_400 + 120 }),
  },
  {
    name: "not yet valid (nbf 5 min ahead)",
    expect: "unauthenticated",
    token: (m) => m.sign({ ...baseClaims(), nbf: now() + 300 }),
  },
  { name: "no exp", expect: "unauthenticated", token: (m) => m.sign(withoutClaims(baseClaims(), "exp")) },
  { name: "exp not a number", expect: "unauthenticated", token: (m) => m.sign({ ...baseClaims(), exp: "tomorrow" }) },
  { name: "wrong signature (untrusted key)", expect: "unauthenticated", token: (m) => m.signForeign(baseClaims()) },
  {
    name: "tampered payload (roles added after signing)",
    expect: "unauthenticated",
    token: async (m) => {
      const [h, , s] = (await m.sign(baseClaims())).split(".");
      return `${h}.${b64json({ ...baseClaims(), roles: ["csbs_admin"] })}.${s}`;
    },
  },
  {
    name: "alg none (unsecured JWT)",
    expect: "unauthenticated",
    token: async () => new jose.UnsecuredJWT(baseClaims()).encode(),
  },
  {
    name: "alg none with a signature copied from a valid token",
    expect: "unauthenticated",
    token: async (m) => {
      const [, p, s] = (await m.sign(baseClaims())).split(".");
      return `${b64json({ alg: "none", typ: "JWT" })}.${p}.${s}`;
    },
  },
  ...(["PEM (SPKI)", "JWK JSON", "raw point bytes"] as const).map(
    (form): TokenCase => ({
      name: `alg confusion: HS256 signed with the ES256 public key as ${form}`,
      expect: "unauthenticated",
      token: async () => signHs(baseClaims(), (await publicKeyAsHmacKeys())[form]!, { kid: "k1" }),
    }),
  ),
  {
    name: "alg confusion: an ES256 token sent to an HS256 server",
    expect: "unauthenticated",
    modes: ["hs256"],
    token: () => signEs(baseClaims(), k1),
  },
  {
    name: "RS256 token from a key outside the set",
    expect: "unauthenticated",
    token: async () => {
      const { privateKey } = await jose.generateKeyPair("RS256");
      return new jose.SignJWT(baseClaims()).setProtectedHeader({ alg: "RS256", kid: "k1" }).sign(privateKey);
    },
  },
  {
    name: "unknown kid",
    expect: "unauthenticated",
    modes: ["jwks-file", "jwks-url"],
    token: () => signEs(baseClaims(), { ...impostor, kid: "no-such-kid" }),
  },
  {
    name: "wrong issuer",
    expect: "unauthenticated",
    token: (m) => m.sign({ ...baseClaims(), iss: "https://evil.example/" }),
  },
  { name: "no issuer", expect: "unauthenticated", token: (m) => m.sign(withoutClaims(baseClaims(), "iss")) },
  {
    name: "wrong audience",
    expect: "unauthenticated",
    token: (m) => m.sign({ ...baseClaims(), aud: "another-service" }),
  },
  { name: "no audience", expect: "unauthenticated", token: (m) => m.sign(withoutClaims(baseClaims(), "aud")) },
  {
    name: "crit header with an extension the server does not know",
    expect: "unauthenticated",
    token: (m) =>
      m.sign(
        baseClaims(),
        { alg: m.name === "hs256" ? "HS256" : "ES256", crit: ["x-must-understand"], "x-must-understand": 1 },
        {
          crit: { "x-must-understand": true },
        },
      ),
  },
  {
    name: "typ of another kind of JWT (logout+jwt)",
    expect: "unauthenticated",
    token: (m) => m.sign(baseClaims(), { alg: m.name === "hs256" ? "HS256" : "ES256", typ: "logout+jwt" }),
  },
  {
    name: "no project_id claim",
    expect: "unauthenticated",
    token: (m) => m.sign(withoutClaims(baseClaims(), "project_id")),
  },
  {
    name: "empty project_id claim",
    expect: "unauthenticated",
    token: (m) => m.sign({ ...baseClaims(), project_id: "" }),
  },
  {
    name: "roles not an array of strings",
    expect: "unauthenticated",
    token: (m) => m.sign({ ...baseClaims(), roles: "csbs_admin" }),
  },
  { name: "sub not a string", expect: "unauthenticated", token: (m) => m.sign({ ...baseClaims(), sub: { id: 1 } }) },
  { name: "missing header", expect: "unauthenticated", token: async () => undefined },
  { name: "garbage token", expect: "unauthenticated", token: async () => "not-a-token" },
  { name: "three garbage segments", expect: "unauthenticated", token: async () => "abc.def.ghi" },
  {
    name: "payload that is not JSON",
    expect: "unauthenticated",
    token: async (m) => {
      const [h, , s] = (await m.sign(baseClaims())).split(".");
      return `${h}.${jose.base64url.encode("not json")}.${s}`;
    },
  },
  {
    name: "a valid token behind a Bearer prefix",
    expect: "unauthenticated",
    token: async (m) => `Bearer ${await m.sign(baseClaims())}`,
  },
  {
    name: "wrong project",
    expect: "permission_denied",
    token: (m) => m.sign({ ...baseClaims(), project_id: OTHER_PROJECT }),
  },
  {
    name: "a csbs_admin of another project",
    expect: "permission_denied",
    token: (m) => m.sign({ ...baseClaims(), project_id: OTHER_PROJECT, roles: ["csbs_admin"] }),
  },
];

// ---------------------------------------------------------------------------------------
// Calling each port, normalized

interface Answer {
  /** "ok" or the failure, as the protocol spells it. */
  status: number | Code | grpc.status;
  reason: string | undefined;
  message: string;
  /** The first entry's result, for successful calls. */
  result?: boolean;
}

interface Ports {
  ts: TestServer;
  grpcClient: grpc.Client;
  connect: Client<typeof ResourceService>;
}

type Protocol = "rest" | "grpc" | "connect";
const PROTOCOLS: Protocol[] = ["rest", "grpc", "connect"];

function grpcRequest(projectId: string) {
  return restoreMessage([SAMPLE.request], { projectId });
}

async function restCall(ts: TestServer, token: string | undefined, projectId: string, body: unknown): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== undefined) headers["x-auth-token"] = token;
  const res = await fetch(`${ts.httpUrl}/v1/${projectId}/providers/${demoCases.provider_id}/resources/action`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status === 200) {
    const entries = (json.restorable ?? json.protectable) as { result: boolean }[];
    return { status: 200, reason: undefined, message: "", result: entries[0]!.result };
  }
  expect(Object.keys(json).sort()).toEqual(["error_code", "error_msg", "request_id"]);
  return { status: res.status, reason: json.error_code as string, message: json.error_msg as string };
}

async function call(protocol: Protocol, p: Ports, token: string | undefined, projectId = PROJECT): Promise<Answer> {
  switch (protocol) {
    case "rest":
      return restCall(p.ts, token, projectId, { check_restorable: [SAMPLE.request] });
    case "grpc":
      try {
        const res = await callUnary(
          p.grpcClient,
          "/csbs.v1.ResourceService/CheckRestorable",
          CheckRestorableRequestSchema,
          CheckRestorableResponseSchema,
          grpcRequest(projectId),
          token === undefined ? {} : { token },
        );
        return { status: grpc.status.OK, reason: undefined, message: "", result: res.restorable[0]!.result };
      } catch (err) {
        const e = err as grpc.ServiceError;
        return { status: e.code, reason: errorInfoOf(err)?.reason, message: e.details };
      }
    case "connect":
      try {
        const res = await p.connect.checkRestorable(grpcRequest(projectId), {
          headers: token === undefined ? {} : { "x-auth-token": token },
        });
        return { status: 0, reason: undefined, message: "", result: res.restorable[0]!.result };
      } catch (err) {
        const e = ConnectError.from(err);
        return { status: e.code, reason: e.findDetails(ErrorInfoSchema)[0]?.reason, message: e.rawMessage };
      }
  }
}

const EXPECTED: Record<Protocol, Record<Outcome, { status: number; reason: string | undefined }>> = {
  rest: {
    ok: { status: 200, reason: undefined },
    unauthenticated: { status: 401, reason: "APIGW.0301" },
    permission_denied: { status: 403, reason: "APIGW.0302" },
  },
  grpc: {
    ok: { status: grpc.status.OK, reason: undefined },
    unauthenticated: { status: grpc.status.UNAUTHENTICATED, reason: "APIGW.0301" },
    permission_denied: { status: grpc.status.PERMISSION_DENIED, reason: "APIGW.0302" },
  },
  connect: {
    ok: { status: 0, reason: undefined },
    unauthenticated: { status: Code.Unauthenticated, reason: "APIGW.0301" },
    permission_denied: { status: Code.PermissionDenied, reason: "APIGW.0302" },
  },
};

function expectOutcome(protocol: Protocol, answer: Answer, outcome: Outcome): void {
  expect({ status: answer.status, reason: answer.reason }).toEqual(EXPECTED[protocol][outcome]);
  if (outcome === "ok") expect(answer.result).toBe(true);
  if (outcome === "unauthenticated") expect(answer.message).toContain(IAM_PHRASE);
}

function openPorts(ts: TestServer): Ports {
  return {
    ts,
    grpcClient: createGrpcClient(ts.grpcAddress),
    connect: createClient(ResourceService, createConnectTransport({ baseUrl: ts.httpUrl, httpVersion: "1.1" })),
  };
}

function closePorts(p: Ports | undefined): Promise<void> | undefined {
  p?.grpcClient.close();
  return p?.ts.close();
}

// ---------------------------------------------------------------------------------------

const servers: Partial<Record<Mode["name"], Ports>> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "auth-test-"));
  [k1, impostor] = await Promise.all([createSigningKey("k1"), createSigningKey("k1")]);
  jwksServer = await startJwksServer([k1]);
  const common = { AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE };
  const [hs, file, url] = await Promise.all([
    startTestServer({ ...common, AUTH_JWT_SECRET: HS_SECRET }),
    startTestServer({ ...common, AUTH_JWT_SECRET: "", AUTH_JWKS_FILE: writeJwksFile(dir, [k1]) }),
    // Cooldown 0: a token with a new kid refetches the set at once (rotation test below).
    startTestServer({ ...common, AUTH_JWT_SECRET: "", AUTH_JWKS_URL: jwksServer.url, AUTH_JWKS_COOLDOWN_SECONDS: "0" }),
  ]);
  servers.hs256 = openPorts(hs);
  servers["jwks-file"] = openPorts(file);
  servers["jwks-url"] = openPorts(url);
});

afterAll(async () => {
  await Promise.all(Object.values(servers).map(closePorts));
  await jwksServer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(Object.values(MODES))("tokens, $name server", (mode) => {
  const cases = CASES.filter((c) => c.modes === undefined || c.modes.includes(mode.name));
  describe.each(PROTOCOLS)("over %s", (protocol) => {
    it.each(cases)("$name → $expect", async (c) => {
      const token = await c.token(mode);
      expectOutcome(protocol, await call(protocol, servers[mode.name]!, token), c.expect);
    });
  });
});

describe("JWKS URL: rotation and outages", () => {
  it("accepts a token signed with a key added to the served set after start (refetch on unknown kid)", async () => {
    const p = servers["jwks-url"]!;
    expectOutcome("rest", await call("rest", p, await signEs(baseClaims(), k1)), "ok");
    const k2 = await createSigningKey("k2");
    const token = await signEs(baseClaims(), k2);
    // Not served yet: unknown kid.
    expectOutcome("rest", await call("rest", p, token), "unauthenticated");
    jwksServer.setKeys([k1, k2]);
    const before = jwksServer.fetches;
    for (const protocol of PROTOCOLS) expectOutcome(protocol, await call(protocol, p, token), "ok");
    expect(jwksServer.fetches).toBe(before + 1); // one refetch, then cached
  });

  it("an unreachable key set is 503 CSBS.9998 / UNAVAILABLE, not 401 or 500; cached keys keep working", async () => {
    const p = servers["jwks-url"]!;
    const k3 = await createSigningKey("k3");
    jwksServer.setKeys([k1, k3]);
    jwksServer.failWith(502);
    try {
      const token = await signEs(baseClaims(), k3); // unknown kid: needs a fetch, which fails
      const rest = await call("rest", p, token);
      expect([rest.status, rest.reason]).toEqual([503, "CSBS.9998"]);
      const g = await call("grpc", p, token);
      expect([g.status, g.reason]).toEqual([grpc.status.UNAVAILABLE, "CSBS.9998"]);
      const c = await call("connect", p, token);
      expect([c.status, c.reason]).toEqual([Code.Unavailable, "CSBS.9998"]);
      // A key already cached still verifies; a bad token is still a 401 (no fetch needed).
      expectOutcome("rest", await call("rest", p, await signEs(baseClaims(), k1)), "ok");
      expectOutcome(
        "rest",
        await call("rest", p, await signEs({ ...baseClaims(), exp: now() - 120 }, k1)),
        "unauthenticated",
      );
      expectOutcome("rest", await call("rest", p, new jose.UnsecuredJWT(baseClaims()).encode()), "unauthenticated");
    } finally {
      jwksServer.failWith(undefined);
    }
    // Back: the key is fetched and accepted.
    expectOutcome("grpc", await call("grpc", p, await signEs(baseClaims(), k3)), "ok");
  });

  it("a key removed from the served set stops being accepted within AUTH_CACHE_TTL_SECONDS", async () => {
    const [k4, k5] = await Promise.all([createSigningKey("k4"), createSigningKey("k5")]);
    const served = await startJwksServer([k4, k5]);
    const ttlSeconds = 1;
    const p = openPorts(
      await startTestServer({
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_JWT_SECRET: "",
        AUTH_JWKS_URL: served.url,
        AUTH_CACHE_TTL_SECONDS: String(ttlSeconds),
      }),
    );
    try {
      const token = await signEs(baseClaims(), k4);
      for (const protocol of PROTOCOLS) expectOutcome(protocol, await call(protocol, p, token), "ok");
      served.setKeys([k5]); // k4 withdrawn (rotated out)
      await new Promise((resolve) => setTimeout(resolve, ttlSeconds * 1000 + 200));
      // Neither the cached verification nor jose's cached key set still trusts k4.
      for (const protocol of PROTOCOLS) expectOutcome(protocol, await call(protocol, p, token), "unauthenticated");
      expectOutcome("rest", await call("rest", p, await signEs(baseClaims(), k5)), "ok");
    } finally {
      await closePorts(p);
      await served.close();
    }
  });

  it("a JWKS URL nobody listens on: the authenticator says unavailable (503), not unauthenticated", async () => {
    const closed = await startJwksServer([]);
    const url = closed.url;
    await closed.close();
    const authenticator = createAuthenticator(loadConfig({ AUTH_JWKS_URL: url }).auth);
    const error = await authenticator.authenticate(await signEs(baseClaims(), k1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).kind).toBe("unavailable");
  });
});

describe("JWKS file: refused at start unless it is a set of public keys", () => {
  it.each([
    { name: "not JSON", content: "{nope" },
    { name: "no keys", content: JSON.stringify({ keys: [] }) },
    { name: "a private key", content: "private" },
    { name: "a symmetric (oct) key", content: JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0", kid: "s" }] }) },
  ])("$name", async (c) => {
    const file = join(dir, `bad-jwks-${c.name.replaceAll(" ", "-")}.json`);
    const content =
      c.content === "private"
        ? JSON.stringify({ keys: [{ ...(await jose.exportJWK(k1.privateKey)), kid: "k1" }] })
        : c.content;
    writeFileSync(file, content);
    expect(() => createAuthenticator(loadConfig({ AUTH_JWKS_FILE: file }).auth)).toThrow(/^AUTH_JWKS_FILE: /);
  });
});

describe("REST: the token is checked before the body, after the route", () => {
  const body = { check_restorable: [SAMPLE.request] };
  it.each([
    {
      name: "no token, malformed JSON body → 401",
      token: "none",
      project: PROJECT,
      body: "{not json",
      status: 401,
      code: "APIGW.0301",
    },
    {
      name: "wrong project, malformed JSON body → 403",
      token: "other",
      project: PROJECT,
      body: "{not json",
      status: 403,
      code: "APIGW.0302",
    },
    {
      name: "valid token, malformed JSON body → 400",
      token: "own",
      project: PROJECT,
      body: "{not json",
      status: 400,
      code: "CSBS.9001",
    },
    {
      name: "no token, bad project_id form → 401",
      token: "none",
      project: "bad_project!",
      body,
      status: 401,
      code: "APIGW.0301",
    },
    {
      name: "valid token, bad project_id form → 400",
      token: "own",
      project: "bad_project!",
      body,
      status: 400,
      code: "CSBS.9001",
    },
    {
      name: "token of project B on project A's path → 403",
      token: "other",
      project: PROJECT,
      body,
      status: 403,
      code: "APIGW.0302",
    },
    {
      name: "token of project A on project B's path → 403",
      token: "own",
      project: OTHER_PROJECT,
      body,
      status: 403,
      code: "APIGW.0302",
    },
  ])("$name", async (c) => {
    const ts = servers.hs256!.ts;
    const token =
      c.token === "none"
        ? undefined
        : await MODES.hs256.sign({ ...baseClaims(), project_id: c.token === "own" ? PROJECT : OTHER_PROJECT });
    const answer = await restCall(ts, token, c.project, c.body);
    expect([answer.status, answer.reason]).toEqual([c.status, c.code]);
  });

  it("the header name is case-insensitive (X-Auth-Token)", async () => {
    const res = await fetch(
      `${servers.hs256!.ts.httpUrl}/v1/${PROJECT}/providers/${demoCases.provider_id}/resources/action`,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Auth-Token": await MODES.hs256.sign(baseClaims()) },
        body: JSON.stringify(body),
      },
    );
    expect(res.status).toBe(200);
  });
});

describe("CheckProtectable is guarded the same way", () => {
  const cases = [
    { name: "valid", project: PROJECT, expect: "ok" as const },
    { name: "wrong project", project: OTHER_PROJECT, expect: "permission_denied" as const },
    { name: "missing header", project: undefined, expect: "unauthenticated" as const },
  ];
  const entry = demoCases.protect[0]!.request;

  it.each(cases)("$name over REST, gRPC and Connect", async (c) => {
    const p = servers.hs256!;
    const token =
      c.project === undefined ? undefined : await MODES.hs256.sign({ ...baseClaims(), project_id: c.project });
    const rest = await restCall(p.ts, token, PROJECT, { check_protectable: [entry] });
    expectOutcome("rest", rest, c.expect);

    const request = protectMessage([entry], { projectId: PROJECT });
    const g = await callUnary(
      p.grpcClient,
      "/csbs.v1.ResourceService/CheckProtectable",
      CheckProtectableRequestSchema,
      CheckProtectableResponseSchema,
      request,
      token === undefined ? {} : { token },
    ).then(
      (res): Answer => ({ status: grpc.status.OK, reason: undefined, message: "", result: res.protectable[0]!.result }),
      (err: grpc.ServiceError): Answer => ({
        status: err.code,
        reason: errorInfoOf(err)?.reason,
        message: err.details,
      }),
    );
    expectOutcome("grpc", g, c.expect);

    const cn = await p.connect
      .checkProtectable(request, { headers: token === undefined ? {} : { "x-auth-token": token } })
      .then(
        (res): Answer => ({ status: 0, reason: undefined, message: "", result: res.protectable[0]!.result }),
        (err: unknown): Answer => {
          const e = ConnectError.from(err);
          return { status: e.code, reason: e.findDetails(ErrorInfoSchema)[0]?.reason, message: e.rawMessage };
        },
      );
    expectOutcome("connect", cn, c.expect);
  });
});
