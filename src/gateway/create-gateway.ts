import {
  create,
  type DescField,
  type DescMessage,
  type DescMethodUnary,
  type MessageInitShape,
  type MessageShape,
  toJson,
} from "@bufbuild/protobuf";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { type CheckRespSchema, ResourceService } from "../../gen/csbs/v1/resource_service_pb.js";
import { type CancellationSignal, createCallCancellation } from "../service/call-cancellation.js";
import { AUTH_HEADER, type CallContext, type CallGuard, REQUEST_ID_HEADER } from "../service/call-guard.js";
import { checkProtectable } from "../service/check-protectable.js";
import { checkRestorable } from "../service/check-restorable.js";
import { csbsError } from "../service/csbs-error.js";
import type { UseCaseDeps } from "../service/use-case-deps.js";
import { decodeJson, JsonShapeError } from "./decode-json.js";

const ACTION_PATH = "/v1/:project_id/providers/:provider_id/resources/action";

export interface GatewayOptions {
  /** What the check use cases need (the same as the ServiceImpl's). */
  deps: UseCaseDeps;
  guard: CallGuard;
  /** Largest accepted body, in bytes. */
  maxBodyBytes: number;
}

/** What the request's path and query give the RPC's request message. */
interface RequestParams {
  projectId: string;
  providerId: string;
  explain: boolean;
}

interface Action {
  /** The RPC's name (for logs and metrics). */
  name: string;
  /** Decodes the JSON body into the RPC's request, runs the use case, and answers its JSON text. */
  respond(deps: UseCaseDeps, json: unknown, params: RequestParams): Promise<string>;
}

/** A check response as the use cases return it: one list of entries. */
type CheckEntries = ReadonlyArray<MessageInitShape<typeof CheckRespSchema>>;

/**
 * The section-1 answer (no explain) written directly from the use case's entries: the five
 * keys of a CheckResp in field order, implicit values included, exactly as
 * toJson(create(...), {useProtoFieldName, alwaysEmitImplicit}) without the explain keys.
 */
function plainAnswer(key: string, entries: CheckEntries | undefined): string {
  const out = (entries ?? []).map((e) => ({
    result: e.result ?? false,
    resource_type: e.resourceType ?? "",
    error_code: e.errorCode ?? "",
    error_msg: e.errorMsg ?? "",
    resource_id: e.resourceId ?? "",
  }));
  return JSON.stringify({ [key]: out });
}

/**
 * The request's limits (docs/contract.md §3) as list bounds for the decoder: the entries of
 * the request, the volume mappings of a target. A longer list is refused without decoding
 * the rest of it.
 */
function listLimits(deps: UseCaseDeps, input: DescMessage): (field: DescField) => number | undefined {
  return (field) =>
    field.parent.typeName === input.typeName
      ? deps.limits.maxCheckItems
      : field.name === "volumes"
        ? deps.limits.maxVolumes
        : undefined;
}

/** An action of the REST path: an RPC of the ResourceService and its transport-free use case. */
function action<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  useCase: (deps: UseCaseDeps, request: MessageShape<I>) => Promise<MessageInitShape<O>>,
): Action {
  // The response's one field: the list of CheckResp entries.
  const list = method.output.fields[0]!;
  return {
    name: method.name,
    async respond(deps, json, params) {
      const request = decodeJson(method.input, json, { ...params }, { maxItems: listLimits(deps, method.input) });
      const response = await useCase(deps, request);
      if (!params.explain) {
        return plainAnswer(list.name, (response as Record<string, unknown>)[list.localName] as CheckEntries);
      }
      // With explain every key is written (toJson, implicit values and empty lists included).
      return JSON.stringify(
        toJson(method.output, create(method.output, response), { useProtoFieldName: true, alwaysEmitImplicit: true }),
      );
    },
  };
}

