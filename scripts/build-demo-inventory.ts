/**
 * Writes data/demo-inventory.json (the demo data `npm start` loads) and data/demo-cases.json
 * (one request entry per rule outcome, with the expected verdict), deterministically.
 * Run: npm run demo:build
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";

const PROJECT = "demo-project";
const OTHER_PROJECT = "other-project";
const PROVIDER = "fc4d5750-22e7-4798-8a46-f48f62c4c1da";
const NOVA = "OS::Nova::Server";
const BMS = "OS::Ironic::BareMetalServer";

/** A stable UUID (version 5 layout) from a name. */
function id(name: string): string {
  const h = createHash("sha1").update(`restorability-demo:${name}`).digest("hex");
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

type Json = Record<string, unknown>;
const items: Json[] = [];
const servers: Json[] = [];
const volumes: Json[] = [];
const restoreCases: Json[] = [];
const protectCases: Json[] = [];

interface Scenario {
  name: string;
  project?: string;
  itemType?: string;
  itemStatus?: string;
  restoreMode?: string;
  itemAz?: string;
  serverType?: string;
  serverStatus?: string;
  serverAz?: string;
  restoreSupported?: boolean;
  restoring?: boolean;
  /** Attach no volumes to the target server. */
  noVolumes?: boolean;
  systemSize?: number;
  dataSize?: number;
  dataShareable?: boolean;
}

/** A checkpoint item with a system and a data backup, and a target server with two disks. */
function scenario(s: Scenario) {
  const project = s.project ?? PROJECT;
  const itemType = s.itemType ?? NOVA;
  const ids = {
    item: id(`${s.name}:item`),
    source: id(`${s.name}:source-server`),
    systemBackup: id(`${s.name}:backup-system`),
    dataBackup: id(`${s.name}:backup-data`),
    server: id(`${s.name}:server`),
    systemVolume: id(`${s.name}:volume-system`),
    dataVolume: id(`${s.name}:volume-data`),
  };
  items.push({
    id: ids.item,
    project_id: project,
    provider_id: PROVIDER,
    checkpoint_id: id(`${s.name}:checkpoint`),
    resource_id: ids.source,
    resource_type: itemType,
    status: s.itemStatus ?? "available",
    resource_az: s.itemAz ?? "az1",
    supported_restore_mode: s.restoreMode ?? "backup",
    volume_backups: [
      {
        id: ids.systemBackup,
        source_volume_id: id(`${s.name}:source-system`),
        source_volume_size: 40,
        bootable: true,
        status: "available",
      },
      {
        id: ids.dataBackup,
        source_volume_id: id(`${s.name}:source-data`),
        source_volume_size: 100,
        bootable: false,
        status: "available",
      },
    ],
  });
  servers.push({
    id: ids.server,
    project_id: project,
    type: s.serverType ?? itemType,
    status: s.serverStatus ?? "ACTIVE",
    availability_zone: s.serverAz ?? "az1",
    restore_supported: s.restoreSupported ?? true,
    backup_supported: true,
    restoring: s.restoring ?? false,
    policy_id: null,
  });
  if (!s.noVolumes) {
    volumes.push(
      {
        id: ids.systemVolume,
        project_id: project,
        server_id: ids.server,
        size: s.systemSize ?? 40,
        bootable: true,
        shareable: false,
        status: "in-use",
      },
      {
        id: ids.dataVolume,
        project_id: project,
        server_id: ids.server,
        size: s.dataSize ?? 100,
        bootable: false,
        shareable: s.dataShareable ?? false,
        status: "in-use",
      },
    );
  }
  return ids;
}

function restoreCase(
  name: string,
  entry: { checkpoint_item_id: string; target: { resource_id: string; resource_type: string; volumes: Json[] } },
  expected: { code: string; message: string },
  rule: number | null,
) {
  restoreCases.push({
    name,
    rule,
    request: entry,
    expected: { result: expected.code === "", error_code: expected.code, error_msg: expected.message },
  });
}

function fullMapping(ids: ReturnType<typeof scenario>) {
  return [
    { backup_id: ids.systemBackup, volume_id: ids.systemVolume },
    { backup_id: ids.dataBackup, volume_id: ids.dataVolume },
  ];
}

function simple(
  name: string,
  s: Omit<Scenario, "name">,
  rule: number | null,
  code: string,
  message: (ids: ReturnType<typeof scenario>) => string,
  type?: string,
) {
  const ids = scenario({ ...s, name });
  restoreCase(
    name,
    {
      checkpoint_item_id: ids.item,
      target: {
        resource_id: ids.server,
        resource_type: type ?? s.serverType ?? s.itemType ?? NOVA,
        volumes: fullMapping(ids),
      },
    },
    { code, message: code ? message(ids) : "" },
    rule,
  );
  return ids;
}

// --- the seed document's sample request: restorable ---
const seed = {
  item: "8986ce68-3da7-4d29-9cc2-1921e9504975",
  server: "5aa119a8-d25b-45a7-8d1b-88e127885635",
  backup: "7ea119a8-d25b-43a7-8d1b-88e12788513a",
  volume: "45baf976-c20a-4894-a7c3-c94b7376bf55",
};
items.push({
  id: seed.item,
  project_id: PROJECT,
  provider_id: PROVIDER,
  checkpoint_id: id("seed:checkpoint"),
  resource_id: id("seed:source-server"),
  resource_type: NOVA,
  status: "available",
  resource_az: "az1",
  supported_restore_mode: "backup",
  volume_backups: [
    {
      id: seed.backup,
      source_volume_id: id("seed:source-volume"),
      source_volume_size: 40,
      bootable: true,
      status: "available",
    },
  ],
});
servers.push({
  id: seed.server,
  project_id: PROJECT,
  type: NOVA,
  status: "ACTIVE",
  availability_zone: "az1",
  restore_supported: true,
  backup_supported: true,
  restoring: false,
  policy_id: null,
});
volumes.push({
  id: seed.volume,
  project_id: PROJECT,
  server_id: seed.server,
  size: 40,
  bootable: true,
  shareable: false,
  status: "in-use",
});
restoreCase(
  "seed sample (ECS)",
  {
    checkpoint_item_id: seed.item,
    target: {
      resource_id: seed.server,
      resource_type: NOVA,
      volumes: [{ backup_id: seed.backup, volume_id: seed.volume }],
    },
  },
  { code: "", message: "" },
  null,
);

// --- passing cases ---
simple("restorable ECS", {}, null, "", () => "");
simple("restorable BMS", { itemType: BMS }, null, "", () => "");
simple("restorable onto a SHUTOFF server", { serverStatus: "SHUTOFF" }, null, "", () => "");
simple("restorable with snapshot mode", { restoreMode: "snapshot" }, null, "", () => "");
{
  const ids = scenario({ name: "restorable with a disk no mapping names" });
  const spare = id("restorable with a disk no mapping names:volume-spare");
  volumes.push({
    id: spare,
    project_id: PROJECT,
    server_id: ids.server,
    size: 10,
    bootable: false,
    shareable: true,
    status: "in-use",
  });
  restoreCase(
    "restorable with a disk no mapping names",
    {
      checkpoint_item_id: ids.item,
      target: { resource_id: ids.server, resource_type: NOVA, volumes: fullMapping(ids) },
    },
    { code: "", message: "" },
    null,
  );
}

// --- one failing case per rule ---
{
  const missing = id("rule 1:missing item");
  const ids = scenario({ name: "rule 1" });
  restoreCase(
    "rule 1: checkpoint item not found",
    {
      checkpoint_item_id: missing,
      target: { resource_id: ids.server, resource_type: NOVA, volumes: fullMapping(ids) },
    },
    { code: "CSBS.3001", message: `Checkpoint_item (${missing}) is not found.` },
    1,
  );
}
simple("rule 2: item is busy (restoring)", { itemStatus: "restoring" }, 2, "CSBS.2003", () => "item in executing");
simple("rule 3: item deleted", { itemStatus: "deleted" }, 3, "CSBS.4000", () => "checkpoint item not available");
simple("rule 3: restore mode na", { restoreMode: "na" }, 3, "CSBS.4000", () => "checkpoint item not available");
{
  const ids = scenario({ name: "rule 4" });
  restoreCase(
    "rule 4: unsupported resource type",
    {
      checkpoint_item_id: ids.item,
      target: { resource_id: ids.server, resource_type: "OS::Cinder::Volume", volumes: fullMapping(ids) },
    },
    { code: "CSBS.6013", message: `Resource (${ids.server}) type (OS::Cinder::Volume) is not support restoration.` },
    4,
  );
}
{
  const ids = scenario({ name: "rule 5" });
  const ghost = id("rule 5:missing server");
  restoreCase(
    "rule 5: target server does not exist",
    { checkpoint_item_id: ids.item, target: { resource_id: ghost, resource_type: NOVA, volumes: fullMapping(ids) } },
    { code: "CSBS.6000", message: "server do not exist" },
    5,
  );
}
simple(
  "rule 6: server type differs from target type",
  {},
  6,
  "CSBS.6016",
  () => "can not restore server type is not allow",
  BMS,
);
simple("rule 7: server deleted", { serverStatus: "DELETED" }, 7, "CSBS.6001", () => "The server has stopped.");
simple(
  "rule 7: server soft-deleted",
  { serverStatus: "SOFT_DELETED" },
  7,
  "CSBS.6001",
  () => "The server has stopped.",
);
simple("rule 8: server in ERROR", { serverStatus: "ERROR" }, 8, "CSBS.6015", () => "The server is restoring.");
simple("rule 8: server resizing", { serverStatus: "RESIZE" }, 8, "CSBS.6015", () => "The server is restoring.");
simple("rule 8: server restore lock", { restoring: true }, 8, "CSBS.6015", () => "The server is restoring.");
simple(
  "rule 9: location does not support restore",
  { restoreSupported: false },
  9,
  "CSBS.6061",
  () => "volume of server in this pod does not support backup",
);
simple(
  "rule 10: source type differs from target server type",
  { itemType: BMS, serverType: NOVA },
  10,
  "CSBS.6019",
  (i) =>
    `The source server (${i.source}) type (${BMS}) is not the same as the target server (${i.server}) type (${NOVA}).`,
  NOVA,
);
simple(
  "rule 11: different AZ",
  { serverAz: "az2" },
  11,
  "CSBS.6025",
  (i) => `The AZ of local checkpoint item (${i.item}) is not support to restore the resource (${i.server}).`,
);
simple(
  "rule 12: no volume attached",
  { noVolumes: true },
  12,
  "CSBS.6020",
  (i) => `No volume attached to the server (${i.server}) for restore.`,
);
{
  const ids = scenario({ name: "rule 13" });
  const other = scenario({ name: "rule 13 other item" });
  const ghost = id("rule 13:missing backup");
  restoreCase(
    "rule 13: backups not in the item (unknown, and of another item)",
    {
      checkpoint_item_id: ids.item,
      target: {
        resource_id: ids.server,
        resource_type: NOVA,
        volumes: [
          { backup_id: ghost, volume_id: ids.systemVolume },
          { backup_id: ids.dataBackup, volume_id: ids.dataVolume },
          { backup_id: other.systemBackup, volume_id: other.systemVolume },
        ],
      },
    },
    {
      code: "CSBS.6017",
      message: `Can not find backup(s) (${ghost},${other.systemBackup}) in checkpoint item (${ids.item}).`,
    },
    13,
  );
}
{
  const ids = scenario({ name: "rule 14" });
  const other = scenario({ name: "rule 14 other server" });
  restoreCase(
    "rule 14: volume not attached to the target",
    {
      checkpoint_item_id: ids.item,
      target: {
        resource_id: ids.server,
        resource_type: NOVA,
        volumes: [
          { backup_id: ids.systemBackup, volume_id: ids.systemVolume },
          { backup_id: ids.dataBackup, volume_id: other.dataVolume },
        ],
      },
    },
    { code: "CSBS.6014", message: `Volume(s) (${other.dataVolume}) not found in target server.` },
    14,
  );
}
{
  const ids = scenario({ name: "rule 15" });
  restoreCase(
    "rule 15: partial restore",
    {
      checkpoint_item_id: ids.item,
      target: {
        resource_id: ids.server,
        resource_type: NOVA,
        volumes: [{ backup_id: ids.systemBackup, volume_id: ids.systemVolume }],
      },
    },
    {
      code: "CSBS.6018",
      message: `Not assign backup(s) (${ids.dataBackup}) to volume(s), partial restore is not supported.`,
    },
    15,
  );
}
simple(
  "rule 16: shareable target volume",
  { dataShareable: true },
  16,
  "CSBS.6021",
  (i) => `Volume (${i.dataVolume}) attached to server (${i.server}) is shareable volume.`,
);
{
  const ids = scenario({ name: "rule 17", systemSize: 200, dataSize: 200 });
  restoreCase(
    "rule 17: data backup onto the system disk",
    {
      checkpoint_item_id: ids.item,
      target: {
        resource_id: ids.server,
        resource_type: NOVA,
        volumes: [
          { backup_id: ids.systemBackup, volume_id: ids.dataVolume },
          { backup_id: ids.dataBackup, volume_id: ids.systemVolume },
        ],
      },
    },
    { code: "CSBS.6023", message: `Can not restore data volume to system volume. server id is (${ids.server}).` },
    17,
  );
}
simple(
  "rule 18: target volume too small",
  { dataSize: 50 },
  18,
  "CSBS.6024",
  (i) => `Target volume (${i.dataVolume}) size (50) small than volume backup (${i.dataBackup}) size (100).`,
);

// --- another project's objects: to a demo-project caller they do not exist ---
const foreign = scenario({ name: "other project", project: OTHER_PROJECT });

// --- check_protectable ---
function protectCase(
  name: string,
  resourceId: string,
  resourceType: string,
  code: string,
  message: string,
  rule: number | null,
) {
  protectCases.push({
    name,
    rule,
    request: { resource_id: resourceId, resource_type: resourceType },
    expected: { result: code === "", error_code: code, error_msg: message },
  });
}
function protectServer(name: string, over: Json = {}, attach: Json[] | null = [{ shareable: false }]) {
  const sid = id(`protect ${name}:server`);
  servers.push({
    id: sid,
    project_id: PROJECT,
    type: NOVA,
    status: "ACTIVE",
    availability_zone: "az1",
    restore_supported: true,
    backup_supported: true,
    restoring: false,
    policy_id: null,
    ...over,
  });
  for (const [i, v] of (attach ?? []).entries()) {
    volumes.push({
      id: id(`protect ${name}:volume ${i}`),
      project_id: PROJECT,
      server_id: sid,
      size: 40,
      bootable: i === 0,
      shareable: false,
      status: "in-use",
      ...v,
    });
  }
  return sid;
}
{
  const ok = protectServer("ok ECS");
  protectCase("protectable ECS", ok, NOVA, "", "", null);
  const bms = protectServer("ok BMS", { type: BMS });
  protectCase("protectable BMS", bms, BMS, "", "", null);
  const off = protectServer("ok SHUTOFF", { status: "SHUTOFF" });
  protectCase("protectable SHUTOFF server", off, NOVA, "", "", null);
  protectCase(
    "rule 1: unsupported type",
    ok,
    "OS::Cinder::Volume",
    "CSBS.6003",
    `Resource (${ok}) type (OS::Cinder::Volume) is not support protection.`,
    1,
  );
  const ghost = id("protect rule 2:missing server");
  protectCase("rule 2: server does not exist", ghost, NOVA, "CSBS.6000", "server do not exist", 2);
  protectCase(
    "rule 3: server type differs",
    ok,
    BMS,
    "CSBS.6003",
    `Resource (${ok}) type (${BMS}) is not support protection.`,
    3,
  );
  const err = protectServer("rule 4", { status: "ERROR" });
  protectCase(
    "rule 4: status does not allow backup",
    err,
    NOVA,
    "CSBS.6006",
    `Server (${err}) status (ERROR) is not allowed to protect.`,
    4,
  );
  const bound = protectServer("rule 5", { policy_id: "policy-1" });
  protectCase(
    "rule 5: already bound to a policy",
    bound,
    NOVA,
    "CSBS.6004",
    `Server (${bound}) is already in service.`,
    5,
  );
  const bare = protectServer("rule 6", {}, null);
  protectCase(
    "rule 6: no volume attached",
    bare,
    NOVA,
    "CSBS.6007",
    `No volume attached to the server (${bare}) for protect.`,
    6,
  );
  const shared = protectServer("rule 7", {}, [{ shareable: false }, { shareable: true }]);
  protectCase(
    "rule 7: shareable volume attached",
    shared,
    NOVA,
    "CSBS.6010",
    `Volume (${id("protect rule 7:volume 1")}) attached to server (${shared}) is shareable volume.`,
    7,
  );
  const noBackup = protectServer("rule 8", { backup_supported: false });
  protectCase(
    "rule 8: location does not support backup",
    noBackup,
    NOVA,
    "CSBS.6027",
    `The AZ where the resource (${noBackup}) is located does not support backup.`,
    8,
  );
  protectCase("other project's server does not exist", foreign.server, NOVA, "CSBS.6000", "server do not exist", 2);
}

// --- explain (docs/contract.md §8): entries with several failures, and a disk mapping that works ---
// Expected answers are written out by hand here (not computed by the service's rules).
interface ExplainExpected {
  failures: Array<{ rule: number; error_code: string; error_msg: string }>;
  suggested_volumes: Json[];
}
const explainRestoreCases: Json[] = [];
const explainProtectCases: Json[] = [];
function explainCase(list: Json[], name: string, request: Json, expected: ExplainExpected) {
  const first = expected.failures[0];
  list.push({
    name,
    request,
    expected: {
      result: first === undefined,
      error_code: first?.error_code ?? "",
      error_msg: first?.error_msg ?? "",
      failures: expected.failures,
      suggested_volumes: expected.suggested_volumes,
    },
  });
}
function demoVolume(name: string, serverId: string, size: number, bootable: boolean, over: Json = {}) {
  const vid = id(name);
  volumes.push({
    id: vid,
    project_id: PROJECT,
    server_id: serverId,
    size,
    bootable,
    shareable: false,
    status: "in-use",
    ...over,
  });
  return vid;
}
function demoItem(name: string, over: Json = {}) {
  const ids = {
    item: id(`${name}:item`),
    source: id(`${name}:source-server`),
    systemBackup: id(`${name}:backup-system`),
    dataBackup: id(`${name}:backup-data`),
  };
  items.push({
    id: ids.item,
    project_id: PROJECT,
    provider_id: PROVIDER,
    checkpoint_id: id(`${name}:checkpoint`),
    resource_id: ids.source,
    resource_type: NOVA,
    status: "available",
    resource_az: "az1",
    supported_restore_mode: "backup",
    volume_backups: [
      {
        id: ids.systemBackup,
        source_volume_id: id(`${name}:source-system`),
        source_volume_size: 40,
        bootable: true,
        status: "available",
      },
      {
        id: ids.dataBackup,
        source_volume_id: id(`${name}:source-data`),
        source_volume_size: 100,
        bootable: false,
        status: "available",
      },
    ],
    ...over,
  });
  return ids;
}
function demoServer(name: string, over: Json = {}) {
  const sid = id(`${name}:server`);
  servers.push({
    id: sid,
    project_id: PROJECT,
    type: NOVA,
    status: "ACTIVE",
    availability_zone: "az1",
    restore_supported: true,
    backup_supported: true,
    restoring: false,
    policy_id: null,
    ...over,
  });
  return sid;
}
const restoreEntry = (item: string, server: string, mapping: Array<[string, string]>, type = NOVA) => ({
  checkpoint_item_id: item,
  target: {
    resource_id: server,
    resource_type: type,
    volumes: mapping.map(([backup_id, volume_id]) => ({ backup_id, volume_id })),
  },
});
const rule = (n: number, error_code: string, error_msg: string) => ({ rule: n, error_code, error_msg });
{
  // A busy item, a faulty server in another AZ, and the two backups swapped onto the wrong
  // disks: six failures; the suggestion puts each backup on a disk of its kind that fits.
  const name = "explain several failures";
  const item = demoItem(name, { status: "restoring" });
  const server = demoServer(name, { status: "ERROR", availability_zone: "az2" });
  const system50 = demoVolume(`${name}:volume-system-50`, server, 50, true);
  const data20 = demoVolume(`${name}:volume-data-20`, server, 20, false);
  const data150 = demoVolume(`${name}:volume-data-150`, server, 150, false);
  demoVolume(`${name}:volume-shared-500`, server, 500, false, { shareable: true });
  explainCase(
    explainRestoreCases,
    "several failures, and a mapping that works",
    restoreEntry(item.item, server, [
      [item.systemBackup, data20],
      [item.dataBackup, system50],
    ]),
    {
      failures: [
        rule(2, "CSBS.2003", "item in executing"),
        rule(3, "CSBS.4000", "checkpoint item not available"),
        rule(8, "CSBS.6015", "The server is restoring."),
        rule(
          11,
          "CSBS.6025",
          `The AZ of local checkpoint item (${item.item}) is not support to restore the resource (${server}).`,
        ),
        rule(17, "CSBS.6023", `Can not restore data volume to system volume. server id is (${server}).`),
        rule(
          18,
          "CSBS.6024",
          `Target volume (${data20}) size (20) small than volume backup (${item.systemBackup}) size (40).`,
        ),
      ],
      suggested_volumes: [
        { backup_id: item.systemBackup, volume_id: system50 },
        { backup_id: item.dataBackup, volume_id: data150 },
      ],
    },
  );
}
{
  // Only the disk mapping is wrong: the data backup on a disk too small, a larger one free.
  const name = "explain wrong disk";
  const item = demoItem(name);
  const server = demoServer(name);
  const system40 = demoVolume(`${name}:volume-system-40`, server, 40, true);
  const data50 = demoVolume(`${name}:volume-data-50`, server, 50, false);
  const data100 = demoVolume(`${name}:volume-data-100`, server, 100, false);
  explainCase(
    explainRestoreCases,
    "only the mapping fails: the suggestion picks the disk that fits",
    restoreEntry(item.item, server, [
      [item.systemBackup, system40],
      [item.dataBackup, data50],
    ]),
    {
      failures: [
        rule(
          18,
          "CSBS.6024",
          `Target volume (${data50}) size (50) small than volume backup (${item.dataBackup}) size (100).`,
        ),
      ],
      suggested_volumes: [
        { backup_id: item.systemBackup, volume_id: system40 },
        { backup_id: item.dataBackup, volume_id: data100 },
      ],
    },
  );
  // A partial mapping: rule 15, and the complete mapping as the suggestion.
  explainCase(
    explainRestoreCases,
    "a partial mapping: the suggestion maps every backup",
    restoreEntry(item.item, server, [[item.systemBackup, system40]]),
    {
      failures: [
        rule(
          15,
          "CSBS.6018",
          `Not assign backup(s) (${item.dataBackup}) to volume(s), partial restore is not supported.`,
        ),
      ],
      suggested_volumes: [
        { backup_id: item.systemBackup, volume_id: system40 },
        { backup_id: item.dataBackup, volume_id: data100 },
      ],
    },
  );
}
{
  // No data disk is large enough: the failure, and no suggestion. A volume of another project
  // attached to the same server id (large enough) is invisible to this project.
  const name = "explain no fit";
  const item = demoItem(name);
  const server = demoServer(name);
  const system40 = demoVolume(`${name}:volume-system-40`, server, 40, true);
  const data60 = demoVolume(`${name}:volume-data-60`, server, 60, false);
  volumes.push({
    id: id(`${name}:foreign-volume-data-500`),
    project_id: OTHER_PROJECT,
    server_id: server,
    size: 500,
    bootable: false,
    shareable: false,
    status: "in-use",
  });
  explainCase(
    explainRestoreCases,
    "no disk fits, and another project's disk is not offered",
    restoreEntry(item.item, server, [
      [item.systemBackup, system40],
      [item.dataBackup, data60],
    ]),
    {
      failures: [
        rule(
          18,
          "CSBS.6024",
          `Target volume (${data60}) size (60) small than volume backup (${item.dataBackup}) size (100).`,
        ),
      ],
      suggested_volumes: [],
    },
  );
}
{
  // Neither the item nor the server exists, and the type is not supported: rules 1, 4, 5 only.
  const ghostItem = id("explain missing:item");
  const ghostServer = id("explain missing:server");
  explainCase(
    explainRestoreCases,
    "nothing exists: only rules 1, 4 and 5 run",
    restoreEntry(
      ghostItem,
      ghostServer,
      [[id("explain missing:backup"), id("explain missing:volume")]],
      "OS::Cinder::Volume",
    ),
    {
      failures: [
        rule(1, "CSBS.3001", `Checkpoint_item (${ghostItem}) is not found.`),
        rule(4, "CSBS.6013", `Resource (${ghostServer}) type (OS::Cinder::Volume) is not support restoration.`),
        rule(5, "CSBS.6000", "server do not exist"),
      ],
      suggested_volumes: [],
    },
  );
}
// Another project's item and server do not exist for this project, exactly as in the plain check.
explainCase(
  explainRestoreCases,
  "another project's item and server do not exist",
  restoreEntry(foreign.item, foreign.server, [
    [foreign.systemBackup, foreign.systemVolume],
    [foreign.dataBackup, foreign.dataVolume],
  ]),
  {
    failures: [
      rule(1, "CSBS.3001", `Checkpoint_item (${foreign.item}) is not found.`),
      rule(5, "CSBS.6000", "server do not exist"),
    ],
    suggested_volumes: [],
  },
);
explainCase(
  explainRestoreCases,
  "restorable: no failure, no suggestion",
  restoreEntry(seed.item, seed.server, [[seed.backup, seed.volume]]),
  { failures: [], suggested_volumes: [] },
);
{
  const sid = protectServer("explain several", { status: "ERROR", policy_id: "policy-7", backup_supported: false }, [
    { shareable: false },
    { shareable: true },
  ]);
  explainCase(
    explainProtectCases,
    "several failures",
    { resource_id: sid, resource_type: NOVA },
    {
      failures: [
        rule(4, "CSBS.6006", `Server (${sid}) status (ERROR) is not allowed to protect.`),
        rule(5, "CSBS.6004", `Server (${sid}) is already in service.`),
        rule(
          7,
          "CSBS.6010",
          `Volume (${id("protect explain several:volume 1")}) attached to server (${sid}) is shareable volume.`,
        ),
        rule(8, "CSBS.6027", `The AZ where the resource (${sid}) is located does not support backup.`),
      ],
      suggested_volumes: [],
    },
  );
  const ghost = id("explain protect missing:server");
  explainCase(
    explainProtectCases,
    "unsupported type and no server: rules 1 and 2 only",
    { resource_id: ghost, resource_type: "OS::Cinder::Volume" },
    {
      failures: [
        rule(1, "CSBS.6003", `Resource (${ghost}) type (OS::Cinder::Volume) is not support protection.`),
        rule(2, "CSBS.6000", "server do not exist"),
      ],
      suggested_volumes: [],
    },
  );
  explainCase(
    explainProtectCases,
    "another project's server does not exist",
    { resource_id: foreign.server, resource_type: NOVA },
    { failures: [rule(2, "CSBS.6000", "server do not exist")], suggested_volumes: [] },
  );
  const ok = id("protect ok ECS:server");
  explainCase(
    explainProtectCases,
    "protectable: no failure",
    { resource_id: ok, resource_type: NOVA },
    {
      failures: [],
      suggested_volumes: [],
    },
  );
}

const cases = {
  project_id: PROJECT,
  other_project_id: OTHER_PROJECT,
  provider_id: PROVIDER,
  foreign: { checkpoint_item_id: foreign.item, server_id: foreign.server, mapping: fullMapping(foreign) },
  restore: restoreCases,
  protect: protectCases,
  explain: { restore: explainRestoreCases, protect: explainProtectCases },
};

const out = new URL("../data/", import.meta.url);
writeFileSync(
  new URL("demo-inventory.json", out),
  `${JSON.stringify({ checkpoint_items: items, servers, volumes }, null, 2)}\n`,
);
writeFileSync(new URL("demo-cases.json", out), `${JSON.stringify(cases, null, 2)}\n`);
console.log(
  `demo inventory: ${items.length} checkpoint items, ${servers.length} servers, ${volumes.length} volumes; ${restoreCases.length} restore cases, ${protectCases.length} protect cases; ${explainRestoreCases.length} + ${explainProtectCases.length} explain cases`,
);
