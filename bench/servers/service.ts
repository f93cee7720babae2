/** The real service (dist/src/server/main.js, configured by its environment) with the timing hook. */
import "./timing-hook.js";
import "../../src/server/main.js";
