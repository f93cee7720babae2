import { create, type DescMessage, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { ConnectError, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";

type UnaryImpl = (request: unknown, ctx: HandlerContext) => unknown;

/** A connect-es service implementation to host on a grpc-js Server. */
export interface HostedService {
  desc: DescService;
  impl: Record<string, unknown>;
}

/**
 * Hosts connect-es ServiceImpls on a `@grpc/grpc-js` Server: protobuf-es binary codecs,
 * a HandlerContext built from the call (metadata, deadline, cancellation), and every
 * ConnectError sent as a gRPC status with `grpc-status-details-bin` (a google.rpc.Status
 * carrying the ErrorInfo), as connect-node would.
 */
export function addConnectService(server: grpc.Server, hosted: HostedService): void {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of hosted.desc.methods) {
    if (method.methodKind !== "unary") throw new Error(`grpc-host: ${method.name} is not unary`);
    const impl = hosted.impl[method.localName] as UnaryImpl | undefined;
    if (!impl) throw new Error(`grpc-host: ${hosted.desc.typeName}.${method.name} is not implemented`);
    const path = `/${hosted.desc.typeName}/${method.name}`;
    definition[method.name] = {
      path,
      requestStream: false,
      responseStream: false,
      originalName: method.localName,
      requestSerialize: (m: unknown) => Buffer.from(toBinary(method.input, m as never)),
      requestDeserialize: (b: Buffer) => fromBinary(method.input, b),
      responseSerialize: (m: unknown) => Buffer.from(toBinary(method.output, m as never)),
      responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
    };
    handlers[method.name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const abort = new AbortController();
      call.once("cancelled", () => abort.abort(new ConnectError("the call was cancelled", 1)));
      const deadline = call.getDeadline();
      const ms = deadline instanceof Date ? deadline.getTime() : deadline;
      const ctx = createHandlerContext({
        service: hosted.desc,
        method,
        protocolName: "grpc",
        requestMethod: "POST",
        url: path,
        requestSignal: abort.signal,
        requestHeader: headersOf(call.metadata),
        ...(Number.isFinite(ms) ? { timeoutMs: Math.max(0, ms - Date.now()) } : {}),
      });
      let result: Promise<unknown>;
      try {
        result = Promise.resolve(impl(call.request, ctx));
      } catch (error) {
        result = Promise.reject(error);
      }
      result.then(
        (res) => callback(null, create(method.output as DescMessage, res as never)),
        (error: unknown) => callback(toServiceError(error)),
      );
    };
  }
  server.addService(definition as grpc.ServiceDefinition, handlers);
}

function headersOf(metadata: grpc.Metadata): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (typeof value === "string") headers.set(key, value);
  }
  return headers;
}

/** A ConnectError as a grpc-js status, with the google.rpc.Status details in the trailers. */
export function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  const err = ConnectError.from(error);
  const metadata = new grpc.Metadata();
  const details = err.findDetails(ErrorInfoSchema).map((info) => anyPack(ErrorInfoSchema, info));
  if (details.length > 0) {
    const status = create(StatusSchema, { code: err.code, message: err.rawMessage, details });
    metadata.set("grpc-status-details-bin", Buffer.from(toBinary(StatusSchema, status)));
  }
  return { code: err.code as number, details: err.rawMessage, metadata };
}
