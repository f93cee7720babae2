import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { explainRestorable, type RestoreFacts, restoreFailures } from "../src/domain/restore-rules.js";
import { compareBytewise, suggestVolumes, type VolumeMapping } from "../src/domain/suggest-volumes.js";
import type { CheckpointItem, Server, Volume, VolumeBackup } from "../src/domain/types.js";

/**
 * The suggested disk mapping of docs/contract.md §8 on the pure domain function: the
 * in-place-then-smallest-fit procedure step by step (table tests), and properties over random
 * items and servers: (a) a suggestion sent back never fails rules 13-18; (b) an empty
 * suggestion means an exhaustive search finds no mapping that passes rules 13-18 with every
 * system-disk backup on a bootable volume; (c) the order of the server's volumes does not matter.
 */

const NOVA = "OS::Nova::Server";
const PROJECT = "project-a";
const SERVER_ID = "33333333-0000-4000-8000-000000000003";

/** A UUID whose first group is `n` in hex, so ids sort by `n`. */
const uid = (n: number) => `${n.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;

function backup(n: number, size: number, bootable: boolean, source = uid(1000 + n)): VolumeBackup {
  return { id: uid(500 + n), sourceVolumeId: source, sourceVolumeSize: size, bootable, status: "available" };
}
function volume(n: number, size: number, bootable: boolean, shareable = false): Volume {
  return { id: uid(n), projectId: PROJECT, serverId: SERVER_ID, size, bootable, shareable, status: "in-use" };
}
function item(volumeBackups: VolumeBackup[]): CheckpointItem {
  return {
    id: "11111111-0000-4000-8000-000000000001",
    projectId: PROJECT,
    providerId: "fc4d5750-22e7-4798-8a46-f48f62c4c1da",
    checkpointId: "99999999-0000-4000-8000-000000000009",
    resourceId: "22222222-0000-4000-8000-000000000002",
    resourceType: NOVA,
    status: "available",
    resourceAz: "az1",
    supportedRestoreMode: "backup",
    volumeBackups,
  };
}
const SERVER: Server = {
  id: SERVER_ID,
  projectId: PROJECT,
  type: NOVA,
  status: "ACTIVE",
  availabilityZone: "az1",
  restoreSupported: true,
  backupSupported: true,
  restoring: false,
  policyId: null,
};

/** The suggestion as [backup n, volume n] pairs, for readable tables. */
function pairsOf(mapping: VolumeMapping[]): Array<[string, string]> {
  return mapping.map((m) => [m.backupId, m.volumeId]);
}

interface SuggestCase {
  name: string;
  backups: VolumeBackup[];
  volumes: Volume[];
  /** [backup, volume] in the item's backup order, or [] for none. */
  expected: Array<[VolumeBackup, Volume]> | [];
}

const sys40 = backup(1, 40, true);
const data100 = backup(2, 100, false);

const CASES: ReadonlyArray<SuggestCase> = (() => {
  const v = {
    sys40: volume(1, 40, true),
    sys50: volume(2, 50, true),
    data90: volume(3, 90, false),
    data100: volume(4, 100, false),
    data120: volume(5, 120, false),
    data200: volume(6, 200, false),
    sharedData500: volume(7, 500, false, true),
    sys10: volume(8, 10, true),
  };
  const inPlace = backup(3, 100, false, v.data200.id);
  const b = backup(5, 150, false);
  return [
    {
      name: "smallest fitting volume of each kind",
      backups: [sys40, data100],
      volumes: [v.data200, v.data120, v.sys50, v.data90, v.sys40],
      expected: [
        [sys40, v.sys40],
        [data100, v.data120],
      ],
    },
    {
      name: "in place first: the backup's own source volume, though larger than needed",
      backups: [sys40, inPlace],
      volumes: [v.sys40, v.data120, v.data200],
      expected: [
        [sys40, v.sys40],
        [inPlace, v.data200],
      ],
    },
    {
      name: "no in place when the source volume is too small, of the other kind, or shareable",
      backups: [
        backup(6, 100, false, v.data90.id),
        backup(7, 40, true, v.data120.id),
        backup(8, 100, false, v.sharedData500.id),
      ],
      volumes: [v.data90, v.data120, v.sharedData500, v.sys50, v.data200],
      expected: [
        [backup(6, 100, false, v.data90.id), v.data120],
        [backup(7, 40, true, v.data120.id), v.sys50],
        [backup(8, 100, false, v.sharedData500.id), v.data200],
      ],
    },
    {
      name: "step 4: the in-place choice blocks a larger backup, so step 3 alone from scratch",
      // a (10 GB) sits on the 200 GB volume in place; b (150 GB) then fits nothing.
      backups: [backup(4, 10, false, v.data200.id), b],
      volumes: [v.data200, v.data90],
      expected: [
        [backup(4, 10, false, v.data200.id), v.data90],
        [b, v.data200],
      ],
    },
    {
      name: "ties between volumes of one size: the smaller id",
      backups: [data100],
      volumes: [volume(0x20, 100, false), volume(0x10, 100, false), volume(0x30, 100, false)],
      expected: [[data100, volume(0x10, 100, false)]],
    },
    {
      name: "ties between backups of one size: the item's order takes the smaller volume first",
      backups: [backup(9, 30, false), backup(10, 30, false)],
      volumes: [volume(0x31, 60, false), volume(0x30, 30, false)],
      expected: [
        [backup(9, 30, false), volume(0x30, 30, false)],
        [backup(10, 30, false), volume(0x31, 60, false)],
      ],
    },
    {
      name: "ascending size: the small backup does not take the only volume the large one fits",
      backups: [backup(11, 100, false), backup(12, 20, false)],
      volumes: [volume(0x40, 100, false), volume(0x41, 30, false)],
      expected: [
        [backup(11, 100, false), volume(0x40, 100, false)],
        [backup(12, 20, false), volume(0x41, 30, false)],
      ],
    },
    {
      name: "a system-disk backup never goes onto a data disk (rules 13-18 alone would allow it)",
      backups: [sys40],
      volumes: [v.data200, v.sys10],
      expected: [],
    },
    {
      name: "a data backup never goes onto a system disk",
      backups: [data100],
      volumes: [volume(9, 500, true)],
      expected: [],
    },
    { name: "shareable volumes are not eligible", backups: [data100], volumes: [v.sharedData500], expected: [] },
    { name: "no volume at all", backups: [sys40, data100], volumes: [], expected: [] },
    {
      name: "every backup or nothing: one fits, the other does not",
      backups: [sys40, data100],
      volumes: [v.sys40, v.data90],
      expected: [],
    },
    { name: "an item without backups", backups: [], volumes: [v.sys40], expected: [] },
  ];
})();

describe("suggestVolumes: the procedure of docs/contract.md §8", () => {
  it.each(CASES)("$name", ({ backups, volumes, expected }) => {
    expect(pairsOf(suggestVolumes(item(backups), volumes))).toEqual(expected.map(([b, v]) => [b.id, v.id]));
  });

  it("compareBytewise orders by UTF-8 bytes", () => {
    const strings = ["a", "b", "ab", "", "Z", "\u00e9", "\uffff", "\u{1f600}", "\ue000", "a\u{10000}"];
    const sorted = [...strings].sort(compareBytewise);
    const byBytes = [...strings].sort((x, y) => Buffer.compare(Buffer.from(x, "utf8"), Buffer.from(y, "utf8")));
    expect(sorted).toEqual(byBytes);
  });
});

// --- properties over random items and servers ---

interface Scenario {
  backups: VolumeBackup[];
  volumes: Volume[];
  /** The request's own mapping (backup index, volume index), possibly wrong. */
  request: VolumeMapping[];
}

/** Small random worlds: 1-4 backups, 0-5 volumes, sizes 1-4 (many ties), some in-place sources. */
const scenarios: fc.Arbitrary<Scenario> = fc
  .record({
    volumes: fc.array(
      fc.record({
        size: fc.integer({ min: 1, max: 4 }),
        bootable: fc.boolean(),
        shareable: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
      }),
      { maxLength: 5 },
    ),
    volumeIds: fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 5, maxLength: 5 }),
    backups: fc.array(
      fc.record({
        size: fc.integer({ min: 1, max: 4 }),
        bootable: fc.boolean(),
        // Which volume the backup was taken from: one of the server's, or elsewhere.
        source: fc.integer({ min: 0, max: 6 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    request: fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 4 }),
  })
  .map(({ volumes, volumeIds, backups, request }) => {
    const vols = volumes.map((v, i) => volume(volumeIds[i]!, v.size, v.bootable, v.shareable));
    const bks = backups.map((b, i) =>
      backup(i, b.size, b.bootable, b.source < vols.length ? vols[b.source]!.id : uid(900 + i)),
    );
    const mapping = request.map(([bi, vi]) => ({
      backupId: bks[bi % bks.length]!.id,
      volumeId: vols.length === 0 ? uid(999) : vols[vi % vols.length]!.id,
    }));
    return { backups: bks, volumes: vols, request: mapping };
  });

function factsOf(s: Scenario, volumes = s.volumes): RestoreFacts {
  return { item: item(s.backups), server: SERVER, serverVolumes: volumes };
}
function entryOf(volumes: VolumeMapping[]) {
  return { checkpointItemId: item([]).id, target: { resourceId: SERVER_ID, resourceType: NOVA, volumes } };
}
const mappingRules = (s: Scenario, mapping: VolumeMapping[]) =>
  restoreFailures(entryOf(mapping), factsOf(s), "all")
    .map((f) => f.rule)
    .filter((r) => r >= 13 && r <= 18);

/** Every mapping of each backup onto a distinct volume of the server (small cases only). */
function* assignments(backups: VolumeBackup[], volumes: Volume[], used = new Set<number>()): Generator<Volume[]> {
  if (backups.length === 0) {
    yield [];
    return;
  }
  for (let i = 0; i < volumes.length; i++) {
    if (used.has(i)) continue;
    used.add(i);
    for (const rest of assignments(backups.slice(1), volumes, used)) yield [volumes[i]!, ...rest];
    used.delete(i);
  }
}

describe("suggestVolumes: properties", () => {
  it("(a) a non-empty suggestion sent back as target.volumes never fails rules 13-18", () => {
    fc.assert(
      fc.property(scenarios, (s) => {
        const suggestion = suggestVolumes(item(s.backups), s.volumes);
        if (suggestion.length === 0) return;
        expect(mappingRules(s, suggestion)).toEqual([]);
        // Every backup once, each onto a distinct volume, in the item's backup order.
        expect(suggestion.map((m) => m.backupId)).toEqual(s.backups.map((b) => b.id));
        expect(new Set(suggestion.map((m) => m.volumeId)).size).toBe(suggestion.length);
        // And it asks for no further suggestion.
        expect(explainRestorable(entryOf(suggestion), factsOf(s)).suggestedVolumes).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });

  it("(b) an empty suggestion for a failing mapping: no mapping passes rules 13-18 with system backups on system disks", () => {
    let checked = 0;
    fc.assert(
      fc.property(scenarios, (s) => {
        const { failures, suggestedVolumes } = explainRestorable(entryOf(s.request), factsOf(s));
        const failsMapping = failures.some((f) => f.rule >= 13 && f.rule <= 18);
        if (suggestedVolumes.length > 0 || !failsMapping) return;
        checked++;
        for (const assignment of assignments(s.backups, s.volumes)) {
          const mapping = s.backups.map((b, i) => ({ backupId: b.id, volumeId: assignment[i]!.id }));
          const bootsCorrectly = s.backups.every((b, i) => !b.bootable || assignment[i]!.bootable);
          expect(bootsCorrectly && mappingRules(s, mapping).length === 0, JSON.stringify(mapping)).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
    // The generator reaches the interesting case often.
    expect(checked).toBeGreaterThan(300);
  });

  it("(b') and a failing mapping with a possible one always gets a suggestion", () => {
    fc.assert(
      fc.property(scenarios, (s) => {
        const possible = [...assignments(s.backups, s.volumes)].some(
          (a) =>
            s.backups.every((b, i) => !b.bootable || a[i]!.bootable) &&
            mappingRules(
              s,
              s.backups.map((b, i) => ({ backupId: b.id, volumeId: a[i]!.id })),
            ).length === 0,
        );
        const failsMapping = mappingRules(s, s.request).length > 0;
        const { suggestedVolumes } = explainRestorable(entryOf(s.request), factsOf(s));
        expect(suggestedVolumes.length > 0).toBe(possible && failsMapping);
      }),
      { numRuns: 2000 },
    );
  });

  it("(c) the suggestion does not depend on the order of the server's volumes", () => {
    const withPermutation = scenarios.chain((s) =>
      fc
        .shuffledSubarray(s.volumes, { minLength: s.volumes.length, maxLength: s.volumes.length })
        .map((shuffled) => ({ s, shuffled })),
    );
    fc.assert(
      fc.property(withPermutation, ({ s, shuffled }) => {
        expect(suggestVolumes(item(s.backups), shuffled)).toEqual(suggestVolumes(item(s.backups), s.volumes));
        expect(explainRestorable(entryOf(s.request), factsOf(s, shuffled))).toEqual(
          explainRestorable(entryOf(s.request), factsOf(s)),
        );
      }),
      { numRuns: 3000 },
    );
  });
});
