/**
 * The deployable artefacts as processes. The Dockerfile's CMD with its ENV (images cannot
 * be built here: the exact command runs against `npm run build`): refuses to start without
 * auth, serves, its HEALTHCHECK passes, SIGTERM → exit 0.
 * The quick-start command as a process that can be stopped: `npm start` as a child, a
 * burst of REST calls, SIGTERM to its process group (what systemd and a terminal send) or
 * to npm's pid alone (what a container runtime sends to PID 1). Every call is answered,
 * node exits, and no process of the group is left.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { BENCH_PROJECT, CSBS_PROVIDER_ID, restoreEntry, writeInventoryFile } from "../bench/lib/inventory.js";
import { freePort } from "../scripts/lib/free-port.js";
import { mintToken } from "../src/auth/mint-token.js";
import { WORKER_MIN_BYTES } from "../src/store/import-inventory.js";
import { demoCases } from "./support/demo-cases.js";
import { restBurst, tally } from "./support/drain-load.js";
import { TEST_SECRET } from "./support/test-server.js";

const ROOT = new URL("..", import.meta.url).pathname;
let child: ChildProcess | undefined;
let dir: string | undefined;

afterEach(() => {
  if (child?.pid !== undefined) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // the group is gone
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Pids still in the process group (the group id is the npm pid: it was started detached). */
function groupMembers(pgid: number): number[] {
  const out = execFileSync("ps", ["-e", "-o", "pid=,pgid="], { encoding: "utf8" });
  return out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter(([, g]) => g === pgid)
    .map(([p]) => p!);
}

async function waitReady(port: number, exited: Promise<unknown>): Promise<void> {
  let done = false;
  void exited.then(() => {
    done = true;
  });
  for (let i = 0; i < 1200 && !done; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`npm start not ready on ${port}`);
}

describe("npm start stops cleanly", () => {
  it.each([
    { target: "its process group", group: true },
    { target: "npm's pid alone", group: false },
  ])(
    "SIGTERM to $target: 100 calls answered, node exits, nothing left",
    async ({ group }) => {
      dir = mkdtempSync(join(tmpdir(), "npm-start-"));
      const httpPort = await freePort();
      const grpcPort = await freePort();
      child = spawn("npm", ["start"], {
        cwd: ROOT,
        detached: true, // its own process group, as under systemd or a terminal
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          HTTP_PORT: String(httpPort),
          GRPC_PORT: String(grpcPort),
          DATABASE_URL: join(dir, "start.db"),
          AUTH_JWT_SECRET: TEST_SECRET,
          SHUTDOWN_TIMEOUT_MS: "20000",
          LOG_LEVEL: "warn",
        },
      });
      let output = "";
      child.stdout!.on("data", (d: Buffer) => {
        output += d.toString();
      });
      child.stderr!.on("data", (d: Buffer) => {
        output += d.toString();
      });
      const npmPid = child.pid!;
      const npmExit = new Promise<[number | null, string | null]>((resolve) =>
        child!.once("exit", (code, signal) => resolve([code, signal])),
      );
      await waitReady(httpPort, npmExit);
      const token = await mintToken({ secret: TEST_SECRET, projectId: demoCases.project_id, ttl: "5m" });

      const burst = restBurst(httpPort, token, 100, 100);
      await burst.first;
      if (group) process.kill(-npmPid, "SIGTERM");
      else process.kill(npmPid, "SIGTERM");
      const results = await burst.results;
      const [code, signal] = await npmExit;
      // node may outlive npm by the time it takes to close: give it the shutdown budget.
      let left = groupMembers(npmPid);
      for (let i = 0; i < 100 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        left = groupMembers(npmPid);
      }
      console.info(
        `npm start, SIGTERM to ${group ? "group" : "npm pid"}: ${JSON.stringify(tally(results))}, npm exit ${code}/${signal}, left ${left.length}`,
      );
      expect(tally(results), output).toEqual({ 200: 100 });
      expect([code, signal]).toEqual([0, null]);
      expect(left).toEqual([]);
    },
    180_000,
  );
});

/** The runtime stage (the last FROM) of the Dockerfile: its ENV, CMD and HEALTHCHECK command. */
function parseDockerfile(text: string) {
  const lines = text
    .replace(/\\\n/g, " ") // continuation lines
    .split("\n")
    .map((l) => l.trim());
  const stage = lines.slice(lines.map((l) => /^FROM /i.test(l)).lastIndexOf(true));
  const env: Record<string, string> = {};
  for (const l of stage.filter((l) => /^ENV /i.test(l))) {
    for (const m of l.slice(4).matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, "");
  }
  const json = (prefix: RegExp) => {
    const line = stage.find((l) => prefix.test(l));
    return line === undefined ? undefined : (JSON.parse(line.replace(prefix, "")) as string[]);
  };
  return {
    env,
    cmd: json(/^CMD\s+/i),
    healthcheck: json(/^HEALTHCHECK\s+.*?CMD\s+/i),
    user: stage.find((l) => /^USER /i.test(l))?.slice(5),
    expose: stage.filter((l) => /^EXPOSE /i.test(l)).flatMap((l) => l.slice(7).split(/\s+/)),
  };
}

