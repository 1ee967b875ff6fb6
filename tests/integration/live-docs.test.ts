import { afterEach, describe, expect, inject, it } from "vitest";
import * as Y from "yjs";
import * as encoding from "lib0/encoding";
import * as syncProtocol from "y-protocols/sync";
import { LIMITS, type Mail, type Rig } from "../../party/protocol.ts";
import { makeTown, until, untilReplica, type TestTown } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;
afterEach(() => town?.closeAll());

describe("live documents", () => {
  it("a viewer sees the rig summary change in the town doc and new mail in the rig doc", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    const b = await town.addRig("beta");
    const townReplica = town.replica("main", town.town);
    const rigReplica = town.replica("rig", town.rigRoom(b));
    await Promise.all([townReplica.whenSynced(), rigReplica.whenSynced()]);
    const rigs = () => townReplica.doc.getMap<Rig>("rigs");
    expect(rigs().get(b.id)?.name).toBe("beta");

    const sender = await town.polecat(a, "toast");
    const recipient = await town.polecat(b, "maple");
    const sent = await town.rigCall<{ id: string }>(a, "gt_mail_send", { to: recipient.identity, subject: "live", body: "" }, sender.token);

    const mail = await until(
      (cb) => (rigReplica.doc.getMap("mail").observe(cb), () => rigReplica.doc.getMap("mail").unobserve(cb)),
      () => rigReplica.doc.getMap<Mail>("mail").get(sent.id),
    );
    expect(mail).toMatchObject({ to: recipient.identity, state: "delivered" });

    // beta's summary (pushed by the rig, debounced) counts its polecat and the unread mail.
    const summary = await until(
      (cb) => (rigs().observe(cb), () => rigs().unobserve(cb)),
      () => {
        const s = rigs().get(b.id)?.summary;
        return s && s.queuedMail === 1 && s.agents.idle === 3 ? s : undefined;
      },
    );
    expect(summary.lastActivity).toBeGreaterThan(0);
  });

  it("refuses a client's document update and closes its socket with 4403", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    const replica = town.replica("rig", town.rigRoom(a), town.operator);
    await replica.whenSynced();
    const closed = new Promise<number>((resolve) => replica.socket.addEventListener("close", (e: CloseEvent) => resolve(e.code)));

    const forged = new Y.Doc();
    forged.getMap("beads").set("01JZZZZZZZZZZZZZZZZZZZZZZZ", { title: "forged" });
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 0);
    syncProtocol.writeUpdate(encoder, Y.encodeStateAsUpdate(forged));
    replica.socket.send(encoding.toUint8Array(encoder));

    expect(await closed).toBe(4403);
    const fresh = await town.replica("rig", town.rigRoom(a)).whenSynced();
    expect(fresh.getMap("beads").size).toBe(0);
    expect(await town.rigCall(a, "gt_list_beads")).toEqual([]);
  });

  it("keeps beads, agents and the registry across the room's lifetime, answering tools from them", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha", { capabilities: ["ts", "go"], max_polecats: 2 });
    expect(a).toMatchObject({ name: "alpha", status: "cloning", capabilities: ["go", "ts"], maxPolecats: 2 });
    const bead = await town.rigCall<{ id: string; status: string }>(a, "gt_bead_create", { title: "fix the build", priority: "high" });
    expect(bead.status).toBe("open");
    const updated = await town.rigCall(a, "gt_bead_update", { bead_id: bead.id, status: "closed", assignee: "alpha/witness" });
    expect(updated).toMatchObject({ status: "closed", assignee: "alpha/witness", closedAt: expect.any(Number) });
    expect(await town.rigCall(a, "gt_bead_status", { bead_id: bead.id })).toMatchObject({ status: "closed" });
    const agents = await town.rigCall<{ identity: string }[]>(a, "gt_list_agents");
    expect(agents.map((x) => x.identity).sort()).toEqual(["alpha/refinery", "alpha/witness"]);
    expect((await town.townCall<Rig[]>("gt_list_rigs")).map((r) => r.name)).toEqual(["alpha"]);
    expect(await town.townCall("gt_rig_status", { name: "alpha" })).toMatchObject({ id: a.id });
    await expect(town.addRig("alpha")).rejects.toMatchObject({ code: "CONFLICT", status: 409 });
  });
});

