import { create, type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  Health,
  type HealthCheckRequest,
  HealthCheckResponse_ServingStatus as Status,
} from "../../../gen/grpc/health/v1/health_pb.js";

export type ServingStatus = "SERVING" | "NOT_SERVING";

export interface HealthService {
  setStatus(service: string, status: ServingStatus): void;
}

/**
 * The standard gRPC health service (`grpc.health.v1.Health`: Check, Watch, List) from the
 * protobuf-es descriptors in gen/, as grpc-health-check serves it, without loading
 * protobufjs and parsing health.proto at start-up. Check of an unknown service is
 * NOT_FOUND; Watch of one streams SERVICE_UNKNOWN, then every change.
 */
export function addHealth(server: grpc.Server, initial: Readonly<Record<string, ServingStatus>>): HealthService {
  const statuses = new Map<string, ServingStatus>(Object.entries(initial));
  const watchers = new Map<string, Set<(status: Status) => void>>();
  const statusOf = (service: string) => {
    const s = statuses.get(service);
    return s === undefined ? Status.SERVICE_UNKNOWN : Status[s];
  };

  const definition = (
    method: (typeof Health.method)[keyof typeof Health.method],
  ): grpc.MethodDefinition<unknown, unknown> => ({
    path: `/${Health.typeName}/${method.name}`,
    requestStream: false,
    responseStream: method.methodKind === "server_streaming",
    originalName: method.localName,
    requestSerialize: (m: unknown) => Buffer.from(toBinary(method.input as DescMessage, m as never)),
    requestDeserialize: (b: Buffer) => fromBinary(method.input as DescMessage, b),
    responseSerialize: (m: unknown) => Buffer.from(toBinary(method.output as DescMessage, m as never)),
    responseDeserialize: (b: Buffer) => fromBinary(method.output as DescMessage, b),
  });
  const response = (status: Status) => create(Health.method.check.output, { status });

  server.addService(
    {
      Check: definition(Health.method.check),
      Watch: definition(Health.method.watch),
      List: definition(Health.method.list),
    } as grpc.ServiceDefinition,
    {
      Check: (call: grpc.ServerUnaryCall<HealthCheckRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const { service } = call.request;
        const status = statusOf(service);
        if (status === Status.SERVICE_UNKNOWN) {
          callback({ code: grpc.status.NOT_FOUND, details: `Health status unknown for service ${service}` });
        } else callback(null, response(status));
      },
      Watch: (call: grpc.ServerWritableStream<HealthCheckRequest, unknown>) => {
        const { service } = call.request;
        let last: Status | undefined;
        const send = (status: Status) => {
          if (status === last) return;
          last = status;
          call.write(response(status));
        };
        const set = watchers.get(service) ?? new Set();
        watchers.set(service, set.add(send));
        call.on("cancelled", () => set.delete(send));
        send(statusOf(service));
      },
      List: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const listed = Object.fromEntries([...statuses].map(([service, s]) => [service, response(Status[s])]));
        callback(null, create(Health.method.list.output, { statuses: listed }));
      },
    },
  );

  return {
    setStatus(service, status) {
      statuses.set(service, status);
      for (const send of watchers.get(service) ?? []) send(Status[status]);
    },
  };
}
