/**
 * Start-up failures a person can act on, and relative paths, through the real entry point
 * (`node --import tsx src/server/main.ts`) as its own process: each failure is one line on
 * stderr naming the variable or file and the cause, no stack trace (unless
 * LOG_LEVEL=debug), exit 1.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../scripts/lib/free-port.js";
import { DEMO_INVENTORY, TEST_SECRET } from "./support/test-server.js";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = join(ROOT, "src/server/main.ts");
/** tsx's loader by path: `--import tsx` would resolve from the working directory. */
const TSX = new URL("../node_modules/tsx/dist/loader.mjs", import.meta.url).href;
/** A scratch folder inside the project (git-ignored .tmp/), for the relative-path cases. */
const SCRATCH = join(ROOT, ".tmp", `startup-test-${process.pid}`);
mkdirSync(SCRATCH, { recursive: true });
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

interface Outcome {
  code: number | null;
  stderr: string;
  stdout: string;
  ready: boolean;
}

/** Runs main.ts from `cwd` (default: a directory that is not the project) until it exits, or is ready (then SIGTERM). */
async function runMain(env: Record<string, string>, cwd = tmpdir()): Promise<Outcome> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ["--import", TSX, MAIN], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HTTP_PORT: String(httpPort),
      GRPC_PORT: String(grpcPort),
      DATABASE_URL: join(SCRATCH, `db-${httpPort}.db`),
      AUTH_JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let ready = false;
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const port = Number(env.HTTP_PORT ?? httpPort);
  while (!done && !ready) {
    await new Promise((r) => setTimeout(r, 100));
    ready = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
  }
  if (ready) child.kill("SIGTERM");
  return { code: await exited, stderr, stdout, ready };
}

const stackLine = /^\s+at /m;

