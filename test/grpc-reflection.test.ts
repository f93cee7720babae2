import {
  type DescMethod,
  type DescService,
  fromBinary,
  fromJson,
  type JsonValue,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoCases } from "./support/demo-cases.js";
import { errorInfoOf } from "./support/grpc-client.js";
import { createHealthClient, ReflectionClient } from "./support/reflection-client.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

/**
 * What grpcurl does against the gRPC port: server reflection (v1 and v1alpha) to list the
 * services and fetch their file descriptors, a request built from those descriptors and a
 * JSON body (`grpcurl -d '{…}'`), the call with `x-auth-token` metadata, the response
 * decoded with the reflected descriptor; and grpc.health.v1 Check.
 */

const SERVICE = "csbs.v1.ResourceService";
let ts: TestServer;
let reflection: ReflectionClient;
let raw: grpc.Client;
let token: string;

beforeAll(async () => {
  ts = await startTestServer();
  reflection = new ReflectionClient(ts.grpcAddress, "v1");
  raw = new grpc.Client(ts.grpcAddress, grpc.credentials.createInsecure());
  token = await ts.token();
});
afterAll(async () => {
  reflection?.close();
  raw?.close();
  await ts?.close();
});

/** Invokes a unary method with bytes in and bytes out, as a dynamic client does. */
function invoke(method: DescMethod, body: Uint8Array, metadata: Record<string, string>): Promise<Uint8Array> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve, reject) =>
    raw.makeUnaryRequest(
      `/${method.parent.typeName}/${method.name}`,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => new Uint8Array(b),
      body,
      md,
      (err, res) => (err ? reject(err) : resolve(res!)),
    ),
  );
}

/** `grpcurl -plaintext -H 'x-auth-token: …' -d JSON ADDRESS SERVICE/METHOD`, with reflected descriptors. */
async function grpcurl(
  methodName: string,
  json: JsonValue,
  metadata: Record<string, string> = { "x-auth-token": token },
) {
  const registry = await reflection.registryFor(SERVICE);
  const service = registry.getService(SERVICE) as DescService;
  const method = service.methods.find((m) => m.name === methodName)!;
  const request = fromJson(method.input, json);
  const response = fromBinary(method.output, await invoke(method, toBinary(method.input, request), metadata));
  return toJson(method.output, response, { useProtoFieldName: true, alwaysEmitImplicit: true });
}

