import pg from "pg";

/** The channel the inventory tables' triggers notify on every committed change (postgres-store.ts, migration 2). */
export const INVENTORY_CHANNEL = "csbs_inventory_changed";

export interface ChangeListener {
  /**
   * True while LISTEN is active on a connection that answered its last heartbeat: only then
   * is every commit to the inventory told to `onChange`, so only then may a cache be used.
   */
  readonly listening: boolean;
  close(): Promise<void>;
}

export interface ChangeListenerOptions {
  url: string;
  channel?: string;
  /** Called on every notification, and whenever listening stops or starts again. */
  onChange: () => void;
  /** Told why the listening connection was lost (it reconnects by itself). */
  onError?: (error: Error) => void;
  /** A heartbeat query every this many ms finds a connection that died silently (default 5000). */
  heartbeatMs?: number;
  /** Longest wait for the connection (DB_CONNECT_TIMEOUT_MS; default 5000). */
  connectTimeoutMs?: number | undefined;
}

const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 5_000;

/**
 * One dedicated connection that LISTENs for the inventory's change notifications, so that
 * several instances on one database can cache what they read (PostgreSQL delivers a
 * NOTIFY to every listening session when the writing transaction commits). Lost (database
 * restart, network, a heartbeat unanswered): `listening` turns false at once, and it
 * reconnects with backoff.
 */
export async function createChangeListener(options: ChangeListenerOptions): Promise<ChangeListener> {
  const channel = options.channel ?? INVENTORY_CHANNEL;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  let client: pg.Client | undefined;
  let listening = false;
  let closed = false;
  let retryMs = FIRST_RETRY_MS;
  let timer: NodeJS.Timeout | undefined;

  const later = (run: () => void, ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(run, ms);
    timer.unref();
  };

  /** The connection `c` is no longer listening: stop trusting it and try again later. */
  const lost = (c: pg.Client, error: Error) => {
    if (client !== c) return;
    client = undefined;
    listening = false;
    options.onChange();
    c.end().catch(() => {});
    if (closed) return;
    options.onError?.(error);
    later(() => void connect(), retryMs);
    retryMs = Math.min(2 * retryMs, LAST_RETRY_MS);
  };

  const heartbeat = (c: pg.Client) =>
    later(() => {
      c.query({ text: "SELECT 1", query_timeout: heartbeatMs } as pg.QueryConfig).then(
        () => client === c && heartbeat(c),
        (error: Error) => lost(c, error),
      );
    }, heartbeatMs);

  async function connect(): Promise<void> {
    const c = new pg.Client({
      connectionString: options.url,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      keepAlive: true,
      application_name: "restorability-service (listener)",
    });
    client = c;
    c.on("error", (error) => lost(c, error));
    c.on("end", () => lost(c, new Error("the listening connection ended")));
    c.on("notification", (n) => {
      if (n.channel === channel) options.onChange();
    });
    try {
      await c.connect();
      await c.query({ text: `LISTEN ${pg.escapeIdentifier(channel)}`, query_timeout: heartbeatMs } as pg.QueryConfig);
    } catch (error) {
      lost(c, error as Error);
      return;
    }
    if (client !== c) return;
    if (closed) {
      client = undefined;
      await c.end().catch(() => {});
      return;
    }
    // Whatever was cached before may have missed notifications: start from empty.
    listening = true;
    retryMs = FIRST_RETRY_MS;
    options.onChange();
    heartbeat(c);
  }

  await connect();
  return {
    get listening() {
      return listening;
    },
    async close() {
      closed = true;
      listening = false;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}