/** The top-level key of a body picks the action. */
const ACTIONS: Record<string, Action> = {
  check_restorable: action(ResourceService.method.checkRestorable, checkRestorable),
  check_protectable: action(ResourceService.method.checkProtectable, checkProtectable),
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

/**
 * The `explain` query parameter (docs/contract.md §8): `true`, or `false`/absent for the plain
 * answer; any other value, or the parameter given twice, is a 400 naming it.
 */
function explainOf(value: unknown): boolean {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  if (Array.isArray(value)) throw csbsError("invalid_argument", "explain: must be given at most once");
  throw csbsError("invalid_argument", 'explain: must be "true" or "false"');
}

/**
 * Reads the query and parses the body (only once the caller is authorized), picks the
 * body's action and answers it.
 */
async function respond(
  deps: UseCaseDeps,
  body: unknown,
  query: { explain?: unknown },
  path: { projectId: string; providerId: string },
  onAction: (name: string) => void,
): Promise<string> {
  const explain = explainOf(query.explain);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.isBuffer(body) ? body.toString("utf8") : "");
  } catch (error) {
    throw csbsError("invalid_argument", `body: malformed JSON (${(error as Error).message})`);
  }
  try {
    const picked = pickAction(json);
    onAction(picked.name);
    return await picked.respond(deps, json, { ...path, explain });
  } catch (error) {
    if (error instanceof JsonShapeError) throw csbsError("invalid_argument", error.message);
    throw error;
  }
}

/**
 * The REST gateway of docs/contract.md §1. It translates the documented path and body into the
 * RPC's request message and runs the RPC's use case, in process, inside the same call guard
 * the ServiceImpl uses: no rule, validation or error mapping of its own. Whole-request
 * checks run in the documented order: 404, 415, 413, 401, 403, then 400 (the `explain`
 * query parameter first, then the body).
 */
export function createGateway(options: GatewayOptions): Router {
  const { deps, guard, maxBodyBytes } = options;
  const router = express.Router({ caseSensitive: true, strict: true });
  const rawBody = express.raw({ type: () => true, limit: maxBodyBytes });

  /** The call, once its body is read: the guard around the use case, then the JSON answer. */
  async function answer(req: Request, res: Response, next: NextFunction) {
    try {
      const projectId = String(req.params.project_id);
      const providerId = String(req.params.provider_id);
      const token = req.get(AUTH_HEADER) || null;
      const requestId = String(res.locals.requestId);
      // What the guard reads of the call: the two headers, the cancellation; the
      // deadline is the guard's own (REST callers send none).
      const ctx: CallContext = {
        requestHeader: {
          get: (name) => (name === AUTH_HEADER ? token : name === REQUEST_ID_HEADER ? requestId : null),
        },
        signal: abortSignalOf(res),
        timeoutMs: () => undefined,
      };
      // The guard admits, authenticates and authorizes before the body is parsed.
      const body = await guard.run(ctx, projectId, undefined, () =>
        respond(deps, req.body, req.query, { projectId, providerId }, (name) => {
          res.locals.method = name;
        }),
      );
      // What res.json would write (no ETag: disabled), without its generic work.
      res.statusCode = 200;
      res.setHeader("Content-Type", "application/json; charset=utf-8");
      res.setHeader("Content-Length", Buffer.byteLength(body));
      res.end(body);
    } catch (error) {
      next(error);
    }
  }

  // One handler (the content type, the body, the call) rather than three route layers: each
  // layer is a pass through Express's dispatch on every call.
  router.post(ACTION_PATH, (req: Request, res: Response, next: NextFunction) => {
    res.locals.method = "resources/action";
    res.locals.projectId = req.params.project_id;
    if (!isJsonContentType(req)) {
      // Drain what the client sends so the connection stays usable, then answer 415.
      req.resume();
      next(csbsError("unsupported_media_type", "Content-Type: must be application/json"));
      return;
    }
    rawBody(req, res, (error?: unknown) => {
      if (error) next(error);
      else void answer(req, res, next);
    });
  });
  // Any other method on the action path (OPTIONS included: no automatic Allow answer).
  router.all(ACTION_PATH, (_req: Request, _res: Response, next: NextFunction) => {
    next(csbsError("not_found", "The API does not exist or has not been published: method not allowed"));
  });
  return router;
}

/** Cancelled when the client goes away before the response is written. */
function abortSignalOf(res: Response): CancellationSignal {
  const cancellation = createCallCancellation();
  res.once("close", () => {
    if (!res.writableFinished) cancellation.cancel(new DOMException("This operation was aborted", "AbortError"));
  });
  return cancellation.signal;
}
