import { describe, expect, it } from "vitest";
import { checkProtectable, type ProtectEntry } from "../src/domain/protect-rules.js";
import type { Server, Volume } from "../src/domain/types.js";
import { aServer, aVolume, BMS, NOVA } from "./support/domain-builders.js";

/**
 * The 8 protectability rules of docs/contract.md §6 on the pure domain function: one case per
 * rule (exact code and message), the rule order, and the cases that pass.
 */

const SERVER = "33333333-0000-4000-8000-000000000003";
const VOL_A = "aaaaaaaa-0000-4000-8000-00000000000a";
const VOL_B = "bbbbbbbb-0000-4000-8000-00000000000b";
const VOL_C = "cccccccc-0000-4000-8000-00000000000c";

interface World {
  entry: ProtectEntry;
  server: Server | undefined;
  volumes: Volume[];
}

function volume(id: string, over: Partial<Volume> = {}): Volume {
  return aVolume({ id, projectId: "project-a", serverId: SERVER, ...over });
}

/** A protectable world: an ACTIVE Nova server without a policy, with a system and a data disk. */
function world(): World {
  return {
    entry: { resourceId: SERVER, resourceType: NOVA },
    server: aServer({ id: SERVER, projectId: "project-a" }),
    volumes: [volume(VOL_A, { bootable: true }), volume(VOL_B)],
  };
}

function check(w: World) {
  return checkProtectable(w.entry, { server: w.server, serverVolumes: w.volumes });
}

interface RuleCase {
  rule: number;
  name: string;
  mutate: (w: World) => void;
  code: string;
  message: string;
}

/** One failing mutation per rule; any set applies together (highest first), the lowest must fail. */
const RULES: ReadonlyArray<RuleCase> = [
  {
    rule: 1,
    name: "unsupported resource type",
    mutate: (w) => {
      w.entry.resourceType = "OS::Cinder::Volume";
    },
    code: "CSBS.6003",
    message: `Resource (${SERVER}) type (OS::Cinder::Volume) is not support protection.`,
  },
  {
    rule: 2,
    name: "server does not exist",
    mutate: (w) => {
      w.server = undefined;
      w.volumes = [];
    },
    code: "CSBS.6000",
    message: "server do not exist",
  },
  {
    rule: 3,
    name: "server type differs (the template of rule 1, with the type asked for)",
    mutate: (w) => {
      w.server!.type = BMS;
    },
    code: "CSBS.6003",
    message: `Resource (${SERVER}) type (${NOVA}) is not support protection.`,
  },
  {
    rule: 4,
    name: "status does not allow backup",
    mutate: (w) => {
      w.server!.status = "ERROR";
    },
    code: "CSBS.6006",
    message: `Server (${SERVER}) status (ERROR) is not allowed to protect.`,
  },
  {
    rule: 5,
    name: "already bound to a policy",
    mutate: (w) => {
      w.server!.policyId = "policy-1";
    },
    code: "CSBS.6004",
    message: `Server (${SERVER}) is already in service.`,
  },
  {
    rule: 6,
    name: "no volume attached",
    mutate: (w) => {
      w.volumes = [];
    },
    code: "CSBS.6007",
    message: `No volume attached to the server (${SERVER}) for protect.`,
  },
  {
    rule: 7,
    name: "a shareable volume attached",
    mutate: (w) => {
      w.volumes[1]!.shareable = true;
    },
    code: "CSBS.6010",
    message: `Volume (${VOL_B}) attached to server (${SERVER}) is shareable volume.`,
  },
  {
    rule: 8,
    name: "location does not support backup",
    mutate: (w) => {
      w.server!.backupSupported = false;
    },
    code: "CSBS.6027",
    message: `The AZ where the resource (${SERVER}) is located does not support backup.`,
  },
];

function worldWith(rules: ReadonlyArray<number>): World {
  const w = world();
  for (const rule of [...rules].sort((a, b) => b - a)) RULES.find((r) => r.rule === rule)!.mutate(w);
  return w;
}

