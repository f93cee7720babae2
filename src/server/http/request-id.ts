import { randomUUID } from "node:crypto";
import type { Interceptor } from "@connectrpc/connect";
import type { Request, Response } from "express";
import { REQUEST_ID_HEADER } from "../../service/call-guard.js";
import { withRequestId } from "../../service/csbs-error.js";

const MAX_LENGTH = 128;
const PRINTABLE = /^[\x21-\x7e]+$/;

/**
 * The one request id of a call, on every protocol: the caller's `x-request-id` when it is
 * 1-128 printable ASCII characters, else a new UUID. A longer or unprintable value is never
 * used, echoed or logged.
 */
export function requestIdOf(header: string | null | undefined): string {
  return header != null && header.length <= MAX_LENGTH && PRINTABLE.test(header) ? header : randomUUID();
}

/**
 * HTTP port (REST, Connect, gRPC-Web, probes): decides the request id, puts it back on the
 * request (so Connect handlers, the call guard and the logs read the same value), in
 * `res.locals.requestId` (REST error bodies) and in the `X-Request-Id` response header; the
 * id, for the caller (the HTTP edge middleware).
 */
export function assignRequestId(req: Request, res: Response): string {
  const id = requestIdOf(req.get(REQUEST_ID_HEADER));
  req.headers[REQUEST_ID_HEADER] = id;
  res.locals.requestId = id;
  res.setHeader("X-Request-Id", id);
  return id;
}

/** Connect and gRPC-Web: a failure's ErrorInfo carries the request id (metadata `request_id`). */
export const requestIdInterceptor: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (error) {
    throw withRequestId(error, req.header.get(REQUEST_ID_HEADER) ?? "");
  }
};
