/**
 * Polls `probe` until `accept` takes its value or `timeoutMs` passes, and returns the last
 * value (the test asserts on it, so a timeout fails with what was seen). A probe that throws
 * gives its error as the value.
 */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  accept: (value: T) => boolean,
  { timeoutMs = 5_000, intervalMs = 10 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    let value: T;
    try {
      value = await probe();
    } catch (error) {
      value = error as T;
    }
    if (accept(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
