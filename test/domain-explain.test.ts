import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkProtectable, type ProtectFacts, protectFailures } from "../src/domain/protect-rules.js";
import {
  checkRestorable,
  explainRestorable,
  type RestoreEntry,
  type RestoreFacts,
  restoreFailures,
} from "../src/domain/restore-rules.js";
import type { Server } from "../src/domain/types.js";
import {
  attachedVolume,
  BMS,
  NOVA,
  RESTORE_IDS,
  type RestoreWorld,
  restorableWorld,
} from "./support/domain-builders.js";

/**
 * Explain on the pure domain functions (docs/contract.md §8): every failing rule in rule order,
 * which rules run when the item or the server is missing, rules 16-18 over the valid
 * mappings only, failures[0] equal to the default verdict, and the protect rules likewise.
 */

const ID = RESTORE_IDS;
type World = RestoreWorld;
const world = restorableWorld;
const volume = attachedVolume;

const factsOf = (w: World): RestoreFacts => ({ item: w.item, server: w.server, serverVolumes: w.volumes });
const all = (w: World) => restoreFailures(w.entry as RestoreEntry, factsOf(w), "all");
const rulesOf = (w: World) => all(w).map((f) => f.rule);
const vol = (w: World, id: string) => w.volumes.find((v) => v.id === id)!;

interface ExplainCase {
  name: string;
  mutate: (w: World) => void;
  rules: number[];
}

/** Failure combinations, with the exact list of failing rules each must produce. */
const RESTORE_CASES: ReadonlyArray<ExplainCase> = [
  { name: "a restorable entry has no failure", mutate: () => {}, rules: [] },
  {
    name: "item, server and type all wrong: only rules 1, 4, 5 run on nothing",
    mutate: (w) => {
      w.item = undefined;
      w.server = undefined;
      w.volumes = [];
      w.entry.target.resourceType = "OS::Cinder::Volume";
    },
    rules: [1, 4, 5],
  },
  {
    name: "item missing, the mapping fits the server: the server rules run and pass",
    mutate: (w) => {
      w.item = undefined;
    },
    rules: [1],
  },
  {
    name: "item missing: rule 14 still runs on the server's volumes",
    mutate: (w) => {
      w.item = undefined;
      w.entry.target.volumes[1]!.volumeId = ID.unknownB;
    },
    rules: [1, 14],
  },
  {
    name: "item missing: server rules 6-9 and 12 still run",
    mutate: (w) => {
      w.item = undefined;
      w.server!.type = BMS;
      w.server!.status = "DELETED";
      w.server!.restoring = true;
      w.server!.restoreSupported = false;
      w.volumes = [];
    },
    rules: [1, 6, 7, 8, 9, 12, 14],
  },
  {
    name: "server missing: the item rules 2, 3, 13 and 15 still run",
    mutate: (w) => {
      w.server = undefined;
      w.volumes = [];
      w.item!.status = "restoring";
      w.entry.target.volumes = [{ backupId: ID.unknownA, volumeId: ID.sysVolume }];
    },
    rules: [2, 3, 5, 13, 15],
  },
  {
    name: "a busy item is also not available (rules 2 and 3)",
    mutate: (w) => {
      w.item!.status = "deleting";
    },
    rules: [2, 3],
  },
  {
    name: "every server rule and both agreement rules",
    mutate: (w) => {
      w.server!.type = BMS;
      w.server!.status = "RESIZE";
      w.server!.restoreSupported = false;
      w.server!.availabilityZone = "az9";
    },
    rules: [6, 8, 9, 10, 11],
  },
  {
    name: "no volume attached: rules 12 and 14, and 16-18 have no mapping to look at",
    mutate: (w) => {
      w.volumes = [];
    },
    rules: [12, 14],
  },
  {
    name: "rules 13, 14, 15 together",
    mutate: (w) => {
      w.entry.target.volumes = [
        { backupId: ID.unknownA, volumeId: ID.sysVolume },
        { backupId: ID.sysBackup, volumeId: ID.unknownB },
      ];
    },
    rules: [13, 14, 15],
  },
  {
    name: "rules 16, 17, 18 together on one mapping",
    mutate: (w) => {
      vol(w, ID.sysVolume).shareable = true;
      w.entry.target.volumes = [
        { backupId: ID.dataBackup, volumeId: ID.sysVolume },
        { backupId: ID.sysBackup, volumeId: ID.dataVolume },
      ];
    },
    rules: [16, 17, 18],
  },
  {
    name: "16-18 ignore a mapping whose backup is not the item's",
    mutate: (w) => {
      // The shareable, too small system disk is named only by an unknown backup.
      vol(w, ID.sysVolume).shareable = true;
      vol(w, ID.sysVolume).size = 1;
      w.entry.target.volumes = [
        { backupId: ID.unknownA, volumeId: ID.sysVolume },
        { backupId: ID.dataBackup, volumeId: ID.dataVolume },
      ];
    },
    rules: [13, 15],
  },
  {
    name: "16-18 ignore a mapping whose volume is not attached",
    mutate: (w) => {
      w.entry.target.volumes = [
        { backupId: ID.sysBackup, volumeId: ID.sysVolume },
        { backupId: ID.dataBackup, volumeId: ID.unknownB },
      ];
      vol(w, ID.dataVolume).shareable = true;
    },
    rules: [14],
  },
  {
    name: "many at once: item, server, agreement and mapping rules",
    mutate: (w) => {
      w.item!.supportedRestoreMode = "na";
      w.server!.status = "ERROR";
      w.item!.resourceAz = "az2";
      vol(w, ID.dataVolume).size = 10;
    },
    rules: [3, 8, 11, 18],
  },
];

