import { execFile } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogDestination, LOG_BUFFER_BYTES } from "../src/server/create-log-destination.js";
import { eventually } from "./support/eventually.js";

const ROOT = join(import.meta.dirname, "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "log-destination-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The JSON lines of a log file. */
function linesOf(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Ends a destination (it closes its file descriptor). */
function closed(destination: ReturnType<typeof createLogDestination>): Promise<void> {
  return new Promise((resolve) => {
    destination.once("close", () => resolve());
    destination.end();
  });
}

describe("the service's log destination (batched lines)", () => {
  it("a lone line far shorter than the buffer is written without any other line after it", async () => {
    const file = join(dir, "one.log");
    const fd = openSync(file, "w");
    const destination = createLogDestination({ fd });
    const logger = pino({ level: "info" }, destination);
    logger.info({ request_id: "r-1" }, "request");
    const lines = await eventually(
      () => linesOf(readFileSync(file, "utf8")),
      (l) => l.length === 1,
    );
    expect(lines.map((l) => l.request_id)).toEqual(["r-1"]);
    await closed(destination);
  });

  it("many lines (far more than one buffer) all arrive, in order, each whole", async () => {
    const file = join(dir, "many.log");
    const fd = openSync(file, "w");
    const destination = createLogDestination({ fd });
    const logger = pino({ level: "info" }, destination);
    const count = 2_000;
    for (let i = 0; i < count; i++) {
      logger.info({ n: i, pad: "x".repeat(i % 300) }, "request");
      // Some lines each turn of the event loop, as requests arrive.
      if (i % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const lines = await eventually(
      () => linesOf(readFileSync(file, "utf8")),
      (l) => l.length === count,
    );
    expect(lines.map((l) => l.n)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(readFileSync(file, "utf8").length).toBeGreaterThan(LOG_BUFFER_BYTES * 10);
    await closed(destination);
  });

  // The process's exit, a crash's included: the lines still held are written before it ends.
  const exits: Array<[string, string, number]> = [
    ["process.exit(0)", "exit", 0],
    ["an uncaught exception", "throw", 1],
    ["the event loop running empty", "empty", 0],
  ];
  it.each(exits)("lines held when the process ends by %s are written", async (_name, how, code) => {
    const result = await promisify(execFile)(TSX, [join(ROOT, "test", "support", "log-child.ts"), how], {
      cwd: ROOT,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    expect(result.code).toBe(code);
    expect(linesOf(result.stdout).map((l) => l.n)).toEqual([0, 1, 2, 3, 4]);
  });
});
