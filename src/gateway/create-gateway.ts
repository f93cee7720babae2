import type { DescMessage, DescMethodUnary } from "@bufbuild/protobuf";
import { create, toJson } from "@bufbuild/protobuf";
import { createHandlerContext, type ServiceImpl } from "@connectrpc/connect";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { ResourceService } from "../../gen/csbs/v1/resource_service_pb.js";
import { AUTH_HEADER, CALL_ENDED, type CallGuard, REQUEST_ID_HEADER } from "../service/call-guard.js";
import { csbsError } from "../service/csbs-error.js";
import { decodeJson, JsonShapeError } from "./decode-json.js";
import { sendError } from "./send-error.js";

export const ACTION_PATH = "/v1/:project_id/providers/:provider_id/resources/action";

export interface GatewayOptions {
  service: ServiceImpl<typeof ResourceService>;
  guard: CallGuard;
  /** Largest accepted body, in bytes. */
  maxBodyBytes: number;
}

interface Action {
  method: DescMethodUnary;
  /** The top-level key of the response body. */
  responseKey: string;
}

/** The top-level key of a body picks the action. */
const ACTIONS: Record<string, Action> = {
  check_restorable: { method: ResourceService.method.checkRestorable, responseKey: "restorable" },
  check_protectable: { method: ResourceService.method.checkProtectable, responseKey: "protectable" },
};
const ACTION_KEYS = Object.keys(ACTIONS).join(" or ");

function isJsonContentType(req: Request): boolean {
  const type = req.get("content-type");
  if (type === undefined) return false;
  return type.split(";", 1)[0]!.trim().toLowerCase() === "application/json";
}

/** Picks the action of a parsed body: exactly one top-level key, and a known one. */
function pickAction(body: unknown): Action {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new JsonShapeError("body", `must be an object with ${ACTION_KEYS}`);
  }
  const keys = Object.keys(body);
  const unknown = keys.find((k) => !Object.hasOwn(ACTIONS, k));
  if (unknown !== undefined) throw new JsonShapeError(unknown, `unknown field "${unknown}"; expected ${ACTION_KEYS}`);
  if (keys.length !== 1) throw new JsonShapeError("body", `must have exactly one of ${ACTION_KEYS}`);
  return ACTIONS[keys[0]!]!;
}

/** Parses the body (only once the caller is authorized) into the action's request message. */
function decodeBody(body: unknown, projectId: string, providerId: string): { action: Action; request: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.isBuffer(body) ? body.toString("utf8") : "");
  } catch (error) {
    throw csbsError("invalid_argument", `body: malformed JSON (${(error as Error).message})`);
  }
  try {
    const action = pickAction(json);
    return { action, request: decodeJson(action.method.input, json, { projectId, providerId }) };
  } catch (error) {
    if (error instanceof JsonShapeError) throw csbsError("invalid_argument", error.message);
    throw error;
  }
}

/**
 * The REST gateway of SPEC section 1. It translates the documented path and body into the
 * RPC's request message and calls the same ServiceImpl the gRPC and Connect ports host,
 * in process, through the same call guard: no rule, validation or error mapping of its own.
 * Whole-request checks run in the documented order: 404, 415, 413, 401, 403, then 400.
 */
export function createGateway(options: GatewayOptions): Router {
  const { service, guard, maxBodyBytes } = options;
  const router = express.Router({ caseSensitive: true, strict: true });
  const rawBody = express.raw({ type: () => true, limit: maxBodyBytes });
  const impl = service as unknown as Record<string, (req: unknown, ctx: unknown) => Promise<unknown>>;

  router.post(
    ACTION_PATH,
    (req: Request, res: Response, next: NextFunction) => {
      res.locals.method = "resources/action";
      res.locals.projectId = req.params.project_id;
      if (isJsonContentType(req)) return next();
      // Drain what the client sends so the connection stays usable, then answer 415.
      req.resume();
      sendError(res, csbsError("unsupported_media_type", "Content-Type: must be application/json"));
    },
    rawBody,
    async (req: Request, res: Response, next: NextFunction) => {
      let ctx: ReturnType<typeof createHandlerContext> | undefined;
      try {
        const projectId = String(req.params.project_id);
        const providerId = String(req.params.provider_id);
        const token = req.get(AUTH_HEADER);
        const headers = {
          [REQUEST_ID_HEADER]: String(res.locals.requestId),
          ...(token ? { [AUTH_HEADER]: token } : {}),
        };
        const init = {
          service: ResourceService,
          protocolName: "rest",
          requestMethod: "POST",
          url: req.originalUrl,
          requestHeader: headers,
        };
        ctx = createHandlerContext({
          ...init,
          method: ResourceService.method.checkRestorable,
          requestSignal: abortSignalOf(res),
        });
        // The guard admits, authenticates and authorizes before the body is parsed.
        const json = await guard.run(ctx, projectId, undefined, async () => {
          const { action, request } = decodeBody(req.body, projectId, providerId);
          res.locals.method = action.method.name;
          const actionCtx =
            action.method === ctx!.method
              ? ctx!
              : createHandlerContext({
                  ...init,
                  method: action.method,
                  requestSignal: ctx!.signal,
                  contextValues: ctx!.values,
                });
          const response = await impl[action.method.localName]!(request, actionCtx);
          const message = create(action.method.output as DescMessage, response as never);
          return toJson(action.method.output, message, { useProtoFieldName: true, alwaysEmitImplicit: true });
        });
        res.status(200).json(json);
      } catch (error) {
        next(error);
      } finally {
        // Ends the context and releases its signal listeners (connect's handlers do the same).
        ctx?.abort(CALL_ENDED);
      }
    },
  );
  // Any other method on the action path (OPTIONS included: no automatic Allow answer).
  router.all(ACTION_PATH, (_req: Request, res: Response) => {
    sendError(res, csbsError("not_found", "The API does not exist or has not been published: method not allowed"));
  });
  return router;
}

/** Aborts when the client goes away before the response is written. */
function abortSignalOf(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
