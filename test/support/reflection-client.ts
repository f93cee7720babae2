import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { create, createFileRegistry, type FileRegistry, fromBinary } from "@bufbuild/protobuf";
import { type FileDescriptorProto, FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const require = createRequire(import.meta.url);
const REFLECTION_PROTO_DIR = join(dirname(require.resolve("@grpc/reflection/package.json")), "build/proto");

/** The request and response of `ServerReflectionInfo`, as proto-loader decodes them (keepCase). */
export interface ReflectionRequest {
  host?: string;
  file_by_filename?: string;
  file_containing_symbol?: string;
  list_services?: string;
  file_containing_extension?: { containing_type: string; extension_number: number };
  all_extension_numbers_of_type?: string;
}
export interface ReflectionResponse {
  valid_host: string;
  message_response:
    | "file_descriptor_response"
    | "list_services_response"
    | "all_extension_numbers_response"
    | "error_response";
  all_extension_numbers_response?: { base_type_name: string; extension_number: number[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  list_services_response?: { service: { name: string }[] };
  error_response?: { error_code: number; error_message: string };
}

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * A server reflection client that behaves as grpcurl does: one bidi `ServerReflectionInfo`
 * stream, one response per request, in order.
 */
export class ReflectionClient {
  private readonly client: grpc.Client;
  private readonly stream: grpc.ClientDuplexStream<ReflectionRequest, ReflectionResponse>;
  private readonly waiting: Array<{ resolve: (r: ReflectionResponse) => void; reject: (e: unknown) => void }> = [];
  private failure: unknown;

  constructor(address: string, version: "v1" | "v1alpha" = "v1") {
    const def = protoLoader.loadSync(join(REFLECTION_PROTO_DIR, `grpc/reflection/${version}/reflection.proto`), {
      ...LOADER_OPTIONS,
      includeDirs: [REFLECTION_PROTO_DIR],
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      grpc: { reflection: Record<string, { ServerReflection: grpc.ServiceClientConstructor }> };
    };
    const Ctor = pkg.grpc.reflection[version]!.ServerReflection;
    this.client = new Ctor(address, grpc.credentials.createInsecure());
    const c = this.client as unknown as {
      ServerReflectionInfo(): grpc.ClientDuplexStream<ReflectionRequest, ReflectionResponse>;
    };
    this.stream = c.ServerReflectionInfo();
    this.stream.on("data", (r: ReflectionResponse) => this.waiting.shift()?.resolve(r));
    this.stream.on("error", (e) => {
      this.failure = e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
  }

  request(req: ReflectionRequest): Promise<ReflectionResponse> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.stream.write({ host: "", ...req });
    });
  }

  async listServices(): Promise<string[]> {
    const res = await this.request({ list_services: "*" });
    if (!res.list_services_response) throw new Error(`list_services: ${JSON.stringify(res)}`);
    return res.list_services_response.service.map((s) => s.name);
  }

  /** The FileDescriptorProtos of a file_containing_symbol / file_by_filename answer. */
  async files(req: ReflectionRequest): Promise<FileDescriptorProto[]> {
    const res = await this.request(req);
    if (!res.file_descriptor_response) {
      throw new Error(`${JSON.stringify(req)}: ${res.error_response?.error_message ?? res.message_response}`);
    }
    return res.file_descriptor_response.file_descriptor_proto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
  }

  /**
   * A registry of the file that defines `symbol` and everything it imports, fetching any
   * import the answer left out by file name (as grpcurl does). The descriptors are taken
   * as served: relative type names or a missing json_name would fail here, as in Go clients.
   */
  async registryFor(symbol: string): Promise<FileRegistry> {
    const byName = new Map<string, FileDescriptorProto>();
    for (const f of await this.files({ file_containing_symbol: symbol })) byName.set(f.name, f);
    for (let missing = this.missing(byName); missing.length > 0; missing = this.missing(byName)) {
      for (const name of missing) {
        for (const f of await this.files({ file_by_filename: name })) byName.set(f.name, f);
      }
    }
    // A FileDescriptorSet is read in order: every file after the files it imports.
    const ordered: FileDescriptorProto[] = [];
    const visit = (f: FileDescriptorProto) => {
      if (ordered.includes(f)) return;
      for (const dep of f.dependency) visit(byName.get(dep)!);
      ordered.push(f);
    };
    for (const f of byName.values()) visit(f);
    return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
  }

  private missing(byName: Map<string, FileDescriptorProto>): string[] {
    return [...new Set([...byName.values()].flatMap((f) => f.dependency))].filter((d) => !byName.has(d));
  }

  close(): void {
    this.stream.end();
    this.client.close();
  }
}

/** A `grpc.health.v1.Health` client (the proto shipped inside grpc-health-check). */
export function createHealthClient(address: string, healthProtoPath: string) {
  const def = protoLoader.loadSync(healthProtoPath, LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  return {
    check(service: string): Promise<{ status: string }> {
      return new Promise((resolve, reject) =>
        (
          client as unknown as {
            Check(req: { service: string }, cb: (e: grpc.ServiceError | null, r: { status: string }) => void): void;
          }
        ).Check({ service }, (err, res) => (err ? reject(err) : resolve(res))),
      );
    },
    close: () => client.close(),
  };
}
