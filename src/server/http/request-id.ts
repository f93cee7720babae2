import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";

const PRINTABLE = /^[\x21-\x7e]{1,128}$/;

/** The request id of a response: the caller's when printable and at most 128 characters, else a new one. */
export function requestIdOf(header: string | undefined): string {
  return header !== undefined && PRINTABLE.test(header) ? header : randomUUID();
}

/** Sets `res.locals.requestId` and the `X-Request-Id` response header on every response. */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const id = requestIdOf(req.get("x-request-id"));
  res.locals.requestId = id;
  res.setHeader("X-Request-Id", id);
  next();
}
