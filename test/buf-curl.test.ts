import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { equals, fromBinary } from "@bufbuild/protobuf";
import { type FileDescriptorProto, FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_ROLE } from "../src/auth/principal.js";
import { demoCases } from "./support/demo-cases.js";
import { ReflectionClient } from "./support/reflection-client.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/**
 * The buf CLI's `buf curl` (the real Go binary of the `@bufbuild/buf` devDependency, with
 * Go's protobuf runtime: as strict about reflected descriptors as grpcurl) against a real
 * server: schemas by server reflection on the gRPC port, and by `--schema` (this repo's
 * buf workspace) for Connect and gRPC-Web on the HTTP port.
 */

const ROOT = new URL("..", import.meta.url).pathname;
const BUF = join(ROOT, "node_modules/.bin/buf");
const run = promisify(execFile);

let ts: TestServer;
let token: string;
let adminToken: string;
let grpcUrl: string;
let scratch: string;

beforeAll(async () => {
  ts = await startTestServer();
  token = await ts.token();
  adminToken = await ts.token(demoCases.project_id, [ADMIN_ROLE]);
  grpcUrl = `http://${ts.grpcAddress}`;
  scratch = mkdtempSync(join(tmpdir(), "buf-curl-test-"));
});
afterAll(async () => {
  await ts?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface CurlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `buf ARGS` from the repository root; never throws on a non-zero exit (an RPC error is JSON on stderr). */
async function buf(args: string[]): Promise<CurlResult> {
  try {
    const { stdout, stderr } = await run(BUF, args, { cwd: ROOT, maxBuffer: 16 * 2 ** 20 });
    return { exitCode: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { exitCode: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** `buf curl --protocol grpc --http2-prior-knowledge [ARGS]` against the gRPC port, schema by reflection. */
const grpcCurl = (args: string[]) => buf(["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args]);

/** The response JSON of a successful call. */
function ok(result: CurlResult): unknown {
  expect(result.stderr, result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout);
}

const sample = demoCases.restore[0]!;
const failing = demoCases.restore.find((c) => c.expected.error_code !== "")!;
const protect = demoCases.protect[0]!;
const restoreBody = JSON.stringify({
  project_id: demoCases.project_id,
  provider_id: demoCases.provider_id,
  check_restorable: [sample.request, failing.request],
});
const protectBody = JSON.stringify({
  project_id: demoCases.project_id,
  provider_id: demoCases.provider_id,
  check_protectable: [protect.request],
});
/** buf curl prints the response in protojson: lowerCamelCase names, defaults with --emit-defaults. */
const restoreAnswer = {
  restorable: [sample, failing].map((c) => ({
    result: c.expected.result,
    resourceType: c.request.target.resource_type,
    errorCode: c.expected.error_code,
    errorMsg: c.expected.error_msg,
    resourceId: c.request.target.resource_id,
    failures: [],
    suggestedVolumes: [],
  })),
};
const protectAnswer = {
  protectable: [
    {
      result: protect.expected.result,
      resourceType: protect.request.resource_type,
      errorCode: protect.expected.error_code,
      errorMsg: protect.expected.error_msg,
      resourceId: protect.request.resource_id,
      failures: [],
      suggestedVolumes: [],
    },
  ],
};

const SERVICES = [
  "csbs.admin.v1.InventoryService",
  "csbs.v1.ResourceService",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];
const METHODS = [
  "csbs.admin.v1.InventoryService/DeleteInventory",
  "csbs.admin.v1.InventoryService/UpsertInventory",
  "csbs.v1.ResourceService/CheckProtectable",
  "csbs.v1.ResourceService/CheckRestorable",
  "grpc.health.v1.Health/Check",
  "grpc.health.v1.Health/List",
  "grpc.health.v1.Health/Watch",
  "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];
const lines = (text: string) => text.split("\n").filter(Boolean);

describe("buf curl --reflect: listing", () => {
  it.each(["grpc-v1", "grpc-v1alpha"])("--list-services and --list-methods over %s reflection", async (protocol) => {
    const [services, methods] = await Promise.all([
      grpcCurl(["--reflect-protocol", protocol, "--list-services", grpcUrl]),
      grpcCurl(["--reflect-protocol", protocol, "--list-methods", grpcUrl]),
    ]);
    expect(services.stderr).toBe("");
    expect(lines(services.stdout)).toEqual(SERVICES);
    expect(methods.stderr).toBe("");
    expect(lines(methods.stdout)).toEqual(METHODS);
  });
});

describe("reflection serves the compiler's descriptors (what `describe` would print)", () => {
  it("every file reflected for every listed service equals `buf build` output of this repo", async () => {
    // buf curl has no `describe`: the equivalent is the schema it downloads. It must be the
    // one `buf build` compiles from proto/ and third_party/ (source info aside).
    const out = join(scratch, "image.binpb");
    const built = await buf(["build", "--exclude-source-info", "--as-file-descriptor-set", "-o", out]);
    expect(built.stderr).toBe("");
    const compiled = new Map(
      fromBinary(FileDescriptorSetSchema, readFileSync(out)).file.map((f) => [f.name, f] as const),
    );
    for (const version of ["v1", "v1alpha"] as const) {
      const reflection = new ReflectionClient(ts.grpcAddress, version);
      try {
        const seen = new Map<string, FileDescriptorProto>();
        // The services, and the error details' type (for clients that decode details by reflection).
        for (const symbol of [...SERVICES, "google.rpc.ErrorInfo"]) {
          for (const file of await reflection.files({ file_containing_symbol: symbol })) seen.set(file.name, file);
        }
        expect([...seen.keys()].sort()).toEqual([
          "csbs/admin/v1/inventory_service.proto",
          "csbs/v1/resource_service.proto",
          "google/api/annotations.proto",
          "google/api/http.proto",
          "google/protobuf/descriptor.proto",
          "google/protobuf/duration.proto",
          "google/rpc/error_details.proto",
          "grpc/health/v1/health.proto",
          "grpc/reflection/v1/reflection.proto",
          "grpc/reflection/v1alpha/reflection.proto",
        ]);
        for (const [name, file] of seen) {
          // The well-known types are the runtime's copies (@bufbuild/protobuf), not this repo's.
          if (name.startsWith("google/protobuf/")) continue;
          expect(equals(FileDescriptorProtoSchema, file, compiled.get(name)!), name).toBe(true);
        }
      } finally {
        reflection.close();
      }
    }
  });
});

describe("buf curl --reflect: every RPC on the gRPC port", () => {
  it("CheckRestorable and CheckProtectable with a token", async () => {
    const [restore, protectRes] = await Promise.all([
      grpcCurl([
        "--emit-defaults",
        "-H",
        `x-auth-token: ${token}`,
        "-d",
        restoreBody,
        `${grpcUrl}/csbs.v1.ResourceService/CheckRestorable`,
      ]),
      grpcCurl([
        "--emit-defaults",
        "-H",
        `x-auth-token: ${token}`,
        "-d",
        protectBody,
        `${grpcUrl}/csbs.v1.ResourceService/CheckProtectable`,
      ]),
    ]);
    expect(ok(restore)).toEqual(restoreAnswer);
    expect(ok(protectRes)).toEqual(protectAnswer);
  });

  it("without a token: unauthenticated, with the ErrorInfo detail", async () => {
    const res = await grpcCurl(["-d", restoreBody, `${grpcUrl}/csbs.v1.ResourceService/CheckRestorable`]);
    expect(res.exitCode).not.toBe(0);
    const body = JSON.parse(res.stderr) as { code: string; details: { type: string }[] };
    expect(body.code).toBe("unauthenticated");
    expect(body.details.map((d) => d.type)).toEqual(["google.rpc.ErrorInfo"]);
  });

  it("grpc.health.v1.Health/Check and List without a token", async () => {
    const [check, list] = await Promise.all([
      grpcCurl([
        "-d",
        JSON.stringify({ service: "csbs.v1.ResourceService" }),
        `${grpcUrl}/grpc.health.v1.Health/Check`,
      ]),
      grpcCurl(["-d", "{}", `${grpcUrl}/grpc.health.v1.Health/List`]),
    ]);
    expect(ok(check)).toEqual({ status: "SERVING" });
    expect(ok(list)).toEqual({
      statuses: {
        "": { status: "SERVING" },
        "csbs.admin.v1.InventoryService": { status: "SERVING" },
        "csbs.v1.ResourceService": { status: "SERVING" },
      },
    });
  });

  it("InventoryService UpsertInventory and DeleteInventory with an admin token", async () => {
    const id = "0b7e3f5c-9d2a-4c1e-8f6b-3a5d7c9e1f20";
    const admin = ["-H", `x-auth-token: ${adminToken}`];
    const upsert = await grpcCurl([
      ...admin,
      "--emit-defaults",
      "-d",
      JSON.stringify({
        project_id: demoCases.project_id,
        servers: [{ id, type: "OS::Nova::Server", status: "ACTIVE", availability_zone: "az1" }],
      }),
      `${grpcUrl}/csbs.admin.v1.InventoryService/UpsertInventory`,
    ]);
    expect(ok(upsert)).toEqual({ checkpointItems: 0, servers: 1, volumes: 0 });
    const del = await grpcCurl([
      ...admin,
      "--emit-defaults",
      "-d",
      JSON.stringify({ project_id: demoCases.project_id, server_ids: [id] }),
      `${grpcUrl}/csbs.admin.v1.InventoryService/DeleteInventory`,
    ]);
    expect(ok(del)).toEqual({ checkpointItems: 0, servers: 1, volumes: 0 });
  });
});

describe("buf curl --schema (this repo) on the HTTP port", () => {
  it.each(["connect", "grpcweb"])(
    "--protocol %s: CheckRestorable, CheckProtectable, an admin call",
    async (protocol) => {
      const curl = (args: string[]) =>
        buf(["curl", "--schema", ".", "--protocol", protocol, "--emit-defaults", ...args]);
      const [restore, protectRes, denied, upsert] = await Promise.all([
        curl([
          "-H",
          `x-auth-token: ${token}`,
          "-d",
          restoreBody,
          `${ts.httpUrl}/csbs.v1.ResourceService/CheckRestorable`,
        ]),
        curl([
          "-H",
          `x-auth-token: ${token}`,
          "-d",
          protectBody,
          `${ts.httpUrl}/csbs.v1.ResourceService/CheckProtectable`,
        ]),
        curl(["-d", protectBody, `${ts.httpUrl}/csbs.v1.ResourceService/CheckProtectable`]),
        curl([
          "-H",
          `x-auth-token: ${adminToken}`,
          "-d",
          JSON.stringify({ project_id: demoCases.project_id }),
          `${ts.httpUrl}/csbs.admin.v1.InventoryService/UpsertInventory`,
        ]),
      ]);
      expect(ok(restore)).toEqual(restoreAnswer);
      expect(ok(protectRes)).toEqual(protectAnswer);
      expect(denied.exitCode).not.toBe(0);
      expect(JSON.parse(denied.stderr)).toMatchObject({ code: "unauthenticated" });
      expect(ok(upsert)).toEqual({ checkpointItems: 0, servers: 0, volumes: 0 });
    },
  );
});