describe("server reflection v1 (grpcurl list / describe)", () => {
  it("list_services lists every hosted service, health and reflection itself", async () => {
    expect(await reflection.listServices()).toEqual([
      SERVICE,
      "csbs.admin.v1.InventoryService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
  });

  it("grpc.health.v1.Health is described by its canonical file, with the map entry as protoc names it", async () => {
    const files = await reflection.files({ file_containing_symbol: "grpc.health.v1.Health" });
    expect(files[0]!.name).toBe("grpc/health/v1/health.proto");
    const list = files[0]!.messageType.find((m) => m.name === "HealthListResponse")!;
    expect(list.nestedType.map((m) => m.name)).toEqual(["StatusesEntry"]);
    expect(list.field[0]!.typeName).toBe(".grpc.health.v1.HealthListResponse.StatusesEntry");
  });

  it("file_containing_symbol answers for methods, fields and enum values too", async () => {
    for (const symbol of [
      `${SERVICE}.CheckRestorable`,
      "csbs.v1.CheckRestorableRequest.project_id",
      "grpc.health.v1.HealthCheckResponse.SERVING",
    ]) {
      const files = await reflection.files({ file_containing_symbol: symbol });
      expect(files[0]!.name, symbol).toMatch(/^(csbs\/v1\/resource_service|grpc\/health\/v1\/health)\.proto$/);
    }
  });

  it("file_containing_extension and all_extension_numbers_of_type (google.api.http)", async () => {
    const files = await reflection.files({
      file_containing_extension: { containing_type: "google.protobuf.MethodOptions", extension_number: 72295728 },
    });
    expect(files[0]!.name).toBe("google/api/annotations.proto");
    const res = await reflection.request({ all_extension_numbers_of_type: "google.protobuf.MethodOptions" });
    expect(res).toMatchObject({ all_extension_numbers_response: { extension_number: [72295728] } });
  });

  it("file_containing_symbol returns the service's file and its imports", async () => {
    const files = await reflection.files({ file_containing_symbol: SERVICE });
    const names = files.map((f) => f.name);
    expect(names).toContain("csbs/v1/resource_service.proto");
    const own = files.find((f) => f.name === "csbs/v1/resource_service.proto")!;
    expect(own.package).toBe("csbs.v1");
    expect(own.service.map((s) => s.name)).toEqual(["ResourceService"]);
    expect(own.service[0]!.method.map((m) => m.name)).toEqual(["CheckRestorable", "CheckProtectable"]);
    // The compiler's descriptor, not a re-encoding: qualified names, json_name, all imports.
    expect(own.service[0]!.method[0]!.inputType).toBe(".csbs.v1.CheckRestorableRequest");
    expect(own.dependency).toContain("google/api/annotations.proto");
    expect(own.messageType.find((m) => m.name === "RestorableParam")!.field[0]!.jsonName).toBe("checkpointItemId");
  });

  it("the reflected descriptors describe the messages with the JSON's snake_case fields", async () => {
    const registry = await reflection.registryFor(SERVICE);
    const fields = (name: string) => registry.getMessage(`csbs.v1.${name}`)?.fields.map((f) => f.name);
    expect(fields("CheckRestorableRequest")).toEqual(["project_id", "provider_id", "check_restorable", "explain"]);
    expect(fields("RestorableParam")).toEqual(["checkpoint_item_id", "target"]);
    expect(fields("RestorableTarget")).toEqual(["resource_id", "resource_type", "volumes"]);
    expect(fields("RestoreVolumeMapping")).toEqual(["backup_id", "volume_id"]);
    expect(fields("CheckRestorableResponse")).toEqual(["restorable"]);
    expect(fields("CheckResp")).toEqual([
      "result",
      "resource_type",
      "error_code",
      "error_msg",
      "resource_id",
      "failures",
      "suggested_volumes",
    ]);
    expect(fields("RuleFailure")).toEqual(["rule", "error_code", "error_msg"]);
    expect(fields("CheckProtectableRequest")).toEqual(["project_id", "provider_id", "check_protectable", "explain"]);
    expect(fields("ProtectableParam")).toEqual(["resource_id", "resource_type"]);
  });

  it("file_by_filename answers for an imported file", async () => {
    const files = await reflection.files({ file_by_filename: "google/api/annotations.proto" });
    expect(files[0]?.name).toBe("google/api/annotations.proto");
  });

  it("an unknown symbol is an error response, not a broken stream", async () => {
    const res = await reflection.request({ file_containing_symbol: "csbs.v1.NoSuchService" });
    expect(res.message_response).toBe("error_response");
    expect(res.error_response?.error_code).toBe(grpc.status.NOT_FOUND);
    expect(await reflection.listServices()).toContain(SERVICE);
  });
});

describe("calling through the reflected descriptors (grpcurl -d)", () => {
  const sample = demoCases.restore[0]!;
  const failing = demoCases.restore.find((c) => c.rule === 18)!;

  it("CheckRestorable with the seed sample and a failing entry", async () => {
    const res = await grpcurl("CheckRestorable", {
      project_id: demoCases.project_id,
      provider_id: demoCases.provider_id,
      check_restorable: [sample.request, failing.request],
    });
    expect(res).toEqual({
      restorable: [sample, failing].map((c) => ({
        result: c.expected.result,
        resource_type: c.request.target.resource_type,
        error_code: c.expected.error_code,
        error_msg: c.expected.error_msg,
        resource_id: c.request.target.resource_id,
        failures: [],
        suggested_volumes: [],
      })),
    });
  });

  it("CheckRestorable with explain: every failing rule and the suggested mapping", async () => {
    const c = demoCases.explain.restore[0]!;
    const res = await grpcurl("CheckRestorable", {
      project_id: demoCases.project_id,
      provider_id: demoCases.provider_id,
      check_restorable: [c.request],
      explain: true,
    });
    expect(res).toEqual({
      restorable: [
        {
          ...c.expected,
          resource_type: c.request.target.resource_type,
          resource_id: c.request.target.resource_id,
        },
      ],
    });
  });

  it("CheckProtectable, with lowerCamelCase JSON names as grpcurl also accepts", async () => {
    const cases = demoCases.protect.slice(0, 4);
    const res = await grpcurl("CheckProtectable", {
      projectId: demoCases.project_id,
      providerId: demoCases.provider_id,
      checkProtectable: cases.map((c) => ({
        resourceId: c.request.resource_id,
        resourceType: c.request.resource_type,
      })),
    });
    expect(res).toEqual({
      protectable: cases.map((c) => ({
        ...c.expected,
        resource_type: c.request.resource_type,
        resource_id: c.request.resource_id,
        failures: [],
        suggested_volumes: [],
      })),
    });
  });

  it("without the token: UNAUTHENTICATED with ErrorInfo APIGW.0301", async () => {
    const err = await grpcurl(
      "CheckRestorable",
      { project_id: demoCases.project_id, provider_id: demoCases.provider_id, check_restorable: [sample.request] },
      {},
    ).catch((e: unknown) => e as grpc.ServiceError);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((err as grpc.ServiceError).details).toContain("Incorrect IAM authentication information");
    expect(errorInfoOf(err)?.reason).toBe("APIGW.0301");
  });
});

describe("server reflection v1alpha (older grpcurl)", () => {
  it("list_services works and file_containing_symbol returns the file", async () => {
    const alpha = new ReflectionClient(ts.grpcAddress, "v1alpha");
    try {
      const services = await alpha.listServices();
      expect(services).toContain(SERVICE);
      expect(services).toContain("grpc.health.v1.Health");
      const files = await alpha.files({ file_containing_symbol: `${SERVICE}.CheckRestorable` });
      expect(files.map((f) => f.name)).toContain("csbs/v1/resource_service.proto");
    } finally {
      alpha.close();
    }
  });
});

describe("grpc.health.v1.Health", () => {
  it.each(["", SERVICE])("Check(%j) is SERVING, without a token", async (service) => {
    const health = createHealthClient(ts.grpcAddress, healthProtoPath);
    try {
      expect(await health.check(service)).toEqual({ status: "SERVING" });
    } finally {
      health.close();
    }
  });

  it("Check of an unknown service is NOT_FOUND", async () => {
    const health = createHealthClient(ts.grpcAddress, healthProtoPath);
    try {
      const err = await health.check("no.such.Service").catch((e: unknown) => e);
      expect((err as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    } finally {
      health.close();
    }
  });
});
