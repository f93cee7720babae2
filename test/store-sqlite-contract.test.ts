import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { createSqliteStore } from "../src/store/sqlite-store.js";
import { defineStoreContract } from "./support/store-contract.js";

const dir = mkdtempSync(join(tmpdir(), "restorability-contract-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// With the hot path's cache of looked-up objects (the default) and without it: the same answers.
defineStoreContract(
  "SQLite (temp file)",
  async (onQuery) => createSqliteStore({ path: join(dir, "store.db"), onQuery }),
  { cached: true },
);
defineStoreContract("SQLite (temp file, no cache)", async (onQuery) =>
  createSqliteStore({ path: join(dir, "uncached.db"), onQuery, cacheEntries: 0 }),
);
