import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.js";

/*
 * The gRPC port verifies the token from the headers, before the message is read or decoded
 * (issue #12): raw HTTP/2 streams, so the test controls exactly which bytes are sent.
 */

const PATH = "/csbs.v1.ResourceService/CheckRestorable";
let ts: TestServer;
let token: string;
let session: http2.ClientHttp2Session;

beforeAll(async () => {
  ts = await startTestServer();
  token = await ts.token();
  session = http2.connect(`http://${ts.grpcAddress}`);
  session.on("error", () => {});
});
afterAll(async () => {
  session?.close();
  await ts?.close();
});

interface Answer {
  status: string | undefined;
  message: string | undefined;
  /** Whether our side of the stream was still open when the answer came. */
  sentAll: boolean;
}

/** Opens a gRPC call, writes `chunks` (ending the request only when `end`), resolves with the grpc-status. */
function call(headers: Record<string, string>, chunks: Buffer[], end: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": PATH,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    // Resolves on the status (trailers, or a trailers-only response), not on the stream's
    // close: a request we never finish keeps our half of the stream open.
    const take = (h: http2.IncomingHttpHeaders) => {
      const status = h["grpc-status"] as string | undefined;
      if (status === undefined) return;
      resolve({ status, message: h["grpc-message"] as string | undefined, sentAll: stream.writableEnded });
      stream.close();
    };
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("data", () => {});
    stream.on("error", reject);
    stream.on("close", () => reject(new Error("stream closed without a grpc-status")));
    for (const chunk of chunks) stream.write(chunk);
    if (end) stream.end();
  });
}

/** A gRPC frame header announcing `length` bytes of message. */
function prefix(length: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(length, 1);
  return b;
}

/** 500,000 empty check_restorable entries (field 3, length 0): 1,000,000 bytes. */
const EMPTY_ENTRIES = Buffer.alloc(1_000_000);
for (let i = 0; i < EMPTY_ENTRIES.length; i += 2) EMPTY_ENTRIES[i] = 0x1a;
/** The same, then a field whose length runs past the end: not a valid message. */
const MALFORMED = Buffer.concat([EMPTY_ENTRIES.subarray(0, 999_000), Buffer.from([0x1a, 0x7f])]);

const UNAUTHENTICATED = "16";
const INVALID_ARGUMENT = "3";

describe("gRPC: the token is checked before the message", () => {
  it("headers and a length prefix without a token, the body never finished: UNAUTHENTICATED while the request is still open", async () => {
    const answer = await call({}, [prefix(100_000), Buffer.alloc(10)], false);
    expect(answer.status).toBe(UNAUTHENTICATED);
    expect(answer.sentAll).toBe(false);
  });

  it("a bad token: the same, without waiting for the body", async () => {
    const answer = await call({ "x-auth-token": "not-a-jwt" }, [prefix(100_000)], false);
    expect(answer.status).toBe(UNAUTHENTICATED);
    expect(answer.sentAll).toBe(false);
  });

  it.each([
    ["500,000 empty entries (1 MB)", EMPTY_ENTRIES],
    ["a malformed 1 MB message", MALFORMED],
  ])("%s without a token: UNAUTHENTICATED, never decoded", async (_name, message) => {
    const answer = await call({}, [prefix(message.length), message], true);
    expect(answer.status).toBe(UNAUTHENTICATED);
  });

  it("the malformed message with a valid token is decoded, and refused as INVALID_ARGUMENT", async () => {
    // The contrast to the test above: without a token the decoder never ran.
    const answer = await call({ "x-auth-token": token }, [prefix(MALFORMED.length), MALFORMED], true);
    expect(answer.status).toBe(INVALID_ARGUMENT);
    expect(decodeURIComponent(answer.message ?? "")).toMatch(
      /^request: cannot decode csbs\.v1\.CheckRestorableRequest/,
    );
  });

  it("a unary call still needs exactly one message: none or two are UNIMPLEMENTED, as grpc-js answers", async () => {
    const none = await call({ "x-auth-token": token }, [], true);
    expect(none.status).toBe("12");
    const empty = prefix(0);
    const two = await call({ "x-auth-token": token }, [empty, empty], true);
    expect(two.status).toBe("12");
  });
});
