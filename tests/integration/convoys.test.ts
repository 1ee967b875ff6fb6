/** Convoys across rigs and the Mayor's distribution (DESIGN §7–§8), on real `partykit dev`. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { signInternal } from "../../party/auth.ts";
import type { Bead, Convoy, ConvoyProgress, FeedEvent, Rig, SlingResult } from "../../party/protocol.ts";
import { spawnContainer, type ContainerProcess } from "../helpers/container.ts";
import { filesOnMain, makeBareRepo } from "../helpers/git.ts";
import { fails, makeTown, type TestTown, untilReplica } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;
let dir: string;
const containers: ContainerProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "townhall-convoy-"));
});
afterEach(async () => {
  await Promise.all(containers.splice(0).map((c) => c.stop()));
  town?.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

/** The town doc's convoys and rigs, live. */
async function watchTown() {
  const replica = town.replica("main", town.town);
  await replica.whenSynced();
  const convoy = (id: string) => replica.doc.getMap<Convoy>("convoys").get(id);
  const rig = (name: string) => [...replica.doc.getMap<Rig>("rigs").values()].find((r) => r.name === name);
  const when = <T>(predicate: () => T | undefined | false, timeoutMs = 60_000) =>
    untilReplica(replica, predicate, timeoutMs, predicate.toString().slice(0, 120));
  const events = () => replica.doc.getArray<FeedEvent>("events").toArray();
  return { replica, convoy, rig, when, events };
}

/** Marks a rig's clone ready as the container would, without running one (beads then wait, open). */
async function markReady(rig: Rig, view: Awaited<ReturnType<typeof watchTown>>) {
  await town.markReady(rig);
  await view.when(() => view.rig(rig.name)?.status === "ready");
}