describe("checkProtectable: one case per rule (exact code and message)", () => {
  it("the baseline passes", () => {
    expect(check(world())).toEqual({ ok: true });
  });

  it("every one of the 8 rules has a case", () => {
    expect(RULES.map((r) => r.rule)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it.each(RULES)("rule $rule: $name → $code", ({ rule, code, message }) => {
    expect(check(worldWith([rule]))).toEqual({ ok: false, code, message });
  });

  it.each(["ERROR", "DELETED", "SOFT_DELETED", "BUILD", "RESIZE", "VERIFY_RESIZE", "REBOOT", "active"])(
    "server status %s is rule 4 and names the status",
    (status) => {
      const w = world();
      w.server!.status = status;
      expect(check(w)).toEqual({
        ok: false,
        code: "CSBS.6006",
        message: `Server (${SERVER}) status (${status}) is not allowed to protect.`,
      });
    },
  );

  it("rule 3 for a bare-metal request on a Nova server names the bare-metal type asked for", () => {
    const w = world();
    w.entry.resourceType = BMS;
    expect(check(w)).toEqual({
      ok: false,
      code: "CSBS.6003",
      message: `Resource (${SERVER}) type (${BMS}) is not support protection.`,
    });
  });

  it("rule 7 names the first shareable volume of the server's volume list", () => {
    const w = world();
    w.volumes = [
      volume(VOL_A, { bootable: true }),
      volume(VOL_B, { shareable: true }),
      volume(VOL_C, { shareable: true }),
    ];
    expect(check(w)).toEqual({
      ok: false,
      code: "CSBS.6010",
      message: `Volume (${VOL_B}) attached to server (${SERVER}) is shareable volume.`,
    });
  });
});

describe("checkProtectable: rule order (the earliest failing rule wins)", () => {
  const pairs = RULES.flatMap((a) =>
    RULES.filter((b) => b.rule > a.rule).map((b) => ({ first: a.rule, second: b.rule, code: a.code })),
  );
  it.each(pairs)("rules $first and $second both fail → rule $first ($code)", ({ first, second }) => {
    const { code, message } = RULES.find((r) => r.rule === first)!;
    expect(check(worldWith([first, second]))).toEqual({ ok: false, code, message });
  });

  it.each(RULES)("rules $rule..8 all fail → rule $rule ($code)", ({ rule, code, message }) => {
    const all = RULES.filter((r) => r.rule >= rule).map((r) => r.rule);
    expect(check(worldWith(all))).toEqual({ ok: false, code, message });
  });
});

describe("checkProtectable: these pass", () => {
  const passing: ReadonlyArray<{ name: string; mutate: (w: World) => void }> = [
    { name: "an ACTIVE Nova server (baseline)", mutate: () => {} },
    {
      name: "a SHUTOFF server",
      mutate: (w) => {
        w.server!.status = "SHUTOFF";
      },
    },
    {
      name: "a bare-metal server asked as bare metal",
      mutate: (w) => {
        w.server!.type = BMS;
        w.entry.resourceType = BMS;
      },
    },
    {
      name: "a server whose location does not support restore (only backup matters)",
      mutate: (w) => {
        w.server!.restoreSupported = false;
      },
    },
    {
      name: "a server with a single attached volume",
      mutate: (w) => {
        w.volumes = w.volumes.slice(0, 1);
      },
    },
  ];
  it.each(passing)("$name", ({ mutate }) => {
    const w = world();
    mutate(w);
    expect(check(w)).toEqual({ ok: true });
  });
});

describe("checkProtectable: cross-project isolation at the domain level", () => {
  // The rules see only what the project-scoped lookups returned (see store-sqlite.test.ts):
  // another project's server is simply absent.
  it("a server only another project has does not exist", () => {
    const w = world();
    w.server = undefined;
    w.volumes = [];
    expect(check(w)).toEqual({ ok: false, code: "CSBS.6000", message: "server do not exist" });
  });
});
