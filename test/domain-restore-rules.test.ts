import { describe, expect, it } from "vitest";
import { checkRestorable, type RestoreEntry, type RestoreFacts } from "../src/domain/restore-rules.js";
import type { CheckpointItem, Volume } from "../src/domain/types.js";
import {
  attachedVolume,
  BMS,
  NOVA,
  RESTORE_IDS,
  type RestoreWorld,
  restorableWorld,
} from "./support/domain-builders.js";

/**
 * The 18 restorability rules of docs/contract.md §5 on the pure domain function: one case per
 * rule with the exact code and filled-in message, the rule order (first failure wins),
 * the "these pass" list of docs/contract.md §7, and multi-id joining.
 */

const ID = RESTORE_IDS;
type World = RestoreWorld;
const world = restorableWorld;
const volume = attachedVolume;

/** Readable fixed ids: each is a valid UUID whose first group names the object. */
function check(w: World) {
  const facts: RestoreFacts = { item: w.item, server: w.server, serverVolumes: w.volumes };
  return checkRestorable(w.entry as RestoreEntry, facts);
}

function vol(w: World, id: string): Volume {
  const v = w.volumes.find((x) => x.id === id);
  if (!v) throw new Error(`fixture: volume ${id} is not attached`);
  return v;
}

interface RuleCase {
  rule: number;
  name: string;
  mutate: (w: World) => void;
  code: string;
  message: string;
}

/**
 * One failing mutation per rule. They are written so that any set of them can be applied
 * together, highest rule first: then the lowest rule applied is the one that must fail.
 */
