import { configDefaults, defineConfig } from "vitest/config";

/** The 30 s load test runs on its own (`npm run test:load`, vitest.load.config.ts), not in `npm test`. */
export const LOAD_TEST = "test/load.test.ts";

export const shared = { testTimeout: 30_000, hookTimeout: 60_000, pool: "forks" } as const;

export default defineConfig({
  test: {
    ...shared,
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, LOAD_TEST],
  },
});
