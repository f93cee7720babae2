import type { QueryObserver } from "./store.js";

/** Runs one statement (or a few of one table), reporting its duration and mapping its failure. */
export type Timed = <T>(table: string | ReadonlyArray<string>, run: () => T) => T;

/**
 * The stores' statement wrapper: reports how long each statement took to `observe` (when
 * given) and turns a failure into the store's own error. A `run` that returns a promise
 * (PostgreSQL) is timed until it settles; a synchronous one (SQLite) until it returns.
 */
export function createTimed(observe: QueryObserver | undefined, toStoreError: (error: unknown) => unknown): Timed {
  return <T>(table: string | ReadonlyArray<string>, run: () => T): T => {
    const start = observe ? performance.now() : 0;
    const done = () => {
      if (!observe) return;
      const seconds = (performance.now() - start) / 1000;
      if (typeof table === "string") observe(table, seconds);
      else for (const t of table) observe(t, seconds);
    };
    let result: T;
    try {
      result = run();
    } catch (error) {
      done();
      throw toStoreError(error);
    }
    if (!(result instanceof Promise)) {
      done();
      return result;
    }
    return result.then(
      (value) => {
        done();
        return value;
      },
      (error: unknown) => {
        done();
        throw toStoreError(error);
      },
    ) as T;
  };
}