describe("start-up failures: one line, exit 1", { timeout: 90_000 }, () => {
  const jwksMissing = join(SCRATCH, "no-such-jwks.json");
  const corrupt = join(SCRATCH, "corrupt-inventory.json");
  writeFileSync(corrupt, "{ not json");
  it.each<{ name: string; env: Record<string, string>; line: RegExp }>([
    {
      name: "no auth setting",
      env: { AUTH_JWT_SECRET: "" },
      line: /^configuration error: AUTH_JWT_SECRET: no auth configured: set AUTH_JWT_SECRET, AUTH_JWKS_FILE or AUTH_JWKS_URL/,
    },
    {
      name: "a bad HTTP_PORT",
      env: { HTTP_PORT: "eighty" },
      line: /^configuration error: HTTP_PORT: must be a whole number/,
    },
    {
      name: "a missing INVENTORY_FILE",
      env: { INVENTORY_FILE: join(SCRATCH, "missing.json") },
      line: /^start-up failed: INVENTORY_FILE .*missing\.json: .*ENOENT/,
    },
    {
      name: "a corrupt INVENTORY_FILE",
      env: { INVENTORY_FILE: corrupt },
      line: /^start-up failed: INVENTORY_FILE .*corrupt-inventory\.json: /,
    },
    {
      name: "a missing JWKS file",
      env: { AUTH_JWT_SECRET: "", AUTH_JWKS_FILE: jwksMissing },
      line: /^start-up failed: AUTH_JWKS_FILE: cannot read a JSON key set from .*no-such-jwks\.json/,
    },
    {
      name: "a bad HOST",
      env: { HOST: "192.0.2.1" },
      line: /^start-up failed: (GRPC|HTTP)_PORT=\d+ on HOST=192\.0\.2\.1: cannot listen: HOST 192\.0\.2\.1 is not an address/,
    },
    {
      name: "a missing data directory",
      env: { DATABASE_URL: join(SCRATCH, "no-such-dir", "x.db") },
      line: /^start-up failed: DATABASE_URL .*no-such-dir\/x\.db: cannot open the SQLite file: /,
    },
  ])("$name", async (c) => {
    const out = await runMain(c.env);
    expect(out.code, out.stderr).toBe(1);
    const lines = out.stderr.trim().split("\n");
    expect(lines, out.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(c.line);
  });

  it("every bad variable at once, one line each", async () => {
    const out = await runMain({ HTTP_PORT: "eighty", LOG_LEVEL: "loud", MAX_VOLUMES: "0", AUTH_JWT_SECRET: "" });
    expect(out.code).toBe(1);
    const named = out.stderr
      .trim()
      .split("\n")
      .map((l) => /^configuration error: (\w+): /.exec(l)?.[1]);
    expect(named.sort()).toEqual(["AUTH_JWT_SECRET", "HTTP_PORT", "LOG_LEVEL", "MAX_VOLUMES"]);
  });

  it("a port in use names the variable", async () => {
    const port = await freePort();
    const blocker = net.createServer().listen(port, "127.0.0.1");
    await new Promise((r) => blocker.once("listening", r));
    try {
      const out = await runMain({ HTTP_PORT: String(port) });
      expect(out.code).toBe(1);
      expect(out.stderr.trim()).toMatch(
        new RegExp(`^start-up failed: HTTP_PORT=${port} on HOST=127\\.0\\.0\\.1: cannot listen: the port is in use$`),
      );
    } finally {
      blocker.close();
    }
  });

  it("the stack trace only at LOG_LEVEL=debug", async () => {
    const env = { INVENTORY_FILE: join(SCRATCH, "missing.json") };
    expect((await runMain(env)).stderr).not.toMatch(stackLine);
    const debug = await runMain({ ...env, LOG_LEVEL: "debug" });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^start-up failed: INVENTORY_FILE/);
    expect(debug.stderr).toMatch(stackLine);
  });

  it("PostgreSQL unreachable: retried with backoff until STORE_CONNECT_TIMEOUT_MS, then one line", async () => {
    const port = await freePort(); // nobody listens there
    const out = await runMain({
      DATABASE_URL: `postgres://app:secret@127.0.0.1:${port}/restorability`,
      STORE_CONNECT_TIMEOUT_MS: "1500",
    });
    expect(out.code).toBe(1);
    const retries = out.stdout.split("\n").filter((l) => l.includes("PostgreSQL unreachable: retrying"));
    expect(retries.length).toBeGreaterThanOrEqual(2);
    const lines = out.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^start-up failed: DATABASE_URL postgres:\/\/app:\*\*\*@127\.0\.0\.1:\d+\/restorability: PostgreSQL unreachable after \d+ attempt\(s\) in 1500 ms \(STORE_CONNECT_TIMEOUT_MS\)/,
    );
    expect(out.stderr).not.toContain("secret");
  });
});

describe("relative paths resolve against the project directory, not the working directory", { timeout: 90_000 }, () => {
  const rel = (p: string) => relative(ROOT, p);

  it("DATABASE_URL, INVENTORY_FILE and AUTH_DEV_SECRET_FILE (AUTH_DEV=1), run from another directory", async () => {
    const db = join(SCRATCH, "relative.db");
    const secret = join(SCRATCH, "relative-dev-secret");
    const out = await runMain({
      DATABASE_URL: rel(db),
      INVENTORY_FILE: rel(DEMO_INVENTORY),
      AUTH_JWT_SECRET: "",
      AUTH_DEV: "1",
      AUTH_DEV_SECRET_FILE: rel(secret),
    });
    expect(out.ready, out.stderr).toBe(true);
    expect(out.code).toBe(0);
    expect([existsSync(db), existsSync(secret)]).toEqual([true, true]);
    expect(out.stdout).toMatch(/DEVELOPMENT AUTH \(AUTH_DEV=1\), NOT FOR PRODUCTION/);
  });

  it("AUTH_JWKS_FILE", async () => {
    const jwks = join(SCRATCH, "relative-jwks.json");
    const { generateKeyPair, exportJWK } = await import("jose");
    const { publicKey } = await generateKeyPair("ES256");
    writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] }));
    const out = await runMain({ AUTH_JWT_SECRET: "", AUTH_JWKS_FILE: rel(jwks) });
    expect(out.ready, out.stderr).toBe(true);
    expect(out.code).toBe(0);
  });
});
