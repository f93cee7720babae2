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

/** How the decoder bounds lists. */
export interface DecodeOptions {
  /**
   * The most elements a list field may have (undefined: no bound). The element after the
   * bound is not decoded, nor any after it: the list is refused at once, naming it.
   */
  maxItems?: ((field: DescField) => number | undefined) | undefined;
}

function decodeField(field: DescField, value: unknown, path: string, options: DecodeOptions): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar, value, path);
    case "message":
      return decodeObject(field.message, value, path, options);
    case "list": {
      if (!Array.isArray(value)) throw new JsonShapeError(path, `must be an array, not ${typeName(value)}`);
      const max = options.maxItems?.(field) ?? Number.POSITIVE_INFINITY;
      const list: unknown[] = [];
      for (let i = 0; i < value.length; i++) {
        // The same message as the request validation's; the rest of the list is never decoded.
        if (i === max) throw new JsonShapeError(path, `must have at most ${max} entries`);
        const at = `${path}[${i}]`;
        const element: unknown = value[i];
        if (field.listKind === "message") list.push(decodeObject(field.message, element, at, options));
        else if (field.listKind === "scalar") list.push(scalar(field.scalar, element, at));
        else throw new JsonShapeError(at, "has a type this gateway does not decode");
      }
      return list;
    }
    default:
      throw new JsonShapeError(path, "has a type this gateway does not decode");
  }
}

function decodeObject(desc: DescMessage, json: unknown, path: string, options: DecodeOptions): Record<string, unknown> {
  if (!isObject(json)) throw new JsonShapeError(path || "body", `must be an object, not ${typeName(json)}`);
  const init: Record<string, unknown> = {};
  for (const key of Object.keys(json)) {
    const at = path ? `${path}.${key}` : key;
    const field = desc.fields.find((f) => f.name === key);
    if (!field) throw new JsonShapeError(at, `unknown field "${key}"`);
    init[field.localName] = decodeField(field, json[key], at, options);
  }
  return init;
}

/**
 * Decodes a parsed JSON body into a message, strictly: keys are the proto (snake_case)
 * field names, unknown keys and wrong types are errors naming the field path
 * (`check_restorable[2].target.volumes[0].volume_id: must be a string, not a number`), a
 * list longer than `options.maxItems` allows is refused at its first extra element.
 * Missing fields stay at their defaults; the service's validation reports them.
 */
export function decodeJson<Desc extends DescMessage>(
  desc: Desc,
  json: unknown,
  overrides: Partial<Record<string, unknown>> = {},
  options: DecodeOptions = {},
): MessageShape<Desc> {
  return create(desc, { ...decodeObject(desc, json, "", options), ...overrides } as never);
}
