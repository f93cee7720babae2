/**
 * What the call guard reads of a call's cancellation. An AbortSignal is one (connect-es
 * passes its HandlerContext's); the grpc-js host and the REST gateway pass the lighter one of
 * `createCallCancellation`: no AbortController, EventTarget or Event per call.
 */
export interface CancellationSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** A call's cancellation: its signal, and the host's way to cancel it (once; later calls do nothing). */
export interface CallCancellation {
  readonly signal: CancellationSignal;
  cancel(reason: unknown): void;
}

export function createCallCancellation(): CallCancellation {
  let aborted = false;
  let reason: unknown;
  // Listeners are few (the guard adds one per step and removes it): a plain list.
  const listeners: Array<() => void> = [];
  const signal: CancellationSignal = {
    get aborted() {
      return aborted;
    },
    get reason() {
      return reason;
    },
    addEventListener(_type, listener) {
      // As on an AbortSignal: a listener added after the abort is not called.
      if (!aborted) listeners.push(listener);
    },
    removeEventListener(_type, listener) {
      const at = listeners.indexOf(listener);
      if (at >= 0) listeners.splice(at, 1);
    },
  };
  return {
    signal,
    cancel(why) {
      if (aborted) return;
      aborted = true;
      reason = why;
      // Each listener once, as with { once: true }.
      for (const listener of listeners.splice(0)) listener();
    },
  };
}