describe("restoreFailures (all): every failing rule, in rule order", () => {
  it.each(RESTORE_CASES)("$name → $rules", ({ mutate, rules }) => {
    const w = world();
    mutate(w);
    expect(rulesOf(w)).toEqual(rules);
  });

  it.each(RESTORE_CASES)("$name: failures[0] is the default verdict", ({ mutate }) => {
    const w = world();
    mutate(w);
    const failures = all(w);
    const verdict = checkRestorable(w.entry as RestoreEntry, factsOf(w));
    expect(verdict).toEqual(
      failures.length === 0 ? { ok: true } : { ok: false, code: failures[0]!.code, message: failures[0]!.message },
    );
    // The default mode returns that one failure only.
    expect(restoreFailures(w.entry as RestoreEntry, factsOf(w), "first")).toEqual(failures.slice(0, 1));
  });
});

describe("restoreFailures (all): exact codes and messages", () => {
  it("the full list of one entry with several failures", () => {
    const w = world();
    w.item!.status = "restoring";
    w.server!.restoring = true;
    w.entry.target.volumes = [
      { backupId: ID.dataBackup, volumeId: ID.sysVolume },
      { backupId: ID.unknownA, volumeId: ID.unknownC },
    ];
    expect(all(w)).toEqual([
      { rule: 2, code: "CSBS.2003", message: "item in executing" },
      { rule: 3, code: "CSBS.4000", message: "checkpoint item not available" },
      { rule: 8, code: "CSBS.6015", message: "The server is restoring." },
      {
        rule: 13,
        code: "CSBS.6017",
        message: `Can not find backup(s) (${ID.unknownA}) in checkpoint item (${ID.item}).`,
      },
      { rule: 14, code: "CSBS.6014", message: `Volume(s) (${ID.unknownC}) not found in target server.` },
      {
        rule: 15,
        code: "CSBS.6018",
        message: `Not assign backup(s) (${ID.sysBackup}) to volume(s), partial restore is not supported.`,
      },
      {
        rule: 17,
        code: "CSBS.6023",
        message: `Can not restore data volume to system volume. server id is (${ID.server}).`,
      },
      {
        rule: 18,
        code: "CSBS.6024",
        message: `Target volume (${ID.sysVolume}) size (40) small than volume backup (${ID.dataBackup}) size (100).`,
      },
    ]);
  });

  it("rules 16 and 18 name the first offending valid mapping in request order", () => {
    const w = world();
    w.item!.volumeBackups.push({
      id: ID.unknownA,
      sourceVolumeId: ID.unknownB,
      sourceVolumeSize: 500,
      bootable: false,
      status: "available",
    });
    w.volumes.push(volume(ID.unknownC, { size: 10, shareable: true }));
    w.entry.target.volumes = [
      { backupId: "dddddddd-0000-4000-8000-00000000000d", volumeId: ID.dataVolume }, // not the item's: ignored
      { backupId: ID.unknownA, volumeId: ID.unknownC }, // shareable and too small
      { backupId: ID.sysBackup, volumeId: ID.sysVolume },
      { backupId: ID.dataBackup, volumeId: "eeeeeeee-0000-4000-8000-00000000000e" }, // not attached: ignored
    ];
    const byRule = new Map(all(w).map((f) => [f.rule, f.message]));
    expect([...byRule.keys()]).toEqual([13, 14, 16, 18]);
    expect(byRule.get(16)).toBe(`Volume (${ID.unknownC}) attached to server (${ID.server}) is shareable volume.`);
    expect(byRule.get(18)).toBe(
      `Target volume (${ID.unknownC}) size (10) small than volume backup (${ID.unknownA}) size (500).`,
    );
  });
});

