/** A 32-bit avalanche mix (murmur3's finalizer). */
function mix(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The ids seen so far by a streamed import, as 64-bit fingerprints of their 128 bits in an
 * open-addressing table (8 bytes a slot, at most half full: ~16 MB for a million ids,
 * instead of ~100 MB as strings in a Set). `add` answers whether the id's fingerprint was
 * seen before: true for every repeated id, and false positives so rare (two ids of 2^64
 * fingerprints) that the caller confirms a hit against the staged records.
 */
export function createIdFingerprints(): {
  add(uuid: string): boolean;
  readonly size: number;
  /** Frees the table (50 MB for a million items' ids and backups): nothing may be added after. */
  release(): void;
} {
  let capacity = 1 << 12;
  let high = new Uint32Array(capacity);
  let low = new Uint32Array(capacity);
  let size = 0;

  /** Inserts a fingerprint; true when it was there. `low` is odd, so 0 marks an empty slot. */
  const insert = (h: number, l: number): boolean => {
    const mask = capacity - 1;
    for (let slot = (h ^ l) & mask; ; slot = (slot + 1) & mask) {
      if (low[slot] === 0) {
        high[slot] = h;
        low[slot] = l;
        size++;
        return false;
      }
      if (low[slot] === l && high[slot] === h) return true;
    }
  };
  const grow = () => {
    const [oldHigh, oldLow] = [high, low];
    capacity *= 2;
    high = new Uint32Array(capacity);
    low = new Uint32Array(capacity);
    size = 0;
    for (let i = 0; i < oldLow.length; i++) if (oldLow[i] !== 0) insert(oldHigh[i]!, oldLow[i]!);
  };

  return {
    add(uuid) {
      // A validated, lower-case UUID: 8-4-4-4-12 hex digits, read as four 32-bit words.
      const a = Number.parseInt(uuid.slice(0, 8), 16);
      const b = Number.parseInt(uuid.slice(9, 13) + uuid.slice(14, 18), 16);
      const c = Number.parseInt(uuid.slice(19, 23) + uuid.slice(24, 28), 16);
      const d = Number.parseInt(uuid.slice(28, 36), 16);
      const h = mix(a ^ mix(b ^ mix(c ^ mix(d))));
      const l = (mix(d ^ mix(c ^ mix(b ^ mix(a ^ 0x9e3779b9)))) | 1) >>> 0;
      if (2 * (size + 1) > capacity) grow();
      return insert(h, l);
    },
    get size() {
      return size;
    },
    release() {
      capacity = 0;
      high = new Uint32Array(0);
      low = new Uint32Array(0);
      size = 0;
    },
  };
}
