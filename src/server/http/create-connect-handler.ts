import type { JsonWriteOptions } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createConnectRouter,
  createContextKey,
  createContextValues,
  type Interceptor,
} from "@connectrpc/connect";
import {
  createAsyncIterable,
  encodeEnvelope,
  readAllBytes,
  type UniversalHandler,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { setTrailerStatus, trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { ErrorInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import type { Principal } from "../../auth/principal.js";
import { type CallGuard, REQUEST_ID_HEADER, VERIFIED_TOKEN } from "../../service/call-guard.js";
import { csbsError, withRequestId } from "../../service/csbs-error.js";
import { sendError } from "./create-error-handler.js";

/** A failure connect-es answered before the interceptors ran (the call never reached the service). */
export interface EdgeFailure {
  protocol: "connect" | "grpc-web";
  /** The RPC's service and name. */
  service: string;
  method: string;
  /** The failure as sent (with its CSBS ErrorInfo). */
  error: ConnectError;
  seconds: number;
  requestId: string;
}

export interface ConnectHandlerOptions {
  routes: (router: ConnectRouter) => void;
  guard: CallGuard;
  readMaxBytes: number;
  maxTimeoutMs: number;
  interceptors: Interceptor[];
  /** Told of a call connect-es refused before the interceptors (malformed message, …). */
  onEdgeFailure: (failure: EdgeFailure) => void;
}

/** Set by the outermost interceptor: the call got past connect-es's reading and decoding. */
const REACHED = createContextKey<{ reached: boolean } | undefined>(undefined);

const reachedInterceptor: Interceptor = (next) => (req) => {
  const flag = req.contextValues.get(REACHED);
  if (flag) flag.reached = true;
  return next(req);
};

/** Same JSON as the gateway: snake_case, a `false` or "" never vanishes, unknown keys refused. */
const JSON_OPTIONS = { useProtoFieldName: true, alwaysEmitImplicit: true, ignoreUnknownFields: false } as const;
const JSON_WRITE: Partial<JsonWriteOptions> = { useProtoFieldName: true };

const EMPTY = new Uint8Array(0);
const EMPTY_JSON = new TextEncoder().encode("{}");

/**
 * A body standing for "no message" in the request's format (the empty message), given to
 * connect-es instead of the caller's body when the token was refused: the body is never
 * read, and the refusal still goes through the interceptors and the call guard, which
 * answer it in the protocol's own format. Undefined for a format connect-es refuses
 * before reading (415).
 */
function emptyMessageBody(contentType: string): Uint8Array | undefined {
  const type = contentType.split(";", 1)[0]!.trim().toLowerCase();
  switch (type) {
    case "application/json":
      return EMPTY_JSON;
    case "application/proto":
      return EMPTY;
    case "application/grpc-web":
    case "application/grpc-web+proto":
      return encodeEnvelope(0, EMPTY);
    case "application/grpc-web+json":
      return encodeEnvelope(0, EMPTY_JSON);
  }
  return undefined;
}

function isGrpcWeb(req: Request): boolean {
  return (req.get("content-type") ?? "").toLowerCase().startsWith("application/grpc-web");
}

/** Replaces the request's message by the empty one, so nothing the caller sent is read or decoded. */
function dropMessage(req: Request, res: Response): void {
  // The body is left unread: the connection closes after the answer.
  res.setHeader("Connection", "close");
  if (req.method === "GET") {
    req.url = `${req.path}?encoding=json&message=%7B%7D`;
    return;
  }
  const body = emptyMessageBody(req.get("content-type") ?? "");
  if (body === undefined) return;
  delete req.headers["content-length"];
  delete req.headers["content-encoding"];
  req.body = createAsyncIterable([body]);
}

/** The error in a response connect-es wrote itself (Connect JSON error, or gRPC-Web trailers). */
async function errorOf(uRes: UniversalServerResponse, grpcWeb: boolean): Promise<ConnectError | undefined> {
  if (uRes.body === undefined || !(Symbol.asyncIterator in uRes.body)) return undefined;
  const bytes = await readAllBytes(uRes.body as AsyncIterable<Uint8Array>, 64 * 1024);
  const fallback = new ConnectError("request failed", Code.Unknown);
  if (!grpcWeb) return errorFromJsonBytes(bytes, undefined, fallback);
  // A trailers-only answer: one envelope flagged as trailer.
  if (bytes.byteLength < 5 || (bytes[0]! & trailerFlag) !== trailerFlag) return fallback;
  return findTrailerError(trailerParse(bytes.subarray(5))) ?? fallback;
}

/** A failure of connect-es's own reading or decoding, as the CSBS error it stands for. */
function asCsbs(error: ConnectError): ConnectError {
  if (error.findDetails(ErrorInfoSchema).length > 0) return error;
  const message = error.rawMessage;
  // connect-es reports a protobuf it cannot decode as INTERNAL: it is the caller's bad input.
  if (error.code === Code.Internal && message.startsWith("parse binary:")) {
    return csbsError("invalid_argument", `body: malformed protobuf message (${message.slice(13).trim()})`);
  }
  if (error.code === Code.InvalidArgument) return csbsError("invalid_argument", `body: ${message}`);
  if (error.code === Code.ResourceExhausted) return csbsError("payload_too_large", `body: ${message}`);
  return error;
}

/** The CSBS error in the protocol's format: a Connect JSON error, or gRPC-Web trailers only. */
function errorResponse(error: ConnectError, grpcWeb: boolean, contentType: string): UniversalServerResponse {
  if (!grpcWeb) {
    return {
      status: codeToHttpStatus(error.code),
      header: new Headers({ "content-type": "application/json" }),
      body: createAsyncIterable([errorToJsonBytes(error, JSON_WRITE)]),
    };
  }
  const trailer = setTrailerStatus(new Headers(), error);
  return {
    status: 200,
    header: new Headers({ "content-type": contentType }),
    body: createAsyncIterable([encodeEnvelope(trailerFlag, trailerSerialize(trailer))]),
  };
}

/**
 * Connect and gRPC-Web on the HTTP port: connect-es's router for the ServiceImpls, hosted
 * like connect-express does, with two things around it:
 * - the token is verified from the headers before the body is read (docs/contract.md §2:
 *   the body of an unauthenticated caller is never parsed); a refused call is given the
 *   empty message instead, so the call guard answers it (once verified, the token is not
 *   verified again: the outcome travels in the `VERIFIED_TOKEN` context value);
 * - a call connect-es refuses before the interceptors (a malformed protobuf or JSON
 *   message, an unknown JSON field, a body over the limit) is answered with the CSBS error
 *   and its ErrorInfo (400 / INVALID_ARGUMENT, not 500 INTERNAL), and reported.
 */
export function createConnectHandler(options: ConnectHandlerOptions): RequestHandler {
  const router = createConnectRouter({
    readMaxBytes: options.readMaxBytes,
    maxTimeoutMs: options.maxTimeoutMs,
    jsonOptions: JSON_OPTIONS,
    acceptCompression: [compressionGzip, compressionBrotli],
    interceptors: [reachedInterceptor, ...options.interceptors],
  });
  options.routes(router);
  const paths = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));
  const { guard } = options;

  return (req: Request, res: Response, next: NextFunction) => {
    const handler = paths.get(req.path);
    // Connect and gRPC-Web use POST and GET only; other methods get the app's CSBS 404.
    if (handler === undefined || (req.method !== "POST" && req.method !== "GET")) return next();
    const start = performance.now();
    // The guard's first step, as on the gRPC port: admitted, within the server's deadline.
    const verified: Promise<Principal> = guard.verifyFirst({
      requestHeader: { get: (name) => req.get(name) ?? null },
      timeoutMs: () => undefined,
    });
    void serve(handler, req, res, verified, start).catch(next);
  };

  async function serve(
    handler: UniversalHandler,
    req: Request,
    res: Response,
    verified: Promise<Principal>,
    start: number,
  ): Promise<void> {
    const refused = await verified.then(
      () => false,
      () => true,
    );
    if (refused) dropMessage(req, res);
    const reached = { reached: false };
    const values = createContextValues().set(VERIFIED_TOKEN, verified).set(REACHED, reached);
    const uReq = universalRequestFromNodeRequest(req, res, req.body ?? undefined, values);
    let uRes: UniversalServerResponse;
    try {
      uRes = await handler(uReq);
    } catch (reason) {
      if (ConnectError.from(reason).code === Code.Aborted) return;
      throw reason;
    }
    if (!reached.reached) {
      if (uRes.status === 415 || uRes.status === 405) {
        // No protocol to answer in: the flat CSBS body (and counted as REST would be).
        const error =
          uRes.status === 415
            ? csbsError("unsupported_media_type", "Content-Type: not a Connect or gRPC-Web content type")
            : csbsError("not_found", "The API does not exist or has not been published: method not allowed");
        sendError(res, error);
        report(handler, req, error, start);
        return;
      }
      const grpcWeb = isGrpcWeb(req);
      const found = await errorOf(uRes, grpcWeb);
      if (found !== undefined) {
        const error = withRequestId(asCsbs(found), String(req.headers[REQUEST_ID_HEADER] ?? ""));
        uRes = errorResponse(error, grpcWeb, req.get("content-type") ?? "application/grpc-web+proto");
        report(handler, req, error, start);
      }
    }
    await universalResponseToNodeResponse(uRes, res);
  }

  function report(handler: UniversalHandler, req: Request, error: ConnectError, start: number) {
    options.onEdgeFailure({
      protocol: isGrpcWeb(req) ? "grpc-web" : "connect",
      service: handler.service.typeName,
      method: handler.method.name,
      error,
      seconds: (performance.now() - start) / 1000,
      requestId: String(req.headers[REQUEST_ID_HEADER] ?? ""),
    });
  }
}
