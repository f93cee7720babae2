/**
 * The real service as shipped (dist/server.mjs, the bundle `npm start` and the Dockerfile run,
 * configured by its environment) with the timing hook, which is imported first.
 */
import "./timing-hook.js";

await import(new URL("../../server.mjs", import.meta.url).href);
