import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";

/** Every kind of whole-request failure, with its gRPC code, CSBS/APIGW code and HTTP status. */
const ERROR_KINDS = {
  invalid_argument: { code: Code.InvalidArgument, reason: "CSBS.9001", http: 400 },
  unauthenticated: { code: Code.Unauthenticated, reason: "APIGW.0301", http: 401 },
  permission_denied: { code: Code.PermissionDenied, reason: "APIGW.0302", http: 403 },
  not_found: { code: Code.NotFound, reason: "APIGW.0101", http: 404 },
  payload_too_large: { code: Code.ResourceExhausted, reason: "CSBS.9001", http: 413 },
  unsupported_media_type: { code: Code.InvalidArgument, reason: "CSBS.9001", http: 415 },
  internal: { code: Code.Internal, reason: "CSBS.9999", http: 500 },
  unavailable: { code: Code.Unavailable, reason: "CSBS.9998", http: 503 },
  overloaded: { code: Code.ResourceExhausted, reason: "CSBS.9998", http: 503 },
  deadline_exceeded: { code: Code.DeadlineExceeded, reason: "CSBS.9998", http: 503 },
} as const;

export type ErrorKind = keyof typeof ERROR_KINDS;

const ERROR_DOMAIN = "csbs.restorability";

/** A whole-request failure as a ConnectError carrying a google.rpc.ErrorInfo with the CSBS code. */
export function csbsError(kind: ErrorKind, message: string, cause?: unknown): ConnectError {
  const { code, reason } = ERROR_KINDS[kind];
  const info = create(ErrorInfoSchema, { reason, domain: ERROR_DOMAIN, metadata: { kind } });
  return new ConnectError(message, code, undefined, [{ desc: ErrorInfoSchema, value: info }], cause);
}

/** The flat CSBS error of a failure: HTTP status, error code, message. */
export interface CsbsErrorView {
  http: number;
  code: Code;
  errorCode: string;
  errorMsg: string;
}

/** Reads any error back as the CSBS error it stands for (unknown errors are 500 CSBS.9999). */
export function viewError(error: unknown): CsbsErrorView {
  const err = ConnectError.from(error);
  const info = err.findDetails(ErrorInfoSchema)[0];
  const kind = info?.metadata.kind;
  if (kind !== undefined && kind in ERROR_KINDS) {
    const k = ERROR_KINDS[kind as ErrorKind];
    return { http: k.http, code: k.code, errorCode: info!.reason, errorMsg: err.rawMessage };
  }
  const http = httpStatusOf(err.code);
  const errorCode = info?.reason ?? (http === 503 ? "CSBS.9998" : http === 500 ? "CSBS.9999" : "CSBS.9001");
  const errorMsg = http === 500 ? "check resource failed" : err.rawMessage;
  return { http, code: err.code, errorCode, errorMsg };
}

/** The HTTP status of a gRPC code without a CSBS kind (only the statuses docs/contract.md §2 documents). */
function httpStatusOf(code: Code): number {
  switch (code) {
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.OutOfRange:
      return 400;
    case Code.Unauthenticated:
      return 401;
    case Code.PermissionDenied:
      return 403;
    case Code.NotFound:
      return 404;
    case Code.AlreadyExists:
    case Code.Aborted:
      return 409;
    case Code.Canceled:
    case Code.DeadlineExceeded:
    case Code.ResourceExhausted:
    case Code.Unavailable:
      return 503;
    case Code.Unimplemented:
      return 501;
    case Code.Unknown:
    case Code.Internal:
    case Code.DataLoss:
      return 500;
  }
}

/**
 * The failure as sent to a gRPC, Connect or gRPC-Web caller: its ErrorInfo (the CSBS one, or
 * one made from `viewError` for a failure without) also carries the call's request id, as
 * metadata `request_id`, like the REST error body's `request_id`.
 */
export function withRequestId(error: unknown, requestId: string): ConnectError {
  const err = ConnectError.from(error);
  const found = err.findDetails(ErrorInfoSchema)[0];
  const info = create(ErrorInfoSchema, {
    reason: found?.reason ?? viewError(err).errorCode,
    domain: found?.domain ?? ERROR_DOMAIN,
    metadata: { ...found?.metadata, request_id: requestId },
  });
  // Other details this service attached (it receives none from elsewhere) are kept.
  const others = err.details.flatMap((d) => ("desc" in d && d.desc.typeName !== ErrorInfoSchema.typeName ? [d] : []));
  return new ConnectError(
    err.rawMessage,
    err.code,
    err.metadata,
    [{ desc: ErrorInfoSchema, value: info }, ...others],
    err.cause,
  );
}
