import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createWalChangeGate } from "../src/store/wal-change-gate.js";

/**
 * The gate in front of `PRAGMA data_version` (src/store/wal-change-gate.ts), on real SQLite
 * files in WAL mode with real connections: it may say "changed" too often, never too rarely.
 */
let dir: string;
let path: string;
let own: Database.Database;
let others: Database.Database[];

function connect(): Database.Database {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  return db;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "wal-gate-"));
  path = join(dir, "db.sqlite");
  own = connect();
  own.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  others = [connect(), connect()];
});
afterEach(() => {
  for (const db of [own, ...others]) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the WAL change gate", () => {
  it("says changed once at first, then not while nothing is committed (reads included)", () => {
    const gate = createWalChangeGate(path);
    expect(gate.changed()).toBe(true);
    expect(gate.changed()).toBe(false);
    others[0]!.prepare("SELECT count(*) FROM t").get();
    own.prepare("SELECT * FROM t").all();
    expect(gate.changed()).toBe(false);
    gate.close();
  });

  const commits: Array<[string, () => void]> = [
    ["another connection's insert", () => others[0]!.prepare("INSERT INTO t (v) VALUES ('a')").run()],
    ["this connection's insert", () => own.prepare("INSERT INTO t (v) VALUES ('b')").run()],
    [
      "a commit after another connection's TRUNCATE checkpoint (the WAL starts over)",
      () => {
        others[0]!.prepare("INSERT INTO t (v) VALUES ('c')").run();
        others[1]!.pragma("wal_checkpoint(TRUNCATE)");
        others[1]!.prepare("INSERT INTO t (v) VALUES ('d')").run();
      },
    ],
    [
      "a transaction of several statements",
      () =>
        others[1]!.transaction(() => {
          others[1]!.prepare("INSERT INTO t (v) VALUES ('e')").run();
          others[1]!.prepare("DELETE FROM t WHERE v = 'e'").run();
        })(),
    ],
  ];
  it.each(commits)("says changed after %s, once", (_name, commit) => {
    const gate = createWalChangeGate(path);
    gate.changed();
    expect(gate.changed()).toBe(false);
    commit();
    expect(gate.changed()).toBe(true);
    expect(gate.changed()).toBe(false);
    gate.close();
  });

  it("never says unchanged when data_version moved: random commits, reads and checkpoints", () => {
    const gate = createWalChangeGate(path);
    const version = own.prepare<[], number>("PRAGMA data_version").pluck();
    gate.changed();
    let last = version.get()!;
    const op = fc.oneof(
      fc.record({ kind: fc.constant("insert" as const), who: fc.integer({ min: 0, max: 1 }), n: fc.nat(3) }),
      fc.record({ kind: fc.constant("read" as const), who: fc.integer({ min: 0, max: 1 }) }),
      fc.record({
        kind: fc.constant("checkpoint" as const),
        who: fc.integer({ min: 0, max: 1 }),
        mode: fc.constantFrom("PASSIVE", "FULL", "RESTART", "TRUNCATE"),
      }),
      fc.record({ kind: fc.constant("rollback" as const), who: fc.integer({ min: 0, max: 1 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 8 }), (ops) => {
        for (const o of ops) {
          const db = others[o.who]!;
          if (o.kind === "insert") for (let i = 0; i <= o.n; i++) db.prepare("INSERT INTO t (v) VALUES ('x')").run();
          else if (o.kind === "read") db.prepare("SELECT count(*) FROM t").get();
          else if (o.kind === "checkpoint") db.pragma(`wal_checkpoint(${o.mode})`);
          else {
            db.exec("BEGIN IMMEDIATE");
            db.prepare("INSERT INTO t (v) VALUES ('r')").run();
            db.exec("ROLLBACK");
          }
        }
        const changed = gate.changed();
        const now = version.get()!;
        if (now !== last) expect(changed).toBe(true);
        last = now;
      }),
      { numRuns: 300 },
    );
    gate.close();
  });

  it("always says changed where there is no -shm file (in memory, no file, not WAL)", () => {
    for (const gate of [createWalChangeGate(undefined), createWalChangeGate(join(dir, "absent.sqlite"))]) {
      expect([gate.changed(), gate.changed(), gate.changed()]).toEqual([true, true, true]);
      gate.close();
    }
  });
});
