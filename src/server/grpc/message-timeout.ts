import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { ErrorInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../../gen/google/rpc/status_pb.js";
import { csbsError } from "../../service/csbs-error.js";

/**
 * A grpc-js server interceptor that ends a call whose request message has not fully
 * arrived `ms` after its headers (a stream that sent headers and a length prefix and then
 * nothing): DEADLINE_EXCEEDED with the CSBS ErrorInfo (CSBS.9998), and the stream closes.
 * A client deadline (`grpc-timeout`) only starts once the message is decoded, and
 * keepalive only sees dead connections, so without this such a stream stays open.
 */
export function messageTimeout(ms: number): grpc.ServerInterceptor {
  const error = csbsError("deadline_exceeded", `the request message did not arrive within ${ms} ms`);
  const info = error.findDetails(ErrorInfoSchema)[0]!;
  const details = Buffer.from(
    toBinary(
      StatusSchema,
      create(StatusSchema, { code: error.code, message: error.rawMessage, details: [anyPack(ErrorInfoSchema, info)] }),
    ),
  );
  return (_method, call) => {
    let timer: NodeJS.Timeout | undefined;
    const clear = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    const intercepting: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
      start(next) {
        timer = setTimeout(() => {
          timer = undefined;
          const metadata = new grpc.Metadata();
          metadata.set("grpc-status-details-bin", details);
          intercepting.sendStatus({ code: grpc.status.DEADLINE_EXCEEDED, details: error.rawMessage, metadata });
          // The status ends the server's side only; the caller's side stays open as long as it
          // likes. Reset the stream (RFC 9113 §8.1: NO_ERROR, "stop sending"), through the
          // HTTP/2 stream of grpc-js's base call when this interceptor wraps it directly.
          const stream = (call as unknown as { stream?: Partial<http2.ServerHttp2Stream> }).stream;
          if (typeof stream?.close === "function" && "rstCode" in stream) {
            setImmediate(() => stream.closed || stream.close?.(http2.constants.NGHTTP2_NO_ERROR));
          }
        }, ms);
        next({
          onReceiveMetadata: (metadata, nextMetadata) => nextMetadata(metadata),
          onReceiveMessage(message, nextMessage) {
            clear();
            nextMessage(message);
          },
          onReceiveHalfClose(nextHalfClose) {
            clear();
            nextHalfClose();
          },
          onCancel() {
            clear();
          },
        });
      },
      sendStatus(status, next) {
        clear();
        next(status);
      },
    });
    return intercepting;
  };
}
