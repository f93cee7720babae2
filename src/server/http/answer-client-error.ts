import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import type { Logger } from "pino";

/** What Node's HTTP parser refused, as the status and CSBS message to answer. */
function answerOf(error: NodeJS.ErrnoException): { status: number; reason: string; message: string } {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return {
        status: 431,
        reason: "Request Header Fields Too Large",
        message: "headers: the request headers are too large",
      };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: 408, reason: "Request Timeout", message: "request: the request did not arrive in time" };
    default:
      return {
        status: 400,
        reason: "Bad Request",
        message: `request: malformed HTTP request (${error.code ?? "parse error"})`,
      };
  }
}

/**
 * The `clientError` listener of the HTTP server: a request Node's own parser refuses
 * (headers too large: 431; a malformed or ambiguous request, e.g. both Content-Length and
 * Transfer-Encoding: 400; too slow: 408) gets the flat CSBS error body and an
 * `X-Request-Id`, like every other answer of the port, and the connection is closed.
 */
export function answerClientError(logger: Logger): (error: NodeJS.ErrnoException, socket: Socket) => void {
  return (error, socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, reason, message } = answerOf(error);
    const requestId = randomUUID();
    const body = JSON.stringify({ error_code: "CSBS.9001", error_msg: message, request_id: requestId });
    logger.info(
      { request_id: requestId, protocol: "http", status, error_code: error.code },
      "request refused by the HTTP parser",
    );
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\n` +
        "Content-Type: application/json; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        "Connection: close\r\n\r\n" +
        body,
    );
  };
}
