import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.js";

/**
 * The README's client examples, run as a reader would run them against a real server: the
 * connect-es client (examples/client.ts, embedded verbatim in the README) and every `buf curl`
 * line of the README (the real buf binary), with the README's ports replaced by the test
 * server's.
 */
const ROOT = new URL("..", import.meta.url).pathname;
const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const run = promisify(execFile);

let ts: TestServer;
let token: string;

beforeAll(async () => {
  ts = await startTestServer();
  token = await ts.token();
});
afterAll(async () => {
  await ts?.close();
});

/** The fenced block of the given language that follows `heading` in the README. */
function blockAfter(heading: string, lang: string): string {
  const at = README.indexOf(heading);
  expect(at, heading).toBeGreaterThanOrEqual(0);
  const open = README.indexOf(`\`\`\`${lang}\n`, at);
  const close = README.indexOf("\n```\n", open);
  return README.slice(open + lang.length + 4, close + 1);
}

describe("README: TypeScript client", () => {
  it("embeds examples/client.ts verbatim", () => {
    expect(blockAfter("### TypeScript client", "ts")).toBe(readFileSync(`${ROOT}examples/client.ts`, "utf8"));
  });

  it("examples/client.ts prints what the README says, over gRPC and Connect", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "examples/client.ts"], {
      cwd: ROOT,
      env: { ...process.env, TOKEN: token, GRPC_URL: `http://${ts.grpcAddress}`, HTTP_URL: ts.httpUrl },
      timeout: 20_000,
    });
    const shown = blockAfter("Its output with the demo data", "");
    expect(stdout).toBe(shown);
  });
});

describe("README: every buf curl line works against a real server", () => {
  const block = blockAfter("The same with `buf curl`", "sh");
  const body = /^BODY='(.*)'$/m.exec(block)?.[1];
  const lines = block.split("\n").filter((l) => l.startsWith("npx buf curl"));

  it("has the request body and six commands", () => {
    expect(body).toBeDefined();
    expect(lines).toHaveLength(6);
  });

  it.each(lines)("%s", async (line) => {
    const command = line
      .replace("http://127.0.0.1:50051", `http://${ts.grpcAddress}`)
      .replace("http://127.0.0.1:8080", ts.httpUrl);
    const { stdout } = await run("bash", ["-c", command], {
      cwd: ROOT,
      env: { ...process.env, TOKEN: token, BODY: body ?? "" },
      timeout: 30_000,
    });
    if (line.includes("CheckRestorable")) {
      expect(JSON.parse(stdout)).toMatchObject({
        restorable: [{ result: true, resourceId: "5aa119a8-d25b-45a7-8d1b-88e127885635" }],
      });
    } else if (line.includes("--list-services")) {
      expect(stdout.split("\n")).toEqual(expect.arrayContaining(["csbs.v1.ResourceService", "grpc.health.v1.Health"]));
    } else if (line.includes("--list-methods")) {
      expect(stdout.split("\n")).toEqual(
        expect.arrayContaining([
          "csbs.v1.ResourceService/CheckRestorable",
          "csbs.v1.ResourceService/CheckProtectable",
          "grpc.health.v1.Health/Check",
        ]),
      );
    } else {
      expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
    }
  });
});
