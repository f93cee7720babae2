import type { ErrorRequestHandler, Response } from "express";
import type { Logger } from "pino";
import { csbsError, type ErrorKind, viewError } from "../../service/csbs-error.js";

/** Writes the flat CSBS error body `{error_code, error_msg, request_id}` with its HTTP status. */
export function sendError(res: Response, error: unknown): void {
  const view = viewError(error);
  const requestId = String(res.locals.requestId ?? "");
  res.locals.errorCode = view.errorCode;
  res.locals.code = view.code;
  res.status(view.http).json({ error_code: view.errorCode, error_msg: view.errorMsg, request_id: requestId });
}

/** body-parser and router failures, by their `type`. */
function kindOfHttpError(error: { type?: unknown; status?: unknown }): ErrorKind | undefined {
  switch (error.type) {
    case "entity.too.large":
      return "payload_too_large";
    case "encoding.unsupported":
    case "charset.unsupported":
      return "unsupported_media_type";
  }
  return typeof error.status === "number" && error.status >= 400 && error.status < 500 ? "invalid_argument" : undefined;
}

/** The field a body-parser or router failure is about: the path (bad percent-encoding) or the body. */
function httpErrorMessage(kind: ErrorKind, error: Error): string {
  if (kind === "payload_too_large") return "body: request body is too large";
  if (error instanceof URIError || /^Failed to decode param/.test(error.message)) return `path: ${error.message}`;
  return `body: ${error.message}`;
}

/**
 * The terminal error handler: every failure becomes a flat CSBS error body. Never an HTML
 * page, never a stack trace; if writing the error itself fails, a hard-coded 500 body.
 */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    try {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const kind = typeof error === "object" && error !== null ? kindOfHttpError(error) : undefined;
      if (kind) {
        sendError(res, csbsError(kind, httpErrorMessage(kind, error as Error)));
      } else {
        sendError(res, error);
      }
    } catch (failure) {
      logger.error({ err: failure, request_id: res.locals.requestId }, "error handler failed");
      res
        .status(500)
        .type("application/json")
        .send('{"error_code":"CSBS.9999","error_msg":"check resource failed","request_id":""}');
    }
  };
}
