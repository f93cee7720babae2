import type http from "node:http";
import net from "node:net";

export interface HttpDrain {
  /** From now on every response says `Connection: close` (in-flight ones too, if not yet sent). */
  startDraining(): void;
  /**
   * Accepts what already reached the listener, stops listening, answers every request on an
   * accepted connection (unread bytes included), closes keep-alive connections between
   * requests; resolves when the last connection closed.
   */
  close(): Promise<void>;
  /** Connections still open. */
  open(): number;
  /** Destroys every connection left; returns how many there were. */
  destroyAll(): number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until an event-loop round passed with no new connection (at most `maxMs`): libuv
 * accepts everything queued on the listening socket in each poll phase, so then the kernel's
 * accept queue is empty and closing the listener resets nobody who had already connected.
 */
async function acceptQueueDrained(accepted: () => number, maxMs = 1000): Promise<void> {
  const start = Date.now();
  let last = accepted();
  while (Date.now() - start < maxMs) {
    await sleep(10);
    const now = accepted();
    if (now === last) return;
    last = now;
  }
}

/**
 * Graceful close of a Node HTTP/1.1 server that loses no request. Node 20's `server.close()`
 * also closes the connections it considers idle, and a connection whose request bytes are
 * still unread (the event loop busy with other calls) is idle to it: under load that resets
 * requests clients already sent. Here the listener is closed alone (`net.Server#close`),
 * after the accept queue is drained; idle connections are closed only after a poll phase has
 * read what is waiting on them; and every response from the signal on closes its connection.
 */
export function drainHttpServer(server: http.Server): HttpDrain {
  const sockets = new Set<net.Socket>();
  const inFlight = new Set<http.ServerResponse>();
  let accepted = 0;
  let draining = false;

  server.on("connection", (socket: net.Socket) => {
    accepted++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (draining) res.setHeader("connection", "close");
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
  });

  return {
    startDraining() {
      draining = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader("connection", "close");
    },
    async close() {
      this.startDraining();
      await acceptQueueDrained(() => accepted);
      let listenerClosed = false;
      const closed = new Promise<void>((resolve) =>
        net.Server.prototype.close.call(server, () => {
          listenerClosed = true;
          resolve();
        }),
      );
      // Sockets accepted in the last poll phase are read in the next one: let it run.
      await sleep(20);
      // Idle now means no request begun: nothing was sent on it, or it is between requests.
      // Responses started before the signal may leave keep-alive connections behind: sweep.
      while (!listenerClosed && sockets.size > 0) {
        server.closeIdleConnections();
        await sleep(100);
      }
      await closed;
      server.close(); // nothing left to close: clears Node's connection-checking interval
    },
    open: () => sockets.size,
    destroyAll() {
      const count = sockets.size;
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      return count;
    },
  };
}