describe("explainRestorable", () => {
  it("a restorable entry: no failure, no suggestion", () => {
    const w = world();
    expect(explainRestorable(w.entry as RestoreEntry, factsOf(w))).toEqual({ failures: [], suggestedVolumes: [] });
  });

  it("a wrong mapping gets a suggestion, even when other rules fail too", () => {
    const w = world();
    w.server!.status = "ERROR";
    w.entry.target.volumes = [{ backupId: ID.sysBackup, volumeId: ID.sysVolume }];
    const { failures, suggestedVolumes } = explainRestorable(w.entry as RestoreEntry, factsOf(w));
    expect(failures.map((f) => f.rule)).toEqual([8, 15]);
    expect(suggestedVolumes).toEqual([
      { backupId: ID.sysBackup, volumeId: ID.sysVolume },
      { backupId: ID.dataBackup, volumeId: ID.dataVolume },
    ]);
  });

  it("no suggestion when only rules outside 13-18 fail", () => {
    const w = world();
    w.server!.status = "ERROR";
    w.item!.resourceAz = "az2";
    expect(explainRestorable(w.entry as RestoreEntry, factsOf(w)).suggestedVolumes).toEqual([]);
  });

  it("no suggestion without the item or without the server", () => {
    const noItem = world();
    noItem.item = undefined;
    noItem.entry.target.volumes[0]!.volumeId = ID.unknownB;
    expect(explainRestorable(noItem.entry as RestoreEntry, factsOf(noItem))).toMatchObject({ suggestedVolumes: [] });
    expect(rulesOf(noItem)).toEqual([1, 14]);
    const noServer = world();
    noServer.server = undefined;
    noServer.volumes = [];
    noServer.entry.target.volumes.pop();
    expect(explainRestorable(noServer.entry as RestoreEntry, factsOf(noServer))).toMatchObject({
      suggestedVolumes: [],
    });
    expect(rulesOf(noServer)).toEqual([5, 15]);
  });

  it("no suggestion when no mapping passes (the only data disk is too small)", () => {
    const w = world();
    vol(w, ID.dataVolume).size = 99;
    const { failures, suggestedVolumes } = explainRestorable(w.entry as RestoreEntry, factsOf(w));
    expect(failures.map((f) => f.rule)).toEqual([18]);
    expect(suggestedVolumes).toEqual([]);
  });
});

