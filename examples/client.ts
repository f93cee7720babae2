// A typed client of the service with connect-es: the same generated ResourceService over the
// gRPC port (HTTP/2) and over the Connect protocol on the HTTP port.
// Run: TOKEN=$(npm run -s token -- --project demo-project) npx tsx examples/client.ts
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { ResourceService } from "../gen/csbs/v1/resource_service_pb.js";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";

const token = process.env.TOKEN ?? "";
const withToken: Interceptor = (next) => (req) => {
  req.header.set("x-auth-token", token);
  return next(req);
};
const transports = {
  grpc: createGrpcTransport({
    baseUrl: process.env.GRPC_URL ?? "http://127.0.0.1:50051",
    interceptors: [withToken],
  }),
  connect: createConnectTransport({
    baseUrl: process.env.HTTP_URL ?? "http://127.0.0.1:8080",
    httpVersion: "1.1",
    interceptors: [withToken],
  }),
};

for (const [name, transport] of Object.entries(transports)) {
  const client = createClient(ResourceService, transport);
  const { restorable } = await client.checkRestorable(
    {
      projectId: "demo-project",
      providerId: "fc4d5750-22e7-4798-8a46-f48f62c4c1da",
      checkRestorable: [
        {
          checkpointItemId: "8986ce68-3da7-4d29-9cc2-1921e9504975",
          target: {
            resourceId: "5aa119a8-d25b-45a7-8d1b-88e127885635",
            resourceType: "OS::Nova::Server",
            volumes: [
              { backupId: "7ea119a8-d25b-43a7-8d1b-88e12788513a", volumeId: "45baf976-c20a-4894-a7c3-c94b7376bf55" },
            ],
          },
        },
      ],
    },
    { timeoutMs: 2000 },
  );
  console.log(name, restorable.map((v) => `${v.resourceId} ${v.result} ${v.errorCode}`).join(", "));

  // A failure of the whole call is a ConnectError; its ErrorInfo carries the CSBS/APIGW code.
  try {
    await client.checkRestorable({ projectId: "another-project", providerId: "fc4d5750-22e7-4798-8a46-f48f62c4c1da" });
  } catch (error) {
    const e = ConnectError.from(error);
    const [info] = e.findDetails(ErrorInfoSchema);
    console.log(name, Code[e.code], info?.reason, info?.domain, e.rawMessage);
  }
}
