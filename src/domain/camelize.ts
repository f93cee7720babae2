/** `source_volume_id` → `sourceVolumeId`, at the type level. */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** A record with snake_case keys (nested records and lists of records too) as camelCase. */
export type Camelized<T> =
  T extends ReadonlyArray<infer E>
    ? Camelized<E>[]
    : T extends object
      ? { -readonly [K in keyof T as K extends string ? CamelCase<K> : K]: Camelized<T[K]> }
      : T;

const cache = new Map<string, string>();

/** `source_volume_id` → `sourceVolumeId` (memoized: the same few keys come back per record). */
export function camelCase(key: string): string {
  let camel = cache.get(key);
  if (camel === undefined) {
    camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    cache.set(key, camel);
  }
  return camel;
}
