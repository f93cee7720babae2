import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckRestorableRequestSchema, CheckRestorableResponseSchema } from "../gen/csbs/v1/resource_service_pb.js";
import { demoCases } from "./support/demo-cases.js";
import { restoreMessage } from "./support/demo-requests.js";
import { callUnary, createGrpcClient, errorInfoOf } from "./support/grpc-client.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const PATH = "/csbs.v1.ResourceService/CheckRestorable";
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

describe("CheckRestorable over gRPC (grpc-js client)", () => {
  it.each(demoCases.restore)("$name", async (c) => {
    const res = await callUnary(
      client,
      PATH,
      CheckRestorableRequestSchema,
      CheckRestorableResponseSchema,
      restoreMessage([c.request]),
      { token },
    );
    expect(res.restorable).toHaveLength(1);
    const [r] = res.restorable;
    expect({ result: r!.result, error_code: r!.errorCode, error_msg: r!.errorMsg }).toEqual(c.expected);
    expect(r!.resourceId).toBe(c.request.target.resource_id);
    expect(r!.resourceType).toBe(c.request.target.resource_type);
  });

  it("a malformed request is INVALID_ARGUMENT with an ErrorInfo CSBS.9001 naming the field", async () => {
    const req = restoreMessage([demoCases.restore[0]!.request]);
    req.checkRestorable[0]!.target.volumes[0]!.volumeId = "not-a-uuid";
    const err = await callUnary(client, PATH, CheckRestorableRequestSchema, CheckRestorableResponseSchema, req, {
      token,
    }).catch((e: unknown) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((err as grpc.ServiceError).details).toBe("check_restorable[0].target.volumes[0].volume_id: must be a UUID");
    expect(errorInfoOf(err)?.reason).toBe("CSBS.9001");
  });

  it("a 100-entry batch returns 100 results in request order", async () => {
    const entries = Array.from({ length: 100 }, (_, i) => demoCases.restore[i % demoCases.restore.length]!);
    const res = await callUnary(
      client,
      PATH,
      CheckRestorableRequestSchema,
      CheckRestorableResponseSchema,
      restoreMessage(entries.map((e) => e.request)),
      { token },
    );
    expect(res.restorable.map((r) => [r.resourceId, r.errorCode])).toEqual(
      entries.map((e) => [e.request.target.resource_id, e.expected.error_code]),
    );
  });
});

describe("deadlines", () => {
  const request = () => restoreMessage(demoCases.restore.map((c) => c.request));

  it.each([
    ["an already-expired deadline", -1000],
    ["a 1 ms deadline", 1],
  ])("%s gets DEADLINE_EXCEEDED, not a hang", async (_name, offsetMs) => {
    const deadline = new Date(Date.now() + offsetMs);
    const err = await new Promise<grpc.ServiceError | null>((resolve) => {
      const md = new grpc.Metadata();
      md.set("x-auth-token", token);
      client.makeUnaryRequest(
        PATH,
        (m: unknown) => Buffer.from(toBinary(CheckRestorableRequestSchema, m as never)),
        (b: Buffer) => b,
        create(CheckRestorableRequestSchema, request()),
        md,
        { deadline },
        (e) => resolve(e),
      );
    });
    expect(err?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
  });

  it("the server keeps answering after calls that ran out of time", async () => {
    const res = await callUnary(client, PATH, CheckRestorableRequestSchema, CheckRestorableResponseSchema, request(), {
      token,
      deadlineMs: 10_000,
    });
    expect(res.restorable).toHaveLength(demoCases.restore.length);
  });
});