/** One mutation per rule (rule i + 1); combined they interact. */
const MUTATIONS: ReadonlyArray<(w: World) => void> = [
  (w) => {
    w.item = undefined;
  },
  (w) => {
    if (w.item) w.item.status = "restoring";
  },
  (w) => {
    if (w.item) w.item.supportedRestoreMode = "na";
  },
  (w) => {
    w.entry.target.resourceType = "OS::Cinder::Volume";
  },
  (w) => {
    w.server = undefined;
    w.volumes = [];
  },
  (w) => {
    if (w.server) w.server.type = BMS;
  },
  (w) => {
    if (w.server) w.server.status = "SOFT_DELETED";
  },
  (w) => {
    if (w.server) w.server.restoring = true;
  },
  (w) => {
    if (w.server) w.server.restoreSupported = false;
  },
  (w) => {
    if (w.item) w.item.resourceType = BMS;
  },
  (w) => {
    if (w.item) w.item.resourceAz = "az2";
  },
  (w) => {
    w.volumes = [];
  },
  (w) => {
    w.entry.target.volumes[0]!.backupId = ID.unknownA;
  },
  (w) => {
    w.entry.target.volumes[0]!.volumeId = ID.unknownB;
  },
  (w) => {
    w.entry.target.volumes = w.entry.target.volumes.filter((m) => m.backupId !== ID.dataBackup);
  },
  (w) => {
    const v = w.volumes.find((x) => x.id === ID.dataVolume);
    if (v) v.shareable = true;
  },
  (w) => {
    w.entry.target.volumes = [
      { backupId: ID.dataBackup, volumeId: ID.sysVolume },
      { backupId: ID.sysBackup, volumeId: ID.dataVolume },
    ];
  },
  (w) => {
    const v = w.volumes.find((x) => x.id === ID.dataVolume);
    if (v) v.size = 50;
  },
];

describe("restoreFailures: properties over every combination of failures", () => {
  const worlds = fc.subarray(MUTATIONS.map((_, i) => i)).map((picked) => {
    const w = world();
    // Highest rule first, so the mapping rewrites of rule 17 come before 13 and 14 edit it.
    for (const i of [...picked].reverse()) MUTATIONS[i]!(w);
    return w;
  });

  // Alone, mutation i fails rule i + 1, and the rules it implies: a busy item is not available
  // (3), an unsupported target type differs from the server's type (6), a BMS server differs
  // from the Nova item (10), no volume leaves every mapped volume unattached (14), an unknown
  // backup leaves the system backup unassigned (15), and the 100 GB data backup on the 40 GB
  // system disk is also too small (18).
  const ALONE = [
    [1],
    [2, 3],
    [3],
    [4, 6],
    [5],
    [6, 10],
    [7],
    [8],
    [9],
    [10],
    [11],
    [12, 14],
    [13, 15],
    [14],
    [15],
    [16],
    [17, 18],
    [18],
  ];

  it("each mutation alone fails its own rule and the rules it implies", () => {
    MUTATIONS.forEach((mutate, i) => {
      const w = world();
      mutate(w);
      expect(rulesOf(w), `mutation ${i + 1}`).toEqual(ALONE[i]);
    });
  });

  it("failures are in strictly ascending rule order, the first equals the verdict, empty exactly on a pass", () => {
    fc.assert(
      fc.property(worlds, (w) => {
        const failures = all(w);
        const rules = failures.map((f) => f.rule);
        expect(rules).toEqual([...rules].sort((a, b) => a - b));
        expect(new Set(rules).size).toBe(rules.length);
        const verdict = checkRestorable(w.entry as RestoreEntry, factsOf(w));
        expect(verdict.ok).toBe(failures.length === 0);
        if (!verdict.ok) expect([verdict.code, verdict.message]).toEqual([failures[0]!.code, failures[0]!.message]);
      }),
      { numRuns: 1000 },
    );
  });

  it("a rule runs only when the objects it reads exist", () => {
    const needItem = [2, 3, 10, 11, 13, 15, 16, 17, 18];
    const needServer = [6, 7, 8, 9, 10, 11, 12, 14, 16, 17, 18];
    fc.assert(
      fc.property(worlds, (w) => {
        const rules = rulesOf(w);
        if (w.item === undefined) expect(rules.filter((r) => needItem.includes(r))).toEqual([]);
        if (w.server === undefined) expect(rules.filter((r) => needServer.includes(r))).toEqual([]);
        // Rules 1, 4 and 5 are exactly the existence and type checks.
        expect(rules.includes(1)).toBe(w.item === undefined);
        expect(rules.includes(5)).toBe(w.server === undefined);
        expect(rules.includes(4)).toBe(w.entry.target.resourceType === "OS::Cinder::Volume");
      }),
      { numRuns: 1000 },
    );
  });
});

