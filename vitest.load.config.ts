import { defineConfig } from "vitest/config";
import { LOAD_TEST, shared } from "./vitest.config.js";

/** `npm run test:load`: the bounded load run against the service in its own process (about 30 s). */
export default defineConfig({ test: { ...shared, include: [LOAD_TEST] } });
