import { describe, expect, it } from "vitest";
import { type CancellationSignal, createCallCancellation } from "../src/service/call-cancellation.js";

/**
 * The hosts' light cancellation behaves as an AbortController's signal does for what the call
 * guard uses of it: each case runs against both and must log the same.
 */
type Maker = () => { signal: CancellationSignal; cancel(reason: unknown): void };
const makers: [string, Maker][] = [
  [
    "AbortController",
    () => {
      const c = new AbortController();
      return { signal: c.signal, cancel: (reason) => c.abort(reason) };
    },
  ],
  ["createCallCancellation", createCallCancellation],
];

const cases: [string, (m: ReturnType<Maker>, log: string[]) => void][] = [
  [
    "a listener is called once, with the reason readable",
    ({ signal, cancel }, log) => {
      signal.addEventListener("abort", () => log.push(`abort ${String(signal.reason)}`), { once: true });
      cancel("gone");
      cancel("again");
      log.push(`aborted ${signal.aborted} ${String(signal.reason)}`);
    },
  ],
  [
    "a removed listener is not called; the others are, in order",
    ({ signal, cancel }, log) => {
      const a = () => log.push("a");
      signal.addEventListener("abort", a, { once: true });
      signal.addEventListener("abort", () => log.push("b"), { once: true });
      signal.addEventListener("abort", () => log.push("c"), { once: true });
      signal.removeEventListener("abort", a);
      cancel(1);
    },
  ],
  [
    "a listener added after the abort is not called",
    ({ signal, cancel }, log) => {
      cancel(2);
      signal.addEventListener("abort", () => log.push("late"), { once: true });
      log.push(`aborted ${signal.aborted}`);
    },
  ],
  [
    "not aborted until cancelled",
    ({ signal }, log) => {
      log.push(`aborted ${signal.aborted} ${String(signal.reason)}`);
    },
  ],
];

describe("call cancellation", () => {
  it.each(cases)("%s, as an AbortSignal", (_name, run) => {
    const logs = makers.map(([, make]) => {
      const log: string[] = [];
      run(make(), log);
      return log;
    });
    expect(logs[1]).toEqual(logs[0]);
    expect(logs[0]!.length).toBeGreaterThan(0);
  });
});