describe("protectFailures (all)", () => {
  const server = (over: Partial<Server> = {}): Server => ({ ...world().server!, ...over });
  const entry = { resourceId: ID.server, resourceType: NOVA };
  const cases: ReadonlyArray<{
    name: string;
    resourceType?: string;
    facts: ProtectFacts;
    expected: Array<{ rule: number; code: string; message: string }>;
  }> = [
    { name: "protectable", facts: { server: server(), serverVolumes: [volume(ID.sysVolume)] }, expected: [] },
    {
      name: "unsupported type and no server: rules 1 and 2 only",
      resourceType: "OS::Cinder::Volume",
      facts: { server: undefined, serverVolumes: [] },
      expected: [
        {
          rule: 1,
          code: "CSBS.6003",
          message: `Resource (${ID.server}) type (OS::Cinder::Volume) is not support protection.`,
        },
        { rule: 2, code: "CSBS.6000", message: "server do not exist" },
      ],
    },
    {
      name: "unsupported type on an existing server: rules 1 and 3 (the same template)",
      resourceType: "OS::Cinder::Volume",
      facts: { server: server(), serverVolumes: [volume(ID.sysVolume)] },
      expected: [
        {
          rule: 1,
          code: "CSBS.6003",
          message: `Resource (${ID.server}) type (OS::Cinder::Volume) is not support protection.`,
        },
        {
          rule: 3,
          code: "CSBS.6003",
          message: `Resource (${ID.server}) type (OS::Cinder::Volume) is not support protection.`,
        },
      ],
    },
    {
      name: "status, policy, no volume, no backup support",
      facts: { server: server({ status: "ERROR", policyId: "policy-1", backupSupported: false }), serverVolumes: [] },
      expected: [
        { rule: 4, code: "CSBS.6006", message: `Server (${ID.server}) status (ERROR) is not allowed to protect.` },
        { rule: 5, code: "CSBS.6004", message: `Server (${ID.server}) is already in service.` },
        { rule: 6, code: "CSBS.6007", message: `No volume attached to the server (${ID.server}) for protect.` },
        {
          rule: 8,
          code: "CSBS.6027",
          message: `The AZ where the resource (${ID.server}) is located does not support backup.`,
        },
      ],
    },
    {
      name: "type mismatch and the first shareable volume",
      resourceType: BMS,
      facts: {
        server: server(),
        serverVolumes: [
          volume(ID.sysVolume),
          volume(ID.dataVolume, { shareable: true }),
          volume(ID.unknownC, { shareable: true }),
        ],
      },
      expected: [
        { rule: 3, code: "CSBS.6003", message: `Resource (${ID.server}) type (${BMS}) is not support protection.` },
        {
          rule: 7,
          code: "CSBS.6010",
          message: `Volume (${ID.dataVolume}) attached to server (${ID.server}) is shareable volume.`,
        },
      ],
    },
  ];

  it.each(cases)("$name", ({ resourceType, facts, expected }) => {
    const e = { ...entry, resourceType: resourceType ?? entry.resourceType };
    expect(protectFailures(e, facts, "all")).toEqual(expected);
    expect(protectFailures(e, facts, "first")).toEqual(expected.slice(0, 1));
    const verdict = checkProtectable(e, facts);
    expect(verdict).toEqual(
      expected.length === 0 ? { ok: true } : { ok: false, code: expected[0]!.code, message: expected[0]!.message },
    );
  });
});
