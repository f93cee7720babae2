/**
 * gRPC ceiling: a bare @grpc/grpc-js unary method on the service's path that decodes the same
 * request message (protobuf-es) and answers with the service's response bytes for it (same
 * message sizes both ways). No auth, no store, no connect-es handler context.
 */
import "./timing-hook.js";
import { fromBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { CheckRestorableRequestSchema } from "../../gen/csbs/v1/resource_service_pb.js";
import { cannedAnswer, FAILING, GRPC_PATH, RESTORABLE } from "../lib/fixtures.js";

const answers = new Map(
  [RESTORABLE, FAILING].map((c) => [c.request.checkpoint_item_id, Buffer.from(cannedAnswer([c]).binary)] as const),
);
const fallback = Buffer.from(cannedAnswer([RESTORABLE]).binary);

type Request = ReturnType<typeof fromBinary<typeof CheckRestorableRequestSchema>>;
const server = new grpc.Server();
server.addService(
  {
    CheckRestorable: {
      path: GRPC_PATH,
      requestStream: false,
      responseStream: false,
      requestDeserialize: (b: Buffer) => fromBinary(CheckRestorableRequestSchema, b),
      requestSerialize: () => Buffer.alloc(0),
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  } as grpc.ServiceDefinition,
  {
    CheckRestorable: (call: grpc.ServerUnaryCall<Request, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      callback(null, answers.get(call.request.checkRestorable[0]?.checkpointItemId ?? "") ?? fallback);
    },
  },
);
server.bindAsync(`127.0.0.1:${process.env.PORT}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
});