describe("convoys", () => {
  it("distributes 9 beads over 3 rigs by capability and load, and lands 9/9 with the container", async () => {
    town = await makeTown(host, secret, "cv");
    const view = await watchTown();
    const remotes: Record<string, string> = {};
    for (const [name, capabilities, max] of [
      ["web", ["ts", "web"], 2],
      ["api", ["api", "go"], 2],
      ["docs", ["docs"], 1],
    ] as const) {
      remotes[name] = makeBareRepo(dir, name);
      await town.addRig(name, { git_url: remotes[name], capabilities: [...capabilities], max_polecats: max });
    }
    containers.push(spawnContainer({ host, town: town.town, token: town.container, workspace: join(dir, "ws") }));
    await view.when(() => ["web", "api", "docs"].every((n) => view.rig(n)?.status === "ready"));

    const spec = (title: string, requires: string[]) => ({ title, body: `write ${title}.txt: ${title}`, requires });
    const created = await town.townCall<ConvoyProgress>("gt_convoy_create", {
      title: "release 1.0",
      beads: [
        spec("w1", ["web"]),
        spec("w2", ["ts"]),
        spec("w3", ["web"]),
        spec("g1", ["go"]),
        spec("g2", ["api"]),
        spec("g3", ["go"]),
        spec("d1", ["docs"]),
        spec("d2", ["docs"]),
        spec("any", []),
      ],
    });
    const placed = Object.fromEntries(created.beads.map((b) => [b.title, b.rigName]));
    expect(placed).toEqual({ w1: "web", w2: "web", w3: "web", g1: "api", g2: "api", g3: "api", d1: "docs", d2: "docs", any: "api" });
    // web and api tie on load (3/2) and on beads (3); api comes first by name. docs is at 2/1.
    expect(created.beads.find((b) => b.title === "any")!.reason).toBe(
      "api: tied on load and beads with web, first by name; loads api 1.50 (3/2), web 1.50 (3/2), docs 2.00 (2/1)",
    );
    expect(created.progress).toEqual({
      done: 0,
      failed: 0,
      total: 9,
      byRig: { web: { done: 0, failed: 0, total: 3 }, api: { done: 0, failed: 0, total: 4 }, docs: { done: 0, failed: 0, total: 2 } },
    });

    const landed = await view.when(() => (view.convoy(created.id)?.status === "landed" ? view.convoy(created.id) : undefined), 90_000);
    expect(landed.beads.every((b) => b.status === "closed")).toBe(true);
    expect(filesOnMain(remotes.web!)).toEqual(["README.md", "w1.txt", "w2.txt", "w3.txt"]);
    expect(filesOnMain(remotes.api!)).toEqual(["README.md", "any.txt", "g1.txt", "g2.txt", "g3.txt"]);
    expect(filesOnMain(remotes.docs!)).toEqual(["README.md", "d1.txt", "d2.txt"]);
    const status = await town.townCall<ConvoyProgress>("gt_convoy_status", { id: created.id });
    expect(status).toMatchObject({ status: "landed", progress: { done: 9, total: 9 } });
    // The reason is stored with the bead in its rig, and in the town's feed.
    const apiRig = view.rig("api")!;
    const anyBead = await town.rigCall<Bead>(apiRig, "gt_bead_status", { bead_id: created.beads.find((b) => b.title === "any")!.beadId });
    expect(anyBead.reason).toMatch(/^api: tied on load/);
    expect(
      view.replica.doc
        .getArray<{ kind: string; text: string }>("events")
        .toArray()
        .some((e) => e.kind === "landed" && e.text.includes("release 1.0")),
    ).toBe(true);
  });

  it("lands even when every rig→town notification is dropped: the reconciliation repairs it", async () => {
    town = await makeTown(host, secret, "cv");
    const view = await watchTown();
    const a = await town.addRig("alpha");
    await markReady(a, view);
    await town.rigCall(a, "gt_test_fault", { drop_notices: 1000 });
    const convoy = await town.townCall<ConvoyProgress>("gt_convoy_create", { title: "quiet", beads: [{ title: "one" }, { title: "two" }] });
    for (const b of convoy.beads) await town.rigCall(a, "gt_bead_update", { bead_id: b.beadId, status: "closed" });
    const landed = await view.when(() => (view.convoy(convoy.id)?.status === "landed" ? view.convoy(convoy.id) : undefined));
    expect(landed.beads.map((b) => b.status)).toEqual(["closed", "closed"]);
  });

  it("never double counts duplicated or reordered notifications", async () => {
    town = await makeTown(host, secret, "cv");
    const view = await watchTown();
    const a = await town.addRig("alpha");
    await markReady(a, view);
    const convoy = await town.townCall<ConvoyProgress>("gt_convoy_create", { title: "noisy", beads: [{ title: "one" }, { title: "two" }] });
    const [one] = convoy.beads;
    const notify = async (status: string, rev: number) => {
      const body = JSON.stringify({ convoy_id: convoy.id, bead_id: one!.beadId, rig_id: a.id, status, rev });
      const response = await fetch(`http://${host}/parties/main/${town.town}/internal/convoy_bead`, {
        method: "POST",
        headers: { "x-townhall-internal": await signInternal(secret, town.town, "convoy_bead", body) },
        body,
      });
      return ((await response.json()) as { value: string }).value;
    };
    const seen: number[] = [];
    view.replica.doc.getMap<Convoy>("convoys").observe(() => {
      const c = view.convoy(convoy.id)!;
      seen.push(c.beads.filter((b) => b.status === "closed" || b.status === "failed").length);
    });
    expect(await notify("closed", 50)).toBe("applied");
    expect(await notify("closed", 50)).toBe("stale");
    expect(await notify("in_progress", 49)).toBe("stale");
    expect(await notify("open", 3)).toBe("stale");
    const now = (await town.townCall<ConvoyProgress>("gt_convoy_status", { id: convoy.id })).progress;
    expect(now).toMatchObject({ done: 1, total: 2 });
    expect(Math.max(...seen)).toBeLessThanOrEqual(2);
    expect(seen.every((n, i) => i === 0 || n >= seen[i - 1]!)).toBe(true);
  });

  it("fails a removed rig's beads, visibly, and the convoy still resolves: stuck, not landed", async () => {
    town = await makeTown(host, secret, "cv");
    const view = await watchTown();
    const a = await town.addRig("alpha");
    await town.addRig("beta");
    const convoy = await town.townCall<ConvoyProgress>("gt_convoy_create", {
      title: "split",
      beads: [
        { title: "a1", rig: "alpha" },
        { title: "b1", rig: "beta" },
        { title: "b2", rig: "beta" },
      ],
    });
    expect(convoy.beads.map((x) => x.reason)).toEqual(["alpha: chosen by the caller", "beta: chosen by the caller", "beta: chosen by the caller"]);
    const a1 = convoy.beads[0]!.beadId;
    await view.when(() => view.convoy(convoy.id)!.beads.every((x) => x.rev > 0) || undefined); // created in their rigs
    await town.rigCall(a, "gt_bead_update", { bead_id: a1, status: "closed" });
    await view.when(() => view.convoy(convoy.id)!.beads[0]!.status === "closed");
    await town.townCall("gt_rig_remove", { name: "beta" });
    const resolved = view.convoy(convoy.id)!;
    expect(resolved.status).toBe("stuck");
    expect(resolved.beads.map((x) => [x.title, x.status, x.note])).toEqual([
      ["a1", "closed", undefined],
      ["b1", "failed", "rig beta was removed"],
      ["b2", "failed", "rig beta was removed"],
    ]);
  });
  it("a failed bead makes its convoy stuck (never landed); its retry opens it again; it lands only when every bead is closed, with one landed line", async () => {
    town = await makeTown(host, secret, "cv");
    const view = await watchTown();
    const a = await town.addRig("alpha");
    const convoy = await town.townCall<ConvoyProgress>("gt_convoy_create", {
      title: "Ship password reset",
      beads: [
        { title: "form", rig: "alpha" },
        { title: "mail", rig: "alpha" },
        { title: "expiry", rig: "alpha" },
      ],
    });
    const [b1, b2, b3] = convoy.beads.map((x) => x.beadId) as [string, string, string];
    await view.when(() => view.convoy(convoy.id)!.beads.every((x) => x.rev > 0) || undefined);
    for (const id of [b1, b2]) await town.rigCall(a, "gt_bead_update", { bead_id: id, status: "closed" });
    await town.rigCall(a, "gt_bead_update", { bead_id: b3, status: "failed" });
    const stuck = await view.when(() => (view.convoy(convoy.id)?.status === "stuck" ? view.convoy(convoy.id) : undefined));
    expect(stuck.landedAt).toBeGreaterThan(0);
    expect(await town.townCall<ConvoyProgress>("gt_convoy_status", { id: convoy.id })).toMatchObject({
      status: "stuck",
      progress: { done: 2, failed: 1, total: 3, byRig: { alpha: { done: 2, failed: 1, total: 3 } } },
    });
    // Retried in its rig: the convoy is open again, 2/3 done, and says so in the feed.
    await town.rigCall(a, "gt_bead_retry", { bead_id: b3 });
    const reopened = await view.when(() => (view.convoy(convoy.id)?.status === "open" ? view.convoy(convoy.id) : undefined));
    expect(reopened.landedAt).toBeUndefined();
    expect(await town.townCall<ConvoyProgress>("gt_convoy_status", { id: convoy.id })).toMatchObject({ status: "open", progress: { done: 2, failed: 0 } });
    const lines = () =>
      view
        .events()
        .filter((e) => e.text.includes("Ship password reset") && !e.text.includes(" created: "))
        .map((e) => `${e.kind}: ${e.text}`);
    expect(lines()).toEqual([
      'convoy: convoy "Ship password reset" stuck: 2 done, 1 failed of 3 (failed: ' + b3.slice(-8) + ")",
      'convoy: convoy "Ship password reset" open again: 2/3 done',
    ]);
    await town.rigCall(a, "gt_bead_update", { bead_id: b3, status: "closed" });
    await view.when(() => view.convoy(convoy.id)?.status === "landed");
    await view.when(() => lines().length === 3 || undefined);
    expect(lines()[2]).toBe('landed: convoy "Ship password reset" landed: 3/3 done');
  });
});

