import { createPostgresStore } from "../src/store/postgres-store.js";
import { testDatabaseUrl } from "./support/postgres.js";
import { defineStoreContract } from "./support/store-contract.js";

/** Skipped without TEST_DATABASE_URL (an error in CI): see .ci/postgres.sh. */
const url = testDatabaseUrl();

// With the hot path's cache (the default: kept while the store LISTENs for the triggers'
// notifications) and without it: the same answers.
defineStoreContract("PostgreSQL (TEST_DATABASE_URL)", async (onQuery) => createPostgresStore({ url: url!, onQuery }), {
  skip: url === undefined,
  cached: true,
});
defineStoreContract(
  "PostgreSQL (TEST_DATABASE_URL, no cache)",
  async (onQuery) => createPostgresStore({ url: url!, onQuery, cacheEntries: 0 }),
  { skip: url === undefined },
);
