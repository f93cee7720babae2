import { create, type DescField, type DescMessage, type MessageShape, ScalarType } from "@bufbuild/protobuf";

/** A JSON value that does not fit the message: the field path and what is wrong. */
export class JsonShapeError extends Error {
  override name = "JsonShapeError";
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function scalar(type: ScalarType, value: unknown, path: string): unknown {
  switch (type) {
    case ScalarType.STRING:
      if (typeof value === "string") return value;
      throw new JsonShapeError(path, `must be a string, not ${typeName(value)}`);
    case ScalarType.BOOL:
      if (typeof value === "boolean") return value;
      throw new JsonShapeError(path, `must be a boolean, not ${typeName(value)}`);
    default:
      throw new JsonShapeError(path, "has a type this gateway does not decode");
  }
}

function decodeField(field: DescField, value: unknown, path: string): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar, value, path);
    case "message":
      return decodeObject(field.message, value, path);
    case "list":
      if (!Array.isArray(value)) throw new JsonShapeError(path, `must be an array, not ${typeName(value)}`);
      return value.map((element, i) => {
        const at = `${path}[${i}]`;
        if (field.listKind === "message") return decodeObject(field.message, element, at);
        if (field.listKind === "scalar") return scalar(field.scalar, element, at);
        throw new JsonShapeError(at, "has a type this gateway does not decode");
      });
    default:
      throw new JsonShapeError(path, "has a type this gateway does not decode");
  }
}

function decodeObject(desc: DescMessage, json: unknown, path: string): Record<string, unknown> {
  if (!isObject(json)) throw new JsonShapeError(path || "body", `must be an object, not ${typeName(json)}`);
  const init: Record<string, unknown> = {};
  for (const key of Object.keys(json)) {
    const at = path ? `${path}.${key}` : key;
    const field = desc.fields.find((f) => f.name === key);
    if (!field) throw new JsonShapeError(at, `unknown field "${key}"`);
    init[field.localName] = decodeField(field, json[key], at);
  }
  return init;
}

/**
 * Decodes a parsed JSON body into a message, strictly: keys are the proto (snake_case)
 * field names, unknown keys and wrong types are errors naming the field path
 * (`check_restorable[2].target.volumes[0].volume_id: must be a string, not a number`).
 * Missing fields stay at their defaults; the service's validation reports them.
 */
export function decodeJson<Desc extends DescMessage>(
  desc: Desc,
  json: unknown,
  overrides: Partial<Record<string, unknown>> = {},
): MessageShape<Desc> {
  return create(desc, { ...decodeObject(desc, json, ""), ...overrides } as never);
}
