import type { Store } from "../store/store.js";

export interface StoreMonitor {
  /** The last probe's answer: the store answered a trivial query. */
  readonly healthy: boolean;
  /** Probes now (also done every interval). */
  probe(): Promise<boolean>;
  stop(): void;
}

export interface StoreMonitorOptions {
  intervalMs?: number;
  /** Called when health changes (and once with the first answer). */
  onChange?: (healthy: boolean) => void;
}

/** Pings the store on an interval so health and readiness follow it, and recover with it. */
export function createStoreMonitor(store: Store, options: StoreMonitorOptions = {}): StoreMonitor {
  let healthy = true;
  let known = false;
  const set = (next: boolean) => {
    if (next !== healthy || !known) {
      healthy = next;
      known = true;
      options.onChange?.(next);
    }
  };
  const probe = async () => {
    try {
      await store.ping();
      set(true);
    } catch {
      set(false);
    }
    return healthy;
  };
  const timer = setInterval(() => void probe(), options.intervalMs ?? 2000);
  timer.unref();
  return {
    get healthy() {
      return healthy;
    },
    probe,
    stop: () => clearInterval(timer),
  };
}
