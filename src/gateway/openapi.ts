import type { DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { CSBS_PROVIDER } from "../domain/csbs-provider.js";
import { PROJECT_ID_SOURCE, UUID_SOURCE } from "../domain/id-patterns.js";
import { SERVER_TYPES } from "../domain/types.js";

/** The configured limits the document states. */
export interface OpenApiLimits {
  /** Entries per request (MAX_CHECK_ITEMS). */
  maxCheckItems: number;
  /** Volume mappings per target (MAX_VOLUMES). */
  maxVolumes: number;
  /** Largest accepted body in bytes (MAX_BODY_BYTES). */
  maxBodyBytes: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const SERVER_TYPE_NAMES = [...SERVER_TYPES];

const uuid = (description: string): Json => ({ type: "string", pattern: UUID_SOURCE, description });
const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

const plain = (description: string, example: Json): Json => ({
  description,
  content: { "application/json": { schema: { type: "object" }, example } },
});

/** The operational routes of the HTTP port (no token; /metrics takes METRICS_TOKEN when set). */
const OPERATIONS_PATHS: Record<string, Json> = {
  "/healthz": {
    get: {
      tags: ["operations"],
      operationId: "liveness",
      summary: "Liveness: the process answers",
      responses: { "200": plain("Alive.", { status: "ok" }) },
    },
  },
  "/readyz": {
    get: {
      tags: ["operations"],
      operationId: "readiness",
      summary: "Readiness: the store answers and the service is not draining",
      responses: {
        "200": plain("Ready.", { status: "ready" }),
        "503": plain("Not ready (store unreachable, or shutting down).", { status: "not ready" }),
      },
    },
  },
  "/metrics": {
    get: {
      tags: ["operations"],
      operationId: "metrics",
      summary: "Prometheus metrics (text exposition format)",
      description: "When METRICS_TOKEN is set, requires `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise).",
      responses: {
        "200": { description: "The metrics.", content: { "text/plain": { schema: { type: "string" } } } },
        "401": { $ref: "#/components/responses/Unauthorized" },
      },
    },
  },
  "/openapi.json": {
    get: {
      tags: ["operations"],
      operationId: "openapi",
      summary: "This document",
      responses: { "200": plain("The OpenAPI 3.1 document.", { openapi: "3.1.0" }) },
    },
  },
};

/** One RPC on the HTTP port: listed with its protocols, its messages named, not restated. */
function rpcPath(service: DescService, method: DescService["methods"][number]): [string, Json] {
  const path = `/${service.typeName}/${method.name}`;
  const get = method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS; // Connect also allows GET
  const operation = (verb: string): Json => ({
    tags: ["rpc"],
    operationId: `${service.name}_${method.name}${verb === "get" ? "_get" : ""}`,
    summary: `${service.typeName}.${method.name} over Connect${verb === "get" ? " (GET, ?encoding=json|proto&message=…)" : " and gRPC-Web"}`,
    description:
      `Request ${method.input.typeName}, response ${method.output.typeName}. ` +
      "The token goes in the x-auth-token header, as on the gRPC port.",
    security: [{ XAuthToken: [] }],
    responses: {
      "200": { description: `A ${method.output.typeName}.` },
      default: { description: "A Connect error (JSON) or, for gRPC-Web, a grpc-status trailer." },
    },
  });
  return [path, get ? { post: operation("post"), get: operation("get") } : { post: operation("post") }];
}

/** The whole-request errors of docs/contract.md §2: status, code, when, and an example message. */
const ERRORS: ReadonlyArray<{ status: number; name: string; code: string; when: string; example: string }> = [
  {
    status: 400,
    name: "BadRequest",
    code: "CSBS.9001",
    when:
      "Malformed JSON, a wrong type, a missing or unknown field (the message names the field path or key), a non-UUID id, " +
      "an empty or over-long list, duplicate backup_id or volume_id within one target, an invalid project_id in the path, " +
      'a body with neither or both of check_restorable and check_protectable, an unknown provider_id ("provider invalid"), ' +
      'or an explain query parameter other than "true" or "false" (or given twice; the message names explain).',
    example: "check_restorable[2].target.volumes[0].volume_id: must be a UUID",
  },
  {
    status: 401,
    name: "Unauthorized",
    code: "APIGW.0301",
    when: "X-Auth-Token is missing, malformed, expired, or its signature is bad.",
    example: "Incorrect IAM authentication information: the X-Auth-Token header is missing",
  },
  {
    status: 403,
    name: "Forbidden",
    code: "APIGW.0302",
    when: "The token is valid but not scoped to {project_id}, or lacks the role for the action.",
    example: "the token is not scoped to project demo-project",
  },
  {
    status: 404,
    name: "NotFound",
    code: "APIGW.0101",
    when: "No such route or method.",
    example: "The API does not exist or has not been published",
  },
  {
    status: 413,
    name: "PayloadTooLarge",
    code: "CSBS.9001",
    when: "The body is larger than the configured limit (MAX_BODY_BYTES).",
    example: "body: request body is too large",
  },
  {
    status: 415,
    name: "UnsupportedMediaType",
    code: "CSBS.9001",
    when: "The body is not application/json (a missing Content-Type counts as not JSON).",
    example: "Content-Type: must be application/json",
  },
  {
    status: 500,
    name: "InternalError",
    code: "CSBS.9999",
    when: "An unexpected failure; the details are only in the service log, keyed by request_id.",
    example: "check resource failed",
  },
  {
    status: 503,
    name: "Unavailable",
    code: "CSBS.9998",
    when: "The store is unreachable, the service is shutting down, or it is overloaded.",
    example: "the store is unreachable, try again later",
  },
];

const SAMPLE_RESTORE = {
  check_restorable: [
    {
      checkpoint_item_id: "8986ce68-3da7-4d29-9cc2-1921e9504975",
      target: {
        resource_type: "OS::Nova::Server",
        resource_id: "5aa119a8-d25b-45a7-8d1b-88e127885635",
        volumes: [
          { backup_id: "7ea119a8-d25b-43a7-8d1b-88e12788513a", volume_id: "45baf976-c20a-4894-a7c3-c94b7376bf55" },
        ],
      },
    },
  ],
};

const REQUEST_ID_HEADER: Json = {
  description:
    "The request id: the caller's X-Request-Id when it was printable ASCII of at most 128 characters, else a generated UUID.",
  schema: { type: "string", minLength: 1, maxLength: 128 },
};

/**
 * The OpenAPI 3.1 document of the REST path of docs/contract.md §1: both actions, the 200
 * response, every whole-request error with its flat body and code, the headers, and the
 * configured limits. Served at `GET /openapi.json`.
 */
export function createOpenApiDocument(limits: OpenApiLimits, rpcServices: ReadonlyArray<DescService> = []): Json {
  const errorResponses: Record<string, Json> = {};
  const errorSchemas: Record<string, Json> = {};
  for (const e of ERRORS) {
    errorSchemas[`Error${e.status}`] = {
      description: `The flat error body of HTTP ${e.status}.`,
      allOf: [ref("ErrorBody"), { type: "object", properties: { error_code: { const: e.code } } }],
    };
    errorResponses[e.name] = {
      description: `${e.code}: ${e.when}`,
      headers: { "X-Request-Id": { $ref: "#/components/headers/XRequestId" } },
      content: {
        "application/json": {
          schema: ref(`Error${e.status}`),
          example: { error_code: e.code, error_msg: e.example, request_id: "6c1f0d7e-2b8a-4a53-9c0e-0f7b5e1d2a3c" },
        },
      },
    };
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "Restorability service: CSBS resource actions",
      version: "1.0.0",
      description:
        'The Cloud Server Backup Service (CSBS) API "query resource restorability" and its sibling action ' +
        "check_protectable, on one path; the top-level key of the body picks the action. Whole-request checks run " +
        "in this order: route and method (404), content type (415), body size (413), token (401), project scope (403), " +
        "then body, ids and provider (400). " +
        `Limits: at most ${limits.maxCheckItems} entries per request (MAX_CHECK_ITEMS), at most ${limits.maxVolumes} ` +
        `volume mappings per target (MAX_VOLUMES), a body of at most ${limits.maxBodyBytes} bytes (MAX_BODY_BYTES). ` +
        "The same service is also served over gRPC, gRPC-Web and the Connect protocol (csbs.v1.ResourceService).",
    },
    servers: [{ url: "/", description: "The HTTP port that serves this document (HTTP_PORT, default 8080)." }],
    tags: [
      { name: "resources", description: "Protectability and restorability checks" },
      { name: "operations", description: "Probes, metrics and this document: no token" },
      {
        name: "rpc",
        description:
          "The RPCs on the same port over the Connect protocol (application/json with snake_case field names, or " +
          "application/proto) and gRPC-Web (application/grpc-web+proto); the messages are those of the proto files. " +
          "Errors are Connect errors whose details carry a google.rpc.ErrorInfo with the CSBS/APIGW code.",
      },
    ],
    paths: {
      ...OPERATIONS_PATHS,
      ...Object.fromEntries(rpcServices.flatMap((service) => service.methods.map((m) => rpcPath(service, m)))),
      "/v1/{project_id}/providers/{provider_id}/resources/action": {
        parameters: [
          {
            name: "project_id",
            in: "path",
            required: true,
            description: "The project; the token must be scoped to it.",
            schema: { type: "string", pattern: PROJECT_ID_SOURCE },
          },
          {
            name: "provider_id",
            in: "path",
            required: true,
            description: `The backup provider; the CSBS provider is ${CSBS_PROVIDER.id}.`,
            schema: { type: "string", pattern: UUID_SOURCE },
            example: CSBS_PROVIDER.id,
          },
          {
            name: "explain",
            in: "query",
            required: false,
            description:
              "true: every entry also lists every failing rule (failures) and, for check_restorable, a disk mapping " +
              "that passes rules 13-18 (suggested_volumes). false or absent: the plain answer, byte for byte. " +
              "Any other value, or the parameter given twice, is 400 CSBS.9001 naming explain (checked after the " +
              "token and the project scope, before the body).",
            schema: { type: "string", enum: ["true", "false"] },
          },
          {
            name: "X-Request-Id",
            in: "header",
            required: false,
            description:
              "Echoed in the X-Request-Id response header and in every error body when printable ASCII of at most " +
              "128 characters; otherwise (or when absent) a generated id is used.",
            schema: { type: "string" },
          },
        ],
        post: {
          tags: ["resources"],
          operationId: "resourceAction",
          summary: "Check whether resources can be restored (check_restorable) or protected (check_protectable)",
          description:
            "One entry per request entry in the response, in request order. A failed check is result false with the " +
            "CSBS code and the filled-in message of the first rule that failed; a passing one has result true and " +
            "empty error_code and error_msg. Every key is always present. With ?explain=true each entry also has " +
            "failures and suggested_volumes (always present, possibly empty).",
          security: [{ XAuthToken: [] }],
          requestBody: {
            required: true,
            description: `application/json, at most ${limits.maxBodyBytes} bytes; exactly one of check_restorable or check_protectable.`,
            content: {
              "application/json": {
                schema: { oneOf: [ref("CheckRestorableBody"), ref("CheckProtectableBody")] },
                examples: {
                  check_restorable: { summary: "The seed document's sample", value: SAMPLE_RESTORE },
                  check_protectable: {
                    summary: "Can this server be backed up?",
                    value: {
                      check_protectable: [
                        { resource_id: "5aa119a8-d25b-45a7-8d1b-88e127885635", resource_type: "OS::Nova::Server" },
                      ],
                    },
                  },
                },
              },
            },
          },
          responses: {
            "200": {
              description: "The verdicts, one per request entry, in request order.",
              headers: { "X-Request-Id": { $ref: "#/components/headers/XRequestId" } },
              content: {
                "application/json": {
                  schema: { oneOf: [ref("CheckRestorableResponse"), ref("CheckProtectableResponse")] },
                  examples: {
                    restorable: {
                      value: {
                        restorable: [
                          {
                            resource_id: "5aa119a8-d25b-45a7-8d1b-88e127885635",
                            resource_type: "OS::Nova::Server",
                            result: true,
                            error_code: "",
                            error_msg: "",
                          },
                        ],
                      },
                    },
                    explained: {
                      summary: "With ?explain=true: every failing rule, and a disk mapping that passes rules 13-18",
                      value: {
                        restorable: [
                          {
                            result: false,
                            resource_type: "OS::Nova::Server",
                            error_code: "CSBS.6024",
                            error_msg:
                              "Target volume (45baf976-c20a-4894-a7c3-c94b7376bf55) size (40) small than volume backup " +
                              "(7ea119a8-d25b-43a7-8d1b-88e12788513a) size (100).",
                            resource_id: "5aa119a8-d25b-45a7-8d1b-88e127885635",
                            failures: [
                              {
                                rule: 18,
                                error_code: "CSBS.6024",
                                error_msg:
                                  "Target volume (45baf976-c20a-4894-a7c3-c94b7376bf55) size (40) small than volume " +
                                  "backup (7ea119a8-d25b-43a7-8d1b-88e12788513a) size (100).",
                              },
                            ],
                            suggested_volumes: [
                              {
                                backup_id: "7ea119a8-d25b-43a7-8d1b-88e12788513a",
                                volume_id: "0c9f3a52-6e1d-4b8a-9f2e-3d4c5b6a7e8f",
                              },
                            ],
                          },
                        ],
                      },
                    },
                    not_restorable: {
                      value: {
                        restorable: [
                          {
                            resource_id: "5aa119a8-d25b-45a7-8d1b-88e127885635",
                            resource_type: "OS::Nova::Server",
                            result: false,
                            error_code: "CSBS.3001",
                            error_msg: "Checkpoint_item (8986ce68-3da7-4d29-9cc2-1921e9504975) is not found.",
                          },
                        ],
                      },
                    },
                  },
                },
              },
            },
            ...Object.fromEntries(
              ERRORS.map((e) => [String(e.status), { $ref: `#/components/responses/${e.name}` } as Json]),
            ),
            "408": {
              description:
                "Request Timeout, from the HTTP server itself: the request headers did not arrive within " +
                "HTTP_HEADERS_TIMEOUT_MS (or the request within its time limit). No body; the connection is closed.",
            },
          },
        },
      },
    },
    components: {
      securitySchemes: {
        XAuthToken: {
          type: "apiKey",
          in: "header",
          name: "X-Auth-Token",
          description:
            "A JWT (claims sub, project_id, roles, exp) scoped to {project_id}. A check needs no role, only the scope.",
        },
      },
      headers: { XRequestId: REQUEST_ID_HEADER },
      responses: errorResponses,
      schemas: {
        CheckRestorableBody: {
          type: "object",
          required: ["check_restorable"],
          additionalProperties: false,
          properties: {
            check_restorable: {
              type: "array",
              minItems: 1,
              maxItems: limits.maxCheckItems,
              items: ref("RestorableParam"),
            },
          },
        },
        RestorableParam: {
          type: "object",
          required: ["checkpoint_item_id", "target"],
          additionalProperties: false,
          properties: {
            checkpoint_item_id: uuid("The checkpoint item (the backup of one server) to restore."),
            target: ref("RestorableTarget"),
          },
        },
        RestorableTarget: {
          type: "object",
          required: ["resource_id", "resource_type", "volumes"],
          additionalProperties: false,
          properties: {
            resource_id: uuid("The target server."),
            resource_type: {
              type: "string",
              minLength: 1,
              examples: SERVER_TYPE_NAMES,
              description: `${SERVER_TYPE_NAMES.join(" or ")}; any other value is a per-entry CSBS.6013, not a request error.`,
            },
            volumes: {
              type: "array",
              minItems: 1,
              maxItems: limits.maxVolumes,
              description:
                "Which volume backup goes onto which attached volume; backup_id and volume_id are each unique within a target.",
              items: ref("RestoreVolumeMapping"),
            },
          },
        },
        RestoreVolumeMapping: {
          type: "object",
          required: ["backup_id", "volume_id"],
          additionalProperties: false,
          properties: {
            backup_id: uuid("A volume backup of the checkpoint item."),
            volume_id: uuid("A volume attached to the target server."),
          },
        },
        CheckProtectableBody: {
          type: "object",
          required: ["check_protectable"],
          additionalProperties: false,
          properties: {
            check_protectable: {
              type: "array",
              minItems: 1,
              maxItems: limits.maxCheckItems,
              items: ref("ProtectableParam"),
            },
          },
        },
        ProtectableParam: {
          type: "object",
          required: ["resource_id", "resource_type"],
          additionalProperties: false,
          properties: {
            resource_id: uuid("The server."),
            resource_type: {
              type: "string",
              minLength: 1,
              examples: SERVER_TYPE_NAMES,
              description: `${SERVER_TYPE_NAMES.join(" or ")}; any other value is a per-entry CSBS.6003, not a request error.`,
            },
          },
        },
        CheckRestorableResponse: {
          type: "object",
          required: ["restorable"],
          additionalProperties: false,
          properties: { restorable: { type: "array", items: ref("CheckResp") } },
        },
        CheckProtectableResponse: {
          type: "object",
          required: ["protectable"],
          additionalProperties: false,
          properties: { protectable: { type: "array", items: ref("CheckResp") } },
        },
        CheckResp: {
          type: "object",
          description:
            "The verdict on one entry; resource_id and resource_type echo the entry. failures and suggested_volumes " +
            "are present exactly when the request has ?explain=true.",
          required: ["result", "resource_type", "error_code", "error_msg", "resource_id"],
          additionalProperties: false,
          properties: {
            result: { type: "boolean", description: "True when the entry passes every rule." },
            resource_type: { type: "string" },
            error_code: {
              type: "string",
              pattern: "^(CSBS\\.[0-9]{4})?$",
              description: 'The CSBS code of the first rule that failed, or "".',
            },
            error_msg: { type: "string", description: 'The filled-in message of the first rule that failed, or "".' },
            resource_id: { type: "string" },
            failures: {
              type: "array",
              description:
                "Only with ?explain=true: every rule of the entry that fails, in rule order; the first equals " +
                "error_code and error_msg; empty exactly when result is true.",
              items: ref("RuleFailure"),
            },
            suggested_volumes: {
              type: "array",
              description:
                "Only with ?explain=true; always empty for check_protectable. A mapping of every volume backup of " +
                "the checkpoint item onto a distinct attached volume that passes rules 13-18, with system-disk " +
                "backups on bootable volumes, in the item's backup order; empty when the entry's own mapping passes " +
                "those rules, when the item or the server does not exist, or when no such mapping exists.",
              items: ref("RestoreVolumeMapping"),
            },
          },
        },
        RuleFailure: {
          type: "object",
          description: "One failing rule of an entry.",
          required: ["rule", "error_code", "error_msg"],
          additionalProperties: false,
          properties: {
            rule: {
              type: "integer",
              minimum: 1,
              maximum: 18,
              description: "The rule's number: 1-18 for check_restorable, 1-8 for check_protectable.",
            },
            error_code: { type: "string", pattern: "^CSBS\\.[0-9]{4}$" },
            error_msg: { type: "string" },
          },
        },
        ErrorBody: {
          type: "object",
          description: "A whole-request failure: flat, as CSBS and its API gateway return them.",
          required: ["error_code", "error_msg", "request_id"],
          additionalProperties: false,
          properties: {
            error_code: { type: "string", enum: [...new Set(ERRORS.map((e) => e.code))] },
            error_msg: { type: "string" },
            request_id: { type: "string", description: "Equals the X-Request-Id response header." },
          },
        },
        ...errorSchemas,
      },
    },
  };
}
