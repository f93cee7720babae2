import { createPostgresStore } from "../src/store/postgres-store.js";
import { testDatabaseUrl } from "./support/postgres.js";
import { defineStoreContract } from "./support/store-contract.js";

/** Skipped without TEST_DATABASE_URL (an error in CI): see .ci/postgres.sh. */
const url = testDatabaseUrl();

defineStoreContract("PostgreSQL (TEST_DATABASE_URL)", async (onQuery) => createPostgresStore({ url: url!, onQuery }), {
  skip: url === undefined,
});