describe("storage stays bounded", () => {
  it("does not grow while a dashboard stays connected and one bead changes many times", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    const dashboard = town.replica("rig", town.rigRoom(a));
    await dashboard.whenSynced();
    const bead = await town.rigCall<{ id: string }>(a, "gt_bead_create", { title: "churn" });
    // Outbox entries are left out: they leave storage once delivered (here: failures told to the town).
    const keys = async () => {
      const { keys: all, outbox } = await town.rigCall<{ keys: number; outbox: number }>(a, "gt_test_storage");
      return all - outbox;
    };
    const before = await keys();
    const statuses = ["closed", "failed", "open"] as const;
    for (let i = 0; i < 60; i++) await town.rigCall(a, "gt_bead_update", { bead_id: bead.id, status: statuses[i % 3], title: `churn ${i}` });
    // Each status change adds one feed event (bounded at 500), and the first closing the hourly
    // counters (one key, `closed-hours`); the bead's stored history holds its last LIMITS.historyStored
    // status changes (one key each; its first, `created`, was there before); each operator's update
    // is one audit entry (one key each, the last LIMITS.auditKept kept); nothing else adds a key.
    const audited = (n: number) => Math.min(n, LIMITS.auditKept);
    const grown = before + 60 + 1 + (Math.min(61, LIMITS.historyStored) - 1);
    expect(await keys()).toBe(grown + audited(60));
    for (let i = 0; i < 60; i++) await town.rigCall(a, "gt_bead_update", { bead_id: bead.id, title: `rename ${i}` });
    expect(await keys()).toBe(grown + audited(120));
    // 120 changes pass GT_REBUILD_AFTER: the dashboard follows the rebuilt document too.
    await untilReplica(dashboard, (doc) => doc.getMap<{ title: string }>("beads").get(bead.id)?.title === "rename 59", 10_000);
  });
});

describe("document compaction", () => {
  it("rebuilds a long-lived document compactly; connected replicas resync and stay correct", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    const bead = await town.rigCall<{ id: string }>(a, "gt_bead_create", { title: "churn" });
    const dashboard = town.replica("rig", town.rigRoom(a));
    await dashboard.whenSynced();
    const firstDoc = dashboard.doc;
    const fullSync = async () => Y.encodeStateAsUpdate(await town.replica("rig", town.rigRoom(a)).whenSynced()).byteLength;
    const before = await fullSync();
    // The test server rebuilds every 100 document updates (GT_REBUILD_AFTER).
    for (let i = 0; i < 150; i++) await town.rigCall(a, "gt_bead_update", { bead_id: bead.id, title: `churn ${i}` });
    await until(
      (cb) => dashboard.onChange(cb),
      () => (dashboard.doc !== firstDoc && dashboard.status === "live" ? true : undefined),
    );
    await until(
      (cb) => (dashboard.doc.on("update", cb), () => dashboard.doc.off("update", cb)),
      () => (dashboard.doc.getMap<{ title: string }>("beads").get(bead.id)?.title === "churn 149" ? true : undefined),
    );
    // 150 overwrites of one bead, yet a new dashboard's first sync is about the size it was.
    expect(await fullSync()).toBeLessThan(before * 1.5 + 2048);
  });
});

describe("bead retention (DESIGN §4)", () => {
  it("moves the longest-closed beads out of the document past the retention count, still readable and counted", async () => {
    town = await makeTown(host, secret);
    const a = await town.addRig("alpha");
    const dashboard = town.replica("rig", town.rigRoom(a));
    await dashboard.whenSynced();
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const bead = await town.rigCall<{ id: string }>(a, "gt_bead_create", { title: `done ${i}` });
      await town.rigCall(a, "gt_bead_update", { bead_id: bead.id, status: "closed" });
      ids.push(bead.id);
    }
    // The test server keeps 5 closed beads (GT_RETAIN_CLOSED).
    await until(
      (cb) => (dashboard.doc.on("update", cb), () => dashboard.doc.off("update", cb)),
      () => (dashboard.doc.getMap("beads").size === 5 ? true : undefined),
    );
    expect([...dashboard.doc.getMap("beads").keys()].sort()).toEqual(ids.slice(3).sort());
    expect(await town.rigCall(a, "gt_bead_status", { bead_id: ids[0] })).toMatchObject({ id: ids[0], status: "closed", title: "done 0" });
    const rigs = town.replica("main", town.town);
    await rigs.whenSynced();
    await until(
      (cb) => (rigs.doc.on("update", cb), () => rigs.doc.off("update", cb)),
      () => (rigs.doc.getMap<Rig>("rigs").get(a.id)?.summary.beads.closed === 8 ? true : undefined),
    );
  });
});
