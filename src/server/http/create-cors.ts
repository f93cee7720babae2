import { cors as connectCors } from "@connectrpc/connect";
import cors from "cors";
import type { RequestHandler } from "express";
import { AUTH_HEADER, REQUEST_ID_HEADER } from "../../service/call-guard.js";

/**
 * CORS for browsers calling the HTTP port (Connect, gRPC-Web, the REST path), with the
 * header lists connect-es publishes for its protocols plus the REST ones: preflights
 * (OPTIONS) are answered 204, and responses expose `X-Request-Id` and the gRPC-Web status
 * headers. `origins` is a list of exact origins, or `["*"]` for any. No cookies are used
 * (the token is a header), so credentials are not allowed.
 */
export function createCors(origins: readonly string[]): RequestHandler {
  return cors({
    origin: origins.includes("*") ? "*" : [...origins],
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [...connectCors.allowedHeaders, AUTH_HEADER, REQUEST_ID_HEADER],
    exposedHeaders: [...connectCors.exposedHeaders, REQUEST_ID_HEADER],
    maxAge: 7200,
  });
}
