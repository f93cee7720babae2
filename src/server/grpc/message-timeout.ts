import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { ErrorInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../../gen/google/rpc/status_pb.js";
import { csbsError } from "../../service/csbs-error.js";

/**
 * The gRPC port's message timeout: a call whose request message has not fully arrived `ms`
 * after its headers (a stream that sent headers and a length prefix and then nothing) ends
 * with DEADLINE_EXCEEDED and the CSBS ErrorInfo (CSBS.9998), and its stream is reset.
 * A client deadline (`grpc-timeout`) only starts once the message is decoded, and
 * keepalive only sees dead connections, so without this such a stream stays open.
 *
 * Every method on the port has it: the handlers of addConnectService keep the timer
 * themselves (`own` their paths, `arm` a timer when the headers arrive); the `interceptor`
 * times the calls of every other method (health, reflection) and lets the owned ones through
 * unwrapped, without a second intercepting layer per call.
 */
export interface MessageTimeout {
  /** For the grpc-js Server's `interceptors`. */
  readonly interceptor: grpc.ServerInterceptor;
  /** A method whose handler arms the timer itself: the interceptor leaves its calls alone. */
  own(path: string): void;
  /**
   * Starts the timer of a call whose handler runs when its headers arrive (a client-streaming
   * registration): on expiry, `fail` answers the call with the failure (DEADLINE_EXCEEDED,
   * CSBS.9998) and reports it as any finished call, then the call's stream is reset. Clear it
   * (clearTimeout) once the message, the half-close, an error or a cancellation has arrived,
   * or when the call is answered.
   */
  arm(call: grpc.ServerReadableStream<unknown, unknown>, fail: (error: ConnectError) => void): NodeJS.Timeout;
}

export function createMessageTimeout(ms: number): MessageTimeout {
  const error = csbsError("deadline_exceeded", `the request message did not arrive within ${ms} ms`);
  const info = error.findDetails(ErrorInfoSchema)[0]!;
  const details = Buffer.from(
    toBinary(
      StatusSchema,
      create(StatusSchema, { code: error.code, message: error.rawMessage, details: [anyPack(ErrorInfoSchema, info)] }),
    ),
  );
  const metadata = new grpc.Metadata();
  metadata.set("grpc-status-details-bin", details);
  // One status for every expired call: grpc-js copies the metadata of a status it sends.
  const status = { code: grpc.status.DEADLINE_EXCEEDED, details: error.rawMessage, metadata };
  const owned = new Set<string>();

  const expire = (call: grpc.ServerReadableStream<unknown, unknown>, fail: (error: ConnectError) => void) => {
    fail(error);
    // A handler's stream reads its call through a private `call`: grpc-js's base call when
    // no other interceptor wraps it, whose `stream` is the HTTP/2 stream.
    resetStream((call as unknown as { call?: { stream?: Partial<http2.ServerHttp2Stream> } }).call?.stream);
  };

  const interceptor: grpc.ServerInterceptor = (method, call) => {
    // grpc-js chains what an interceptor returns as a ServerInterceptingCallInterface, which the
    // call it was given is (its ServerInterceptor type names the class, hence the cast).
    if (owned.has(method.path)) return call as grpc.ServerInterceptingCall;
    let timer: NodeJS.Timeout | undefined;
    const clear = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    const intercepting: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
      start(next) {
        timer = setTimeout(() => {
          timer = undefined;
          intercepting.sendStatus(status);
          // Through the HTTP/2 stream of grpc-js's base call when this interceptor wraps it directly.
          resetStream((call as unknown as { stream?: Partial<http2.ServerHttp2Stream> }).stream);
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

  return {
    interceptor,
    own: (path) => {
      owned.add(path);
    },
    arm: (call, fail) => setTimeout(expire, ms, call, fail),
  };
}

/**
 * The status ends the server's side only; the caller's side stays open as long as it likes.
 * Reset the stream (RFC 9113 §8.1: NO_ERROR, "stop sending").
 */
function resetStream(stream: Partial<http2.ServerHttp2Stream> | undefined): void {
  if (typeof stream?.close === "function" && "rstCode" in stream) {
    setImmediate(() => stream.closed || stream.close?.(http2.constants.NGHTTP2_NO_ERROR));
  }
}
