/**
 * A process that logs five lines through the service's log destination and then ends as its
 * argument says (test/log-destination.test.ts): `exit` (process.exit(0)), `throw` (an uncaught
 * exception), `empty` (the event loop runs empty).
 */
import { pino } from "pino";
import { createLogDestination } from "../../src/server/create-log-destination.js";

const logger = pino({ level: "info" }, createLogDestination());
for (let i = 0; i < 5; i++) logger.info({ n: i }, "request");
const how = process.argv[2];
if (how === "exit") process.exit(0);
if (how === "throw") {
  setImmediate(() => {
    throw new Error("boom");
  });
}
