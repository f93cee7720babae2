import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";

/** A plain @grpc/grpc-js client, as internal callers use, with protobuf-es codecs. */
export function createGrpcClient(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure());
}

export interface UnaryOptions {
  token?: string;
  metadata?: Record<string, string>;
  deadlineMs?: number;
}

export function callUnary<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  path: string,
  input: I,
  output: O,
  request: MessageInitShape<I>,
  options: UnaryOptions = {},
): Promise<MessageShape<O>> {
  const md = new grpc.Metadata();
  if (options.token) md.set("x-auth-token", options.token);
  for (const [k, v] of Object.entries(options.metadata ?? {})) md.set(k, v);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (m: MessageShape<I>) => Buffer.from(toBinary(input, m)),
      (b: Buffer) => fromBinary(output, b),
      create(input, request),
      md,
      options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {},
      (err, res) => (err ? reject(err) : resolve(res as MessageShape<O>)),
    );
  });
}

/** The ErrorInfo reason in a gRPC error's `grpc-status-details-bin` trailer. */
export function errorInfoOf(err: unknown): { reason: string; domain: string } | undefined {
  const md = (err as grpc.ServiceError).metadata;
  const bin = md?.get("grpc-status-details-bin")[0];
  if (!bin) return undefined;
  const status = fromBinary(StatusSchema, bin as Buffer);
  for (const any of status.details) {
    const info = anyUnpack(any, ErrorInfoSchema);
    if (info) return { reason: info.reason, domain: info.domain };
  }
  return undefined;
}
