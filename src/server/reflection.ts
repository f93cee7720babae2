import { create, type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
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
  const set = create(FileDescriptorSetSchema, { file: withDependencies(files).map((f) => f.proto) });
  const ours = protoLoader.loadFileDescriptorSetFromBuffer(Buffer.from(toBinary(FileDescriptorSetSchema, set)));
  const health = protoLoader.loadSync(healthProtoPath);
  new ReflectionService({ ...health, ...ours }).addToServer(server);
}