const RULES: ReadonlyArray<RuleCase> = [
  {
    rule: 1,
    name: "checkpoint item not found",
    mutate: (w) => {
      w.item = undefined;
    },
    code: "CSBS.3001",
    message: `Checkpoint_item (${ID.item}) is not found.`,
  },
  {
    rule: 2,
    name: "item busy (restoring)",
    mutate: (w) => {
      w.item!.status = "restoring";
    },
    code: "CSBS.2003",
    message: "item in executing",
  },
  {
    rule: 3,
    name: "restore mode na",
    mutate: (w) => {
      w.item!.supportedRestoreMode = "na";
    },
    code: "CSBS.4000",
    message: "checkpoint item not available",
  },
  {
    rule: 4,
    name: "unsupported target resource type",
    mutate: (w) => {
      w.entry.target.resourceType = "OS::Cinder::Volume";
    },
    code: "CSBS.6013",
    message: `Resource (${ID.server}) type (OS::Cinder::Volume) is not support restoration.`,
  },
  {
    rule: 5,
    name: "target server does not exist",
    mutate: (w) => {
      w.server = undefined;
      w.volumes = [];
    },
    code: "CSBS.6000",
    message: "server do not exist",
  },
  {
    rule: 6,
    name: "server type differs from target type",
    mutate: (w) => {
      w.server!.type = BMS;
    },
    code: "CSBS.6016",
    message: "can not restore server type is not allow",
  },
  {
    rule: 7,
    name: "server DELETED",
    mutate: (w) => {
      w.server!.status = "DELETED";
    },
    code: "CSBS.6001",
    message: "The server has stopped.",
  },
  {
    rule: 8,
    name: "server restore lock",
    mutate: (w) => {
      w.server!.restoring = true;
    },
    code: "CSBS.6015",
    message: "The server is restoring.",
  },
  {
    rule: 9,
    name: "location does not support restore",
    mutate: (w) => {
      w.server!.restoreSupported = false;
    },
    code: "CSBS.6061",
    message: "volume of server in this pod does not support backup",
  },
  {
    rule: 10,
    name: "source type differs from target server type",
    mutate: (w) => {
      w.item!.resourceType = BMS;
    },
    code: "CSBS.6019",
    message: `The source server (${ID.source}) type (${BMS}) is not the same as the target server (${ID.server}) type (${NOVA}).`,
  },
  {
    rule: 11,
    name: "different AZ",
    mutate: (w) => {
      w.item!.resourceAz = "az2";
    },
    code: "CSBS.6025",
    message: `The AZ of local checkpoint item (${ID.item}) is not support to restore the resource (${ID.server}).`,
  },
  {
    rule: 12,
    name: "no volume attached",
    mutate: (w) => {
      w.volumes = [];
    },
    code: "CSBS.6020",
    message: `No volume attached to the server (${ID.server}) for restore.`,
  },
  {
    rule: 13,
    name: "unknown backup",
    mutate: (w) => {
      w.entry.target.volumes[0]!.backupId = ID.unknownA;
    },
    code: "CSBS.6017",
    message: `Can not find backup(s) (${ID.unknownA}) in checkpoint item (${ID.item}).`,
  },
  {
    rule: 14,
    name: "volume not attached to the target",
    mutate: (w) => {
      w.entry.target.volumes[0]!.volumeId = ID.unknownB;
    },
    code: "CSBS.6014",
    message: `Volume(s) (${ID.unknownB}) not found in target server.`,
  },
  {
    rule: 15,
    name: "partial restore",
    mutate: (w) => {
      w.entry.target.volumes = w.entry.target.volumes.filter((m) => m.backupId !== ID.dataBackup);
    },
    code: "CSBS.6018",
    message: `Not assign backup(s) (${ID.dataBackup}) to volume(s), partial restore is not supported.`,
  },
  {
    rule: 16,
    name: "shareable target volume",
    mutate: (w) => {
      vol(w, ID.dataVolume).shareable = true;
    },
    code: "CSBS.6021",
    message: `Volume (${ID.dataVolume}) attached to server (${ID.server}) is shareable volume.`,
  },
  {
    rule: 17,
    name: "data backup onto the system disk",
    mutate: (w) => {
      w.entry.target.volumes = [
        { backupId: ID.dataBackup, volumeId: ID.sysVolume },
        { backupId: ID.sysBackup, volumeId: ID.dataVolume },
      ];
    },
    code: "CSBS.6023",
    message: `Can not restore data volume to system volume. server id is (${ID.server}).`,
  },
  {
    rule: 18,
    name: "target volume too small",
    mutate: (w) => {
      vol(w, ID.dataVolume).size = 50;
    },
    code: "CSBS.6024",
    message: `Target volume (${ID.dataVolume}) size (50) small than volume backup (${ID.dataBackup}) size (100).`,
  },
];

function ruleCase(rule: number): RuleCase {
  return RULES.find((r) => r.rule === rule)!;
}

/** A world with the mutations of these rules applied, highest rule first. */
function worldWith(rules: ReadonlyArray<number>): World {
  const w = world();
  for (const rule of [...rules].sort((a, b) => b - a)) ruleCase(rule).mutate(w);
  return w;
}

