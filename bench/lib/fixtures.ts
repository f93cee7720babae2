/** Request bodies and canned answers shared by the bench servers and the orchestrator. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { create, fromJson, type JsonValue, toBinary, toJson } from "@bufbuild/protobuf";
import { CheckRestorableRequestSchema, CheckRestorableResponseSchema } from "../../gen/csbs/v1/resource_service_pb.js";
import type { RestoreEntryJson } from "./inventory.js";
import { ROOT } from "./paths.js";

export const REST_PATH = (projectId: string, providerId: string) =>
  `/v1/${projectId}/providers/${providerId}/resources/action`;
export const GRPC_PATH = "/csbs.v1.ResourceService/CheckRestorable";

export interface DemoCase {
  name: string;
  rule: number | null;
  request: RestoreEntryJson;
  expected: { result: boolean; error_code: string; error_msg: string };
}
interface DemoCases {
  project_id: string;
  provider_id: string;
  restore: DemoCase[];
}

export const DEMO_INVENTORY = join(ROOT, "data/demo-inventory.json");
const demo = JSON.parse(readFileSync(join(ROOT, "data/demo-cases.json"), "utf8")) as DemoCases;
export const DEMO_PROJECT = demo.project_id;
export const DEMO_PROVIDER = demo.provider_id;

function demoCase(name: string): DemoCase {
  const found = demo.restore.find((c) => c.name === name);
  if (!found) throw new Error(`data/demo-cases.json has no restore case "${name}"`);
  return found;
}
/** The restorable case and the failing case (the last rule: every rule runs). */
export const RESTORABLE = demoCase("restorable ECS");
export const FAILING = demoCase("rule 18: target volume too small");

/** The REST body of a list of entries. */
export function restBody(entries: RestoreEntryJson[]): string {
  return JSON.stringify({ check_restorable: entries });
}

/** The same request as a CheckRestorableRequest message (JSON with proto field names). */
export function requestJson(projectId: string, providerId: string, entries: RestoreEntryJson[]): JsonValue {
  return { project_id: projectId, provider_id: providerId, check_restorable: entries as unknown as JsonValue };
}

export function requestBinary(projectId: string, providerId: string, entries: RestoreEntryJson[]): Uint8Array {
  return toBinary(
    CheckRestorableRequestSchema,
    fromJson(CheckRestorableRequestSchema, requestJson(projectId, providerId, entries)),
  );
}

/** The service's answer for demo cases, as REST JSON and as protobuf bytes (what the ceilings return). */
export function cannedAnswer(cases: DemoCase[]): { json: string; binary: Uint8Array } {
  const message = create(CheckRestorableResponseSchema, {
    restorable: cases.map((c) => ({
      resourceId: c.request.target.resource_id,
      resourceType: c.request.target.resource_type,
      result: c.expected.result,
      errorCode: c.expected.error_code,
      errorMsg: c.expected.error_msg,
    })),
  });
  const json = JSON.stringify(
    toJson(CheckRestorableResponseSchema, message, { useProtoFieldName: true, alwaysEmitImplicit: true }),
  );
  return { json, binary: toBinary(CheckRestorableResponseSchema, message) };
}

/** A gRPC length-prefixed message frame (uncompressed). */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}
