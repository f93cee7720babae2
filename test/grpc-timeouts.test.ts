/**
 * The gRPC port's connection and stream timeouts, with a raw node:http2 client: a stream
 * that sent its headers and part of a message is ended with DEADLINE_EXCEEDED
 * and the CSBS ErrorInfo once GRPC_MESSAGE_TIMEOUT_MS has passed; an idle connection is
 * closed after GRPC_MAX_CONNECTION_IDLE_MS.
 */
import http2 from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ GRPC_MESSAGE_TIMEOUT_MS: "300", GRPC_MAX_CONNECTION_IDLE_MS: "1000" });
});
afterAll(async () => {
  await ts?.close();
});

/** gRPC CheckRestorable calls counted as DEADLINE_EXCEEDED with CSBS.9998 (GET /metrics). */
async function expiredCalls(): Promise<number> {
  const text = await (await fetch(`${ts.httpUrl}/metrics`)).text();
  const line = text
    .split("\n")
    .find(
      (l) =>
        l.startsWith("csbs_requests_total{") &&
        l.includes('protocol="grpc"') &&
        l.includes('method="CheckRestorable"') &&
        l.includes('code="deadline_exceeded"') &&
        l.includes('error_code="CSBS.9998"'),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("gRPC port timeouts", () => {
  // The service's methods keep the timer in their handlers, the others (health) through the interceptor.
  it.each(["/csbs.v1.ResourceService/CheckRestorable", "/grpc.health.v1.Health/Check"])(
    "%s: headers and a length prefix, then nothing: DEADLINE_EXCEEDED (CSBS.9998) and the stream closes",
    async (path) => {
      const session = http2.connect(`http://${ts.grpcAddress}`);
      try {
        const stream = session.request({
          ":method": "POST",
          ":path": path,
          "content-type": "application/grpc",
          te: "trailers",
          // A valid token: the call is admitted, only its message never arrives.
          "x-auth-token": await ts.token(),
        });
        const expiredBefore = await expiredCalls();
        // 1 000 bytes promised, 2 sent, never ended.
        stream.write(Buffer.from([0, 0, 0, 0x03, 0xe8, 0x1a, 0x00]));
        const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
          let last: http2.IncomingHttpHeaders = {};
          stream.on("response", (headers) => {
            last = headers;
          });
          stream.on("trailers", (headers) => {
            last = headers;
          });
          stream.on("error", reject);
          stream.resume();
          stream.on("close", () => resolve(last));
        });
        expect(trailers["grpc-status"]).toBe("4");
        const status = fromBinary(StatusSchema, Buffer.from(String(trailers["grpc-status-details-bin"]), "base64"));
        const info = anyUnpack(status.details[0]!, ErrorInfoSchema);
        expect(info?.reason).toBe("CSBS.9998");
        if (path.startsWith("/csbs.")) {
          // The service's own call is reported like any failed call: counted, with its code.
          expect(await expiredCalls()).toBe(expiredBefore + 1);
        }
      } finally {
        session.destroy();
      }
    },
  );

  it("a connection without calls is closed after GRPC_MAX_CONNECTION_IDLE_MS (GOAWAY)", async () => {
    const session = http2.connect(`http://${ts.grpcAddress}`);
    const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
    const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
    session.on("error", () => {});
    await goaway;
    await closed;
    expect(session.closed || session.destroyed).toBe(true);
  });
});
