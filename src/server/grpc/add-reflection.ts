import {
  create,
  type DescEnum,
  type DescFile,
  type DescMessage,
  type DescService,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  type ServerReflectionRequest,
  type ServerReflectionResponseSchema,
  ServerReflection as ServerReflectionV1,
} from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";

type ReflectionService = typeof ServerReflectionV1 | typeof ServerReflectionV1Alpha;
type Answer = MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"];

/** What a reflection request is answered from: the files of the hosted services, indexed on first use. */
interface ReflectionIndex {
  services: string[];
  files: Map<string, DescFile>;
  /** Every fully-qualified symbol (message, field, oneof, enum, enum value, service, method, extension). */
  symbols: Map<string, DescFile>;
  /** Extendee type name → field number → the file declaring the extension. */
  extensions: Map<string, Map<number, DescFile>>;
}

function buildIndex(services: ReadonlyArray<DescService>, extraFiles: ReadonlyArray<DescFile>): ReflectionIndex {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const extensions = new Map<string, Map<number, DescFile>>();
  const addEnum = (e: DescEnum, scope: string, file: DescFile) => {
    symbols.set(e.typeName, file);
    // Enum values are siblings of their enum (C++ scoping), as protoc resolves them.
    for (const v of e.values) symbols.set(scope ? `${scope}.${v.name}` : v.name, file);
  };
  const addMessage = (m: DescMessage, file: DescFile) => {
    symbols.set(m.typeName, file);
    for (const f of m.fields) symbols.set(`${m.typeName}.${f.name}`, file);
    for (const o of m.oneofs) symbols.set(`${m.typeName}.${o.name}`, file);
    for (const e of m.nestedEnums) addEnum(e, m.typeName, file);
    for (const n of m.nestedMessages) addMessage(n, file);
    for (const x of m.nestedExtensions) addExtension(x, file);
  };
  const addExtension = (x: DescFile["extensions"][number], file: DescFile) => {
    symbols.set(x.typeName, file);
    const byNumber = extensions.get(x.extendee.typeName) ?? new Map<number, DescFile>();
    extensions.set(x.extendee.typeName, byNumber.set(x.number, file));
  };
  const addFile = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    for (const dep of file.dependencies) addFile(dep);
    for (const e of file.enums) addEnum(e, file.proto.package, file);
    for (const m of file.messages) addMessage(m, file);
    for (const x of file.extensions) addExtension(x, file);
    for (const s of file.services) {
      symbols.set(s.typeName, file);
      for (const m of s.methods) symbols.set(`${s.typeName}.${m.name}`, file);
    }
  };
  for (const s of services) addFile(s.file);
  for (const f of extraFiles) addFile(f);
  return { services: services.map((s) => s.typeName), files, symbols, extensions };
}

/**
 * Serves gRPC server reflection (`grpc.reflection.v1` and `v1alpha`, for grpcurl, buf curl,
 * Postman…) from the protobuf-es descriptors in gen/: for every hosted service and the
 * reflection service itself, the compiler's FileDescriptorProtos (fully-qualified names,
 * json_name, every import), as buf generated them. Nothing is built at start-up: the index
 * and each file's encoding are made on first use.
 */
export function addReflection(
  server: grpc.Server,
  hosted: ReadonlyArray<DescService>,
  /** Files no hosted service imports that clients still need, e.g. the error details' types. */
  extraFiles: ReadonlyArray<DescFile> = [],
): void {
  const services = [...hosted, ServerReflectionV1, ServerReflectionV1Alpha];
  let index: ReflectionIndex | undefined;
  const encoded = new Map<string, Uint8Array>();
  const encode = (file: DescFile) => {
    const bytes = encoded.get(file.name) ?? toBinary(FileDescriptorProtoSchema, file.proto);
    encoded.set(file.name, bytes);
    return bytes;
  };
  /** The file first, then everything it imports (transitively), each once. */
  const fileResponse = (file: DescFile): Answer => {
    const seen = new Set<DescFile>();
    const visit = (f: DescFile) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const dep of f.dependencies) visit(dep);
    };
    visit(file);
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: [...seen].map(encode) } };
  };
  const notFound = (message: string): Answer => ({
    case: "errorResponse",
    value: { errorCode: grpc.status.NOT_FOUND, errorMessage: message },
  });

  const answer = (request: ServerReflectionRequest["messageRequest"]): Answer => {
    index ??= buildIndex(services, extraFiles);
    switch (request.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: index.services.map((name) => ({ name })) } };
      case "fileByFilename": {
        const file = index.files.get(request.value);
        return file ? fileResponse(file) : notFound(`file not found: ${request.value}`);
      }
      case "fileContainingSymbol": {
        const file = index.symbols.get(request.value);
        return file ? fileResponse(file) : notFound(`symbol not found: ${request.value}`);
      }
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = request.value;
        const file = index.extensions.get(containingType)?.get(extensionNumber);
        return file ? fileResponse(file) : notFound(`extension not found: ${containingType} ${extensionNumber}`);
      }
      case "allExtensionNumbersOfType": {
        if (!index.symbols.has(request.value)) return notFound(`type not found: ${request.value}`);
        const numbers = [...(index.extensions.get(request.value)?.keys() ?? [])];
        return {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: request.value, extensionNumber: numbers },
        };
      }
      default:
        return {
          case: "errorResponse",
          value: { errorCode: grpc.status.INVALID_ARGUMENT, errorMessage: "the request names no reflection query" },
        };
    }
  };

  for (const service of [ServerReflectionV1, ServerReflectionV1Alpha] as ReflectionService[]) {
    addReflectionService(server, service, answer);
  }
}

/** One version's `ServerReflectionInfo` stream: one response per request, in order. */
function addReflectionService(
  server: grpc.Server,
  service: ReflectionService,
  answer: (request: ServerReflectionRequest["messageRequest"]) => Answer,
): void {
  // v1 and v1alpha have the same messages (field names and numbers) in different packages.
  const method = service.methods[0]!;
  const definition: grpc.MethodDefinition<Buffer, unknown> = {
    path: `/${service.typeName}/${method.name}`,
    requestStream: true,
    responseStream: true,
    originalName: method.localName,
    requestSerialize: (b: Buffer) => b,
    // Decoded in the handler, so a malformed message is INVALID_ARGUMENT, not INTERNAL.
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (m: unknown) => Buffer.from(toBinary(method.output as DescMessage, m as never)),
    responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
  };
  server.addService({ [method.name]: definition } as grpc.ServiceDefinition, {
    [method.name]: (call: grpc.ServerDuplexStream<Buffer, unknown>) => {
      call.on("data", (bytes: Buffer) => {
        let request: ServerReflectionRequest;
        try {
          request = fromBinary(method.input, bytes) as unknown as ServerReflectionRequest;
        } catch (error) {
          call.emit("error", {
            code: grpc.status.INVALID_ARGUMENT,
            details: `request: cannot decode ${method.input.typeName} (${(error as Error).message})`,
          });
          return;
        }
        const response = {
          validHost: request.host,
          originalRequest: request,
          messageResponse: answer(request.messageRequest),
        };
        call.write(create(method.output as DescMessage, response as never));
      });
      call.on("end", () => call.end());
    },
  });
}