describe("slinging", () => {
  it("refuses with NO_ELIGIBLE_RIG naming each rig and why, and uses updated capabilities next time", async () => {
    town = await makeTown(host, secret, "cv");
    const view = await watchTown();
    const a = await town.addRig("alpha", { capabilities: ["ts"] });
    await markReady(a, view);
    await town.addRig("beta", { capabilities: ["gpu"] }); // still cloning
    const refused = await fails(town.townCall("gt_sling", { title: "train", requires: ["gpu"] }));
    expect([refused.code, refused.status]).toEqual(["NO_ELIGIBLE_RIG", 409]);
    expect(refused.message).toContain("alpha: lacks gpu; beta: status cloning");
    const updated = await town.townCall<Rig>("gt_rig_update", { name: "alpha", capabilities: ["ts", "gpu"], max_polecats: 4 });
    expect(updated).toMatchObject({ capabilities: ["gpu", "ts"], maxPolecats: 4 });
    const slung = await town.townCall<SlingResult>("gt_sling", { title: "train", requires: ["gpu"] });
    expect(slung).toMatchObject({
      rig: "alpha",
      reason: expect.stringMatching(/^alpha: the only eligible rig requiring gpu; loads alpha 0.00 \(0\/4\); not eligible: beta \(status cloning\)$/),
    });
    expect(await town.rigCall(a, "gt_bead_status", { bead_id: slung.bead_id })).toMatchObject({ title: "train", reason: slung.reason });
    // The rig room learnt the new maximum too.
    const meta = town.replica("rig", town.rigRoom(a));
    await meta.whenSynced();
    expect(meta.doc.getMap<{ maxPolecats: number }>("meta").get("rig")?.maxPolecats).toBe(4);
  });

  it("lets the Mayor sling and create convoys with its agent token, but not manage rigs", async () => {
    town = await makeTown(host, secret, "cv");
    const view = await watchTown();
    const a = await town.addRig("alpha");
    await markReady(a, view);
    const { token: mayor } = await town.townCall<{ token: string }>("gt_mayor_token", {}, town.container);
    const slung = await town.townCall<SlingResult>("gt_sling", { title: "from the mayor" }, mayor);
    expect(slung.rig).toBe("alpha");
    expect((await town.townCall<Rig[]>("gt_list_rigs", {}, mayor)).map((r) => r.name)).toEqual(["alpha"]);
    expect((await fails(town.townCall("gt_rig_add", { name: "x", git_url: "/tmp/x" }, mayor))).code).toBe("FORBIDDEN");
    expect((await fails(town.townCall("gt_mayor_token", {}, town.operator))).code).toBe("FORBIDDEN");
  });
});