describe("the Dockerfile's CMD and ENV", () => {
  const docker = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
  beforeAll(() => {
    execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "ignore" });
  }, 180_000);

  it("runtime stage: non-root, both ports exposed, HOST=0.0.0.0, node as PID 1, healthcheck with node", () => {
    expect(docker.user).toBe("node");
    expect(docker.env.HOST).toBe("0.0.0.0");
    expect(docker.expose.sort()).toEqual([docker.env.HTTP_PORT, docker.env.GRPC_PORT].sort());
    expect(docker.cmd?.[0]).toBe("node");
    // The bundle npm run build makes (scripts/bundle-server.ts), the same file npm start runs.
    expect(docker.cmd?.at(-1)).toBe("dist/server.mjs");
    expect(docker.healthcheck?.[0]).toBe("node");
  });

  async function runCmd(extra: Record<string, string>) {
    dir = mkdtempSync(join(tmpdir(), "dockerfile-cmd-"));
    // Exactly the image's environment, but free ports and a writable data directory here.
    const env = {
      PATH: process.env.PATH,
      ...docker.env,
      HTTP_PORT: String(await freePort()),
      GRPC_PORT: String(await freePort()),
      DATABASE_URL: join(dir, "restorability.db"),
      ...extra,
    };
    const [command, ...args] = docker.cmd!;
    child = spawn(command!, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout!.resume();
    const exit = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    return { env, exit, stderr: () => stderr };
  }

  it("without an auth setting: one line naming the three variables, exit 1", async () => {
    const run = await runCmd({});
    expect(await run.exit).toBe(1);
    expect(run.stderr().trim()).toMatch(
      /^configuration error: AUTH_JWT_SECRET: no auth configured: set AUTH_JWT_SECRET, AUTH_JWKS_FILE or AUTH_JWKS_URL/,
    );
  });

  it("a large INVENTORY_FILE is read on the bundle's worker thread (dist/inventory-reader-worker.js)", async () => {
    const inventory = join(mkdtempSync(join(tmpdir(), "large-inventory-")), "inventory.json");
    const items = 24_000;
    try {
      await writeInventoryFile(inventory, items, "json");
      expect(statSync(inventory).size).toBeGreaterThanOrEqual(WORKER_MIN_BYTES);
      const run = await runCmd({ AUTH_JWT_SECRET: TEST_SECRET, INVENTORY_FILE: inventory });
      await waitReady(Number(run.env.HTTP_PORT), run.exit);
      const token = await mintToken({ secret: TEST_SECRET, projectId: BENCH_PROJECT, ttl: "5m" });
      const response = await fetch(
        `http://127.0.0.1:${run.env.HTTP_PORT}/v1/${BENCH_PROJECT}/providers/${CSBS_PROVIDER_ID}/resources/action`,
        {
          method: "POST",
          headers: { "content-type": "application/json", "x-auth-token": token },
          body: JSON.stringify({ check_restorable: [restoreEntry(items - 1)] }),
        },
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as { restorable: Array<{ result: boolean; error_code?: string }> };
      // The last item of the file was imported (an unknown item would be ... result false with a code).
      expect(body.restorable[0]).toMatchObject({ result: true });
      child!.kill("SIGTERM");
      expect(await run.exit).toBe(0);
    } finally {
      rmSync(dirname(inventory), { recursive: true, force: true });
    }
  }, 60_000);

  it("with AUTH_JWT_SECRET: serves, the HEALTHCHECK passes, SIGTERM → exit 0", async () => {
    const run = await runCmd({ AUTH_JWT_SECRET: TEST_SECRET, INVENTORY_FILE: join(ROOT, "data/demo-inventory.json") });
    await waitReady(Number(run.env.HTTP_PORT), run.exit);
    const [hc, ...hcArgs] = docker.healthcheck!;
    expect(() => execFileSync(hc!, hcArgs, { env: run.env, stdio: "ignore" })).not.toThrow();
    const token = await mintToken({ secret: TEST_SECRET, projectId: demoCases.project_id, ttl: "5m" });
    const burst = restBurst(Number(run.env.HTTP_PORT), token, 10, 10);
    expect(tally(await burst.results)).toEqual({ 200: 10 });
    // The bundle (dist/server.mjs) on the gRPC port, to a strict client: buf curl resolves the
    // schema by reflection and calls CheckRestorable.
    const sample = demoCases.restore[0]!;
    const { stdout } = await promisify(execFile)(
      join(ROOT, "node_modules/.bin/buf"),
      [
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "-H",
        `x-auth-token: ${token}`,
        "-d",
        JSON.stringify({
          project_id: demoCases.project_id,
          provider_id: demoCases.provider_id,
          check_restorable: [sample.request],
        }),
        `http://127.0.0.1:${run.env.GRPC_PORT}/csbs.v1.ResourceService/CheckRestorable`,
      ],
      { cwd: ROOT },
    );
    expect((JSON.parse(stdout) as { restorable: Array<{ result?: boolean }> }).restorable[0]!.result ?? false).toBe(
      sample.expected.result,
    );
    // The version of package.json in csbs_build_info, found from the bundle's location.
    const metrics = await (await fetch(`http://127.0.0.1:${run.env.HTTP_PORT}/metrics`)).text();
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(metrics).toContain(`csbs_build_info{version="${version}",`);
    child!.kill("SIGTERM");
    expect(await run.exit).toBe(0);
  });
});
