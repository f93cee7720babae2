import pino from "pino";

export interface LogDestinationOptions {
  /** The file descriptor written to (1: stdout). */
  fd?: number;
  /** Lines are held until this many bytes are waiting (0: each line written at once). */
  bufferBytes?: number;
  /** Held lines are written at least this often, however few they are. */
  flushMs?: number;
}

/** The bytes held before a write: about 15 request lines. */
export const LOG_BUFFER_BYTES = 4096;
/** The longest a line waits in the buffer (an operator tailing the log sees it this late at most). */
export const LOG_FLUSH_MS = 100;

/**
 * The service's log stream: pino's asynchronous destination (sonic-boom) writing lines in
 * batches of about `bufferBytes`, and whatever waits every `flushMs`. One write per line costs
 * a syscall on the thread pool and a callback on the event loop for every call; batched, a
 * line costs its JSON only. Lines still waiting when the process exits are written
 * synchronously (pino flushes its destinations on exit, a crash's too); a SIGKILL loses at
 * most the last `flushMs` of lines.
 */
export function createLogDestination(options: LogDestinationOptions = {}): ReturnType<typeof pino.destination> {
  const { fd = 1, bufferBytes = LOG_BUFFER_BYTES, flushMs = LOG_FLUSH_MS } = options;
  const destination = pino.destination({ dest: fd, sync: false, minLength: bufferBytes });
  if (bufferBytes > 0) {
    const timer = setInterval(() => {
      try {
        destination.flush();
      } catch {
        // Destroyed (it throws then): nothing more to write.
        clearInterval(timer);
      }
    }, flushMs);
    timer.unref();
    destination.once("close", () => clearInterval(timer));
  }
  return destination;
}