describe("checkRestorable: the baseline fixture", () => {
  it("passes with result ok", () => {
    expect(check(world())).toEqual({ ok: true });
  });

  it("every one of the 18 rules has a case", () => {
    expect(RULES.map((r) => r.rule)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
  });
});

describe("checkRestorable: one case per rule (exact code and message)", () => {
  it.each(RULES)("rule $rule: $name → $code", ({ rule, code, message }) => {
    expect(check(worldWith([rule]))).toEqual({ ok: false, code, message });
  });
});

describe("checkRestorable: every variant of the status rules", () => {
  const busy = ["waiting_protect", "protecting", "waiting_restore", "restoring", "waiting_delete", "deleting"];
  it.each(busy)("item status %s is rule 2 (CSBS.2003)", (status) => {
    const w = world();
    w.item!.status = status;
    expect(check(w)).toEqual({ ok: false, code: "CSBS.2003", message: "item in executing" });
  });

  it.each(["deleted", "error", "unavailable", ""])("item status %j is rule 3 (CSBS.4000)", (status) => {
    const w = world();
    w.item!.status = status;
    expect(check(w)).toEqual({ ok: false, code: "CSBS.4000", message: "checkpoint item not available" });
  });

  it.each(["DELETED", "SOFT_DELETED"])("server status %s is rule 7 (CSBS.6001)", (status) => {
    const w = world();
    w.server!.status = status;
    expect(check(w)).toEqual({ ok: false, code: "CSBS.6001", message: "The server has stopped." });
  });

  it.each(["ERROR", "RESIZE", "VERIFY_RESIZE"])("server status %s is rule 8 (CSBS.6015)", (status) => {
    const w = world();
    w.server!.status = status;
    expect(check(w)).toEqual({ ok: false, code: "CSBS.6015", message: "The server is restoring." });
  });

  it.each(["os::nova::server", "OS::Nova::Server ", "", "OS::Cinder::Volume"])(
    "target type %j is rule 4 and echoes the type as sent",
    (type) => {
      const w = world();
      w.entry.target.resourceType = type;
      expect(check(w)).toEqual({
        ok: false,
        code: "CSBS.6013",
        message: `Resource (${ID.server}) type (${type}) is not support restoration.`,
      });
    },
  );

  it("rule 10 names the item's source server and type, then the target server's id and own type", () => {
    const w = world();
    w.item!.resourceType = NOVA;
    w.item!.resourceAz = "az1";
    w.server!.type = BMS;
    w.entry.target.resourceType = BMS;
    expect(check(w)).toEqual({
      ok: false,
      code: "CSBS.6019",
      message: `The source server (${ID.source}) type (${NOVA}) is not the same as the target server (${ID.server}) type (${BMS}).`,
    });
  });

  it("rule 18 prints whole GB sizes as plain numbers", () => {
    const w = world();
    vol(w, ID.sysVolume).size = 1;
    w.item!.volumeBackups[0]!.sourceVolumeSize = 1024;
    expect(check(w)).toEqual({
      ok: false,
      code: "CSBS.6024",
      message: `Target volume (${ID.sysVolume}) size (1) small than volume backup (${ID.sysBackup}) size (1024).`,
    });
  });
});

describe("checkRestorable: rule order (when several rules fail, the earliest wins)", () => {
  const pairs = RULES.flatMap((a) =>
    RULES.filter((b) => b.rule > a.rule).map((b) => ({ first: a.rule, second: b.rule, code: a.code })),
  );
  it.each(pairs)("rules $first and $second both fail → rule $first ($code)", ({ first, second }) => {
    const { code, message } = ruleCase(first);
    expect(check(worldWith([first, second]))).toEqual({ ok: false, code, message });
  });

  it.each(RULES)("rules $rule..18 all fail → rule $rule ($code)", ({ rule, code, message }) => {
    const all = RULES.filter((r) => r.rule >= rule).map((r) => r.rule);
    expect(check(worldWith(all))).toEqual({ ok: false, code, message });
  });

  it("a busy item that is also not available is rule 2, not rule 3", () => {
    const w = world();
    w.item!.status = "deleting";
    w.item!.supportedRestoreMode = "na";
    expect(check(w)).toMatchObject({ code: "CSBS.2003" });
  });

  it("a SOFT_DELETED server that also holds the restore lock is rule 7, not rule 8", () => {
    const w = world();
    w.server!.status = "SOFT_DELETED";
    w.server!.restoring = true;
    expect(check(w)).toMatchObject({ code: "CSBS.6001" });
  });

  it("an unsupported target type for a server that does not exist is rule 4, not rule 5", () => {
    expect(check(worldWith([4, 5]))).toMatchObject({ code: "CSBS.6013" });
  });
});

describe("checkRestorable: these pass (docs/contract.md §7)", () => {
  const passing: ReadonlyArray<{ name: string; mutate: (w: World) => void }> = [
    {
      name: "a SHUTOFF server",
      mutate: (w) => {
        w.server!.status = "SHUTOFF";
      },
    },
    {
      name: "supported_restore_mode snapshot",
      mutate: (w) => {
        w.item!.supportedRestoreMode = "snapshot";
      },
    },
    {
      name: "supported_restore_mode backup",
      mutate: (w) => {
        w.item!.supportedRestoreMode = "backup";
      },
    },
    {
      name: "a target disk that no mapping names",
      mutate: (w) => void w.volumes.push(volume(ID.unknownC, { size: 10 })),
    },
    {
      name: "a shareable target disk that no mapping names",
      mutate: (w) => void w.volumes.push(volume(ID.unknownC, { shareable: true })),
    },
    {
      name: "restoring onto the item's own source server",
      mutate: (w) => {
        w.item!.resourceId = ID.server;
      },
    },
    {
      name: "restoring onto another server of the same type and AZ (the baseline)",
      mutate: (w) => {
        expect(w.item!.resourceId).not.toBe(w.server!.id);
      },
    },
    {
      name: "a bare-metal item onto a bare-metal server",
      mutate: (w) => {
        w.item!.resourceType = BMS;
        w.server!.type = BMS;
        w.entry.target.resourceType = BMS;
      },
    },
    {
      name: "target volumes larger than the backups",
      mutate: (w) => {
        for (const v of w.volumes) v.size = 2048;
      },
    },
    {
      name: "target volumes exactly the backups' size",
      mutate: (w) => {
        vol(w, ID.dataVolume).size = 100;
        vol(w, ID.sysVolume).size = 40;
      },
    },
    {
      name: "a system backup onto a data disk",
      mutate: (w) => {
        w.entry.target.volumes = [
          { backupId: ID.sysBackup, volumeId: ID.dataVolume },
          { backupId: ID.dataBackup, volumeId: ID.unknownC },
        ];
        w.volumes.push(volume(ID.unknownC, { size: 100 }));
      },
    },
    {
      name: "mappings in another order than the item's backups",
      mutate: (w) => void w.entry.target.volumes.reverse(),
    },
    {
      name: "an item with a single backup, mapped",
      mutate: (w) => {
        w.item!.volumeBackups = w.item!.volumeBackups.slice(0, 1);
        w.entry.target.volumes = w.entry.target.volumes.slice(0, 1);
      },
    },
  ];
  it.each(passing)("$name", ({ mutate }) => {
    const w = world();
    mutate(w);
    expect(check(w)).toEqual({ ok: true });
  });

  it("a deleted item exists and is not available: rule 3, not rule 1", () => {
    const w = world();
    w.item!.status = "deleted";
    expect(check(w)).toEqual({ ok: false, code: "CSBS.4000", message: "checkpoint item not available" });
  });

  it("a backup id that belongs to another item fails rule 13 like an unknown id", () => {
    const w = world();
    // A real backup of some other checkpoint item: the facts hold only this item's backups.
    const otherItemsBackup = "dddddddd-0000-4000-8000-00000000000d";
    w.entry.target.volumes[1]!.backupId = otherItemsBackup;
    expect(check(w)).toEqual({
      ok: false,
      code: "CSBS.6017",
      message: `Can not find backup(s) (${otherItemsBackup}) in checkpoint item (${ID.item}).`,
    });
  });
});

describe("checkRestorable: several ids in one message", () => {
  it("rule 13 joins the unknown backup ids with ',' in request order", () => {
    const w = world();
    w.volumes.push(volume(ID.unknownA), volume(ID.unknownB));
    // Request order C, (known), A: not sorted, so request order is visible.
    w.entry.target.volumes = [
      { backupId: ID.unknownC, volumeId: ID.sysVolume },
      { backupId: ID.dataBackup, volumeId: ID.dataVolume },
      { backupId: ID.unknownA, volumeId: ID.unknownA },
    ];
    expect(check(w)).toEqual({
      ok: false,
      code: "CSBS.6017",
      message: `Can not find backup(s) (${ID.unknownC},${ID.unknownA}) in checkpoint item (${ID.item}).`,
    });
  });

  it("rule 14 joins the unknown volume ids with ',' in request order", () => {
    const w = world();
    w.entry.target.volumes = [
      { backupId: ID.sysBackup, volumeId: ID.unknownC },
      { backupId: ID.dataBackup, volumeId: ID.unknownA },
    ];
    expect(check(w)).toEqual({
      ok: false,
      code: "CSBS.6014",
      message: `Volume(s) (${ID.unknownC},${ID.unknownA}) not found in target server.`,
    });
  });

  it("rule 15 lists the unassigned backups in the item's own volume_backups order", () => {
    const w = world();
    // The item's backups in the order C, sys, A, data, B; only sys is mapped.
    const extra = (id: string) => ({
      id,
      sourceVolumeId: ID.unknownA,
      sourceVolumeSize: 10,
      bootable: false,
      status: "available",
    });
    const [sys, data] = w.item!.volumeBackups as [
      CheckpointItem["volumeBackups"][number],
      CheckpointItem["volumeBackups"][number],
    ];
    w.item!.volumeBackups = [extra(ID.unknownC), sys, extra(ID.unknownA), data, extra(ID.unknownB)];
    w.entry.target.volumes = [{ backupId: ID.sysBackup, volumeId: ID.sysVolume }];
    expect(check(w)).toEqual({
      ok: false,
      code: "CSBS.6018",
      message: `Not assign backup(s) (${ID.unknownC},${ID.unknownA},${ID.dataBackup},${ID.unknownB}) to volume(s), partial restore is not supported.`,
    });
  });

  it("rule 16 names the first shareable volume in request order", () => {
    const w = world();
    for (const v of w.volumes) v.shareable = true;
    w.entry.target.volumes.reverse(); // data first
    expect(check(w)).toEqual({
      ok: false,
      code: "CSBS.6021",
      message: `Volume (${ID.dataVolume}) attached to server (${ID.server}) is shareable volume.`,
    });
  });

  it("rule 18 names the first too-small mapping in request order", () => {
    const w = world();
    vol(w, ID.sysVolume).size = 20;
    vol(w, ID.dataVolume).size = 50;
    w.entry.target.volumes.reverse(); // data first
    expect(check(w)).toEqual({
      ok: false,
      code: "CSBS.6024",
      message: `Target volume (${ID.dataVolume}) size (50) small than volume backup (${ID.dataBackup}) size (100).`,
    });
    w.entry.target.volumes.reverse(); // system first
    expect(check(w)).toEqual({
      ok: false,
      code: "CSBS.6024",
      message: `Target volume (${ID.sysVolume}) size (20) small than volume backup (${ID.sysBackup}) size (40).`,
    });
  });
});

describe("checkRestorable: cross-project isolation at the domain level", () => {
  // The rules never see a project id: isolation is the store's job (lookups are scoped,
  // see store-sqlite.test.ts and the REST/gRPC tests). What the domain guarantees is that
  // an object the scoped lookup did not return is treated exactly as one that does not
  // exist, naming the id the caller asked for.
  it("an item only another project has is 'not found' with the requested id", () => {
    const w = world();
    w.item = undefined; // the project-scoped lookup found nothing
    expect(check(w)).toEqual({ ok: false, code: "CSBS.3001", message: `Checkpoint_item (${ID.item}) is not found.` });
  });

  it("a target server only another project has does not exist", () => {
    const w = world();
    w.server = undefined;
    w.volumes = [];
    expect(check(w)).toEqual({ ok: false, code: "CSBS.6000", message: "server do not exist" });
  });

  it("another project's volumes, not returned by the scoped lookup, are not attached", () => {
    const w = world();
    w.volumes = [];
    expect(check(w)).toMatchObject({ code: "CSBS.6020" });
  });
});
