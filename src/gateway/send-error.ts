import type { ErrorRequestHandler, Response } from "express";
import type { Logger } from "pino";
import { csbsError, type ErrorKind, viewError } from "../service/csbs-error.js";

/** Writes the flat CSBS error body `{error_code, error_msg, request_id}` with its HTTP status. */
export function sendError(res: Response, error: unknown): void {
  const view = viewError(error);
  const requestId = String(res.locals.requestId ?? "");
  res.locals.errorCode = view.errorCode;
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
        sendError(
          res,
          csbsError(
            kind,
            kind === "payload_too_large" ? "body: request body is too large" : `body: ${(error as Error).message}`,
          ),
        );
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
