import { create, type DescMessage, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ContextKey } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { ErrorInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../../gen/google/rpc/status_pb.js";
import type { Principal } from "../../auth/principal.js";
import { createCallCancellation } from "../../service/call-cancellation.js";
import { type CallContext, REQUEST_ID_HEADER, VERIFIED_TOKEN } from "../../service/call-guard.js";
import { csbsError, withRequestId } from "../../service/csbs-error.js";
import { requestIdOf } from "../http/request-id.js";
import type { MessageTimeout } from "./message-timeout.js";

let cancelled: ConnectError | undefined;
/**
 * The reason of a call the client cancelled: one error for every call, made on first use, not
 * at start-up (a ConnectError's metadata is a fetch `Headers`, whose first use loads undici).
 */
const callCancelled = () => {
  cancelled ??= new ConnectError("the call was cancelled", Code.Canceled);
  return cancelled;
};

type UnaryImpl = (request: unknown, ctx: CallContext) => unknown;

/** A service implementation to host on a grpc-js Server: its methods read only their CallContext (GuardedServiceImpl). */
export interface HostedService {
  desc: DescService;
  impl: object;
}

/** One finished call, for logs and metrics. */
export interface GrpcCallRecord {
  method: string;
  code: number;
  seconds: number;
  requestId: string;
  projectId: string | undefined;
  error: unknown;
}

export interface GrpcHostOptions {
  onFinished?: (record: GrpcCallRecord) => void;
  /**
   * Verifies a call's token from its metadata before its message is read (the call guard's
   * `verifyFirst`: admitted and within the deadline): a refused call is answered by the
   * guard at once, its message never decoded; an accepted one hands the outcome to the
   * guard (`VERIFIED_TOKEN`).
   */
  verifyFirst?: (ctx: CallContext) => Promise<Principal>;
  /**
   * The port's message timeout, kept by the handlers themselves (they run when the headers
   * arrive): one timer per call, and the port's interceptor lets these methods through unwrapped.
   */
  messageTimeout?: MessageTimeout;
}

/**
 * Hosts connect-es ServiceImpls (GuardedServiceImpl) on a `@grpc/grpc-js` Server: protobuf-es
 * binary codecs, a CallContext read from the call (metadata, deadline, cancellation), and every
 * ConnectError sent as a gRPC status with `grpc-status-details-bin` (a google.rpc.Status
 * carrying the ErrorInfo), as connect-node would.
 */
export function addConnectService(server: grpc.Server, hosted: HostedService, options: GrpcHostOptions = {}): void {
  const { onFinished, verifyFirst, messageTimeout } = options;
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of hosted.desc.methods) {
    if (method.methodKind !== "unary") throw new Error(`add-connect-service: ${method.name} is not unary`);
    const impl = (hosted.impl as Record<string, unknown>)[method.localName] as UnaryImpl | undefined;
    if (!impl) throw new Error(`add-connect-service: ${hosted.desc.typeName}.${method.name} is not implemented`);
    const path = `/${hosted.desc.typeName}/${method.name}`;
    messageTimeout?.own(path);
    definition[method.name] = {
      path,
      requestStream: true,
      responseStream: false,
      originalName: method.localName,
      requestSerialize: (m: unknown) => Buffer.from(toBinary(method.input, m as never)),
      // Decoded in the handler, so a malformed message is INVALID_ARGUMENT, not INTERNAL.
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (m: unknown) => Buffer.from(toBinary(method.output, m as never)),
      responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
    };
    // Registered as client-streaming (the same wire format as unary), so the handler runs when
    // the headers arrive: the token is verified before the message is read or decoded.
    handlers[method.name] = (
      call: grpc.ServerReadableStream<Buffer, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const start = performance.now();
      // The message timeout: cleared once the message, the half-close, an error or a cancellation
      // arrives, or the call ends. An expired call is answered and reported as any failed call,
      // trailers only (no response headers first): its stream is reset right after the status.
      const timer = messageTimeout?.arm(call, (error) => finish(error, undefined, false));
      const requestId = requestIdOf(call.metadata.get(REQUEST_ID_HEADER)[0]?.toString());
      let projectId: string | undefined;
      let finished = false;
      const finish = (error: unknown, response?: unknown, headers = true) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        call.off("cancelled", onCancelled);
        // The request id goes back in the response headers, and in the ErrorInfo of a failure.
        if (headers) {
          const header = new grpc.Metadata();
          header.set(REQUEST_ID_HEADER, requestId);
          call.sendMetadata(header);
        }
        if (error === null) callback(null, response);
        else callback(toServiceError(withRequestId(error, requestId)));
        onFinished?.({
          method: method.name,
          code: error === null ? 0 : ConnectError.from(error).code,
          seconds: (performance.now() - start) / 1000,
          requestId,
          projectId,
          error: error ?? undefined,
        });
      };
      // What grpc-js answers a unary method that gets no message, or a second one.
      const unimplemented = (what: string) =>
        new ConnectError(`Received ${what} request message for server streaming method ${path}`, Code.Unimplemented);
      const message = new Promise<Buffer>((resolve, reject) => {
        let received: Buffer | undefined;
        call.on("data", (chunk: Buffer) => {
          if (received === undefined) {
            received = chunk;
            clearTimeout(timer);
          } else reject(unimplemented("a second"));
        });
        call.once("end", () => {
          clearTimeout(timer);
          if (received === undefined) reject(unimplemented("no"));
          else resolve(received);
        });
        call.once("error", (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        });
      });
      // Never left unhandled: a refused call may not wait for its message.
      message.catch(() => {});
      const timeoutMs = () => {
        const deadline = call.getDeadline();
        const ms = deadline instanceof Date ? deadline.getTime() : deadline;
        return Number.isFinite(ms) ? Math.max(0, ms - Date.now()) : undefined;
      };
      // What the guard reads of the call (CallContext), no more: no Headers, no linked signals.
      // The deadline is the guard's (one timer, from timeoutMs); the signal aborts when the
      // client cancels, also while the token is being verified. (grpc-js also emits "cancelled"
      // after every finished call, so the listener is removed when the call ends.)
      const cancellation = createCallCancellation();
      const onCancelled = () => {
        clearTimeout(timer);
        cancellation.cancel(callCancelled());
      };
      call.once("cancelled", onCancelled);
      const requestHeader = {
        get: (name: string) =>
          name === REQUEST_ID_HEADER ? requestId : (call.metadata.get(name)[0]?.toString() ?? null),
      };
      const verified = verifyFirst?.({ requestHeader, signal: cancellation.signal, timeoutMs });
      // The guard answers a refused token (401, or 503 first when overloaded) without the message.
      const refuse = () => run(create(method.input));
      const decodeAndRun = (bytes: Buffer) => {
        let request: unknown;
        try {
          request = fromBinary(method.input, bytes);
          projectId = (request as { projectId?: string }).projectId;
        } catch (error) {
          finish(
            csbsError(
              "invalid_argument",
              `request: cannot decode ${method.input.typeName} (${(error as Error).message})`,
            ),
          );
          return;
        }
        run(request);
      };
      const run = (request: unknown) => {
        const ctx: CallContext = {
          requestHeader,
          signal: cancellation.signal,
          timeoutMs,
          ...(verified ? { values: verifiedValues(verified) } : {}),
        };
        let result: Promise<unknown>;
        try {
          result = Promise.resolve(impl(request, ctx));
        } catch (error) {
          result = Promise.reject(error);
        }
        result.then(
          (res) => finish(null, create(method.output as DescMessage, res as never)),
          (error: unknown) => finish(error),
        );
      };
      const proceed = () => message.then(decodeAndRun, (error: unknown) => finish(error));
      if (verified === undefined) proceed();
      else verified.then(proceed, refuse);
    };
  }
  server.addService(definition as grpc.ServiceDefinition, handlers);
}

/** The context values of a call whose token was verified before its message: VERIFIED_TOKEN only. */
function verifiedValues(verified: Promise<Principal>): CallContext["values"] {
  return {
    get: <T>(key: ContextKey<T>): T => (key.id === VERIFIED_TOKEN.id ? (verified as T) : key.defaultValue),
  };
}

/** A ConnectError as a grpc-js status, with the google.rpc.Status details in the trailers. */
function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  const err = ConnectError.from(error);
  const metadata = new grpc.Metadata();
  const details = err.findDetails(ErrorInfoSchema).map((info) => anyPack(ErrorInfoSchema, info));
  if (details.length > 0) {
    const status = create(StatusSchema, { code: err.code, message: err.rawMessage, details });
    metadata.set("grpc-status-details-bin", Buffer.from(toBinary(StatusSchema, status)));
  }
  return { code: err.code as number, details: err.rawMessage, metadata };
}
