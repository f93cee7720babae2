/**
 * Requests Node's own HTTP parser refuses (before Express sees them) still get the CSBS
 * error body and an X-Request-Id: raw bytes on a net.Socket.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.js";

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts?.close();
});

/** Writes the bytes, reads until the server closes the connection. */
function exchange(bytes: string): Promise<string> {
  const { port } = new URL(ts.httpUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), "127.0.0.1", () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.on("error", reject);
  });
}

function parse(raw: string) {
  const [head, body] = raw.split("\r\n\r\n", 2) as [string, string];
  const [statusLine, ...lines] = head.split("\r\n");
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
  );
  return { status: Number(statusLine!.split(" ")[1]), headers, body: JSON.parse(body) as Record<string, unknown> };
}

const PATH = "/v1/demo-project/providers/x/resources/action";

describe("Node's parser rejections answer the CSBS body", () => {
  it.each([
    {
      name: "headers too large → 431",
      bytes: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
      status: 431,
      message: /^headers: /,
    },
    {
      name: "Content-Length and Transfer-Encoding both (smuggling) → 400",
      bytes: `POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      status: 400,
      message: /^request: malformed HTTP request/,
    },
    {
      name: "a malformed request line → 400",
      bytes: "GET /healthz HTTP/9\r\n\r\n",
      status: 400,
      message: /^request: malformed HTTP request/,
    },
  ])("$name", async ({ bytes, status, message }) => {
    const answer = parse(await exchange(bytes));
    expect(answer.status).toBe(status);
    expect(answer.headers["content-type"]).toMatch(/^application\/json/);
    expect(answer.body.error_code).toBe("CSBS.9001");
    expect(answer.body.error_msg).toMatch(message);
    expect(answer.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.body.request_id).toBe(answer.headers["x-request-id"]);
  });
});
