import { create, type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { protoPath as healthProtoPath } from "grpc-health-check";

/** The files and every file they import, dependencies first. */
function withDependencies(files: ReadonlyArray<DescFile>): DescFile[] {
  const seen = new Set<string>();
  const ordered: DescFile[] = [];
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    for (const dep of file.dependencies) visit(dep);
    ordered.push(file);
  };
  for (const file of files) visit(file);
  return ordered;
}

/**
 * Serves `grpc.reflection.v1` and `v1alpha` (for grpcurl) with the official
 * `@grpc/reflection` package, describing the given files and the health service.
 */
export function addReflection(server: grpc.Server, files: ReadonlyArray<DescFile>): void {
  const all = withDependencies(files);
  const set = create(FileDescriptorSetSchema, { file: all.map((f) => f.proto) });
  const ours = protoLoader.loadFileDescriptorSetFromBuffer(Buffer.from(toBinary(FileDescriptorSetSchema, set)));
  // proto-loader re-encodes descriptors through protobufjs (relative type names, no
  // json_name, imports used only by options dropped); serve the compiler's own instead.
  const exact = all.map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  for (const definition of Object.values(ours)) {
    // Message and enum definitions carry the descriptors the reflection service indexes.
    if ("fileDescriptorProtos" in definition) definition.fileDescriptorProtos = exact;
  }
  const health = protoLoader.loadSync(healthProtoPath);
  new ReflectionService({ ...health, ...ours }).addToServer(server);
}
