/**
 * Triage in Chromium against real `partykit dev`: the attention lane lists what needs a person with
 * its action inline, and every operator action (retry, move, close, fail; acknowledge, resolve;
 * stop, restart, mail) changes the room through the same tools as `gt`, destructive ones after a
 * confirmation, one of them by keyboard alone. Viewers see the same problems and no controls.
 */
import { describe, expect, it } from "vitest";
import type { Bead, Escalation, Mail, ShareResult } from "../../party/protocol.ts";
import { untilReplica } from "../helpers/town.ts";
import { harness, live } from "./harness.ts";
import { standIn } from "./stand-in.ts";
import type { E2ETown } from "./fixtures.ts";

const h = harness();

async function beadStatus(t: E2ETown, rig: Parameters<E2ETown["rigCall"]>[0], id: string): Promise<Bead> {
  return t.rigCall<Bead>(rig, "gt_bead_status", { bead_id: id });
}

/** Resolves once the rig document's escalation `id` satisfies `predicate`. */
function escalationWhere(t: E2ETown, rig: Parameters<E2ETown["rigCall"]>[0], predicate: (e: Escalation) => boolean) {
  const replica = t.replica("rig", t.rigRoom(rig), t.operator);
  return untilReplica(replica, (doc) => [...doc.getMap<Escalation>("escalations").values()].find(predicate), 20_000, "escalation condition");
}

describe("the attention lane", () => {
  it("lists a failed bead and its escalation with their actions; acknowledging and retrying from the lane change the room", async () => {
    const t = await h.town("lane");
    const alpha = await t.readyRig("alpha");
    await t.readyRig("beta");
    const overview = await h.page(t.url());
    await live(overview);
    await overview.locator("[data-testid=attention-clear]").waitFor();

    const container = await standIn(t, alpha);
    h.later(() => container.close());
    const { bead } = await container.failingBead("Add the left-pad dependency");

    const failedRow = overview.locator(`[data-testid=attention-item][data-kind=failed_bead][data-id="${bead.id}"]`);
    await failedRow.waitFor();
    expect(await failedRow.getAttribute("data-rig")).toBe("alpha");
    expect(await failedRow.locator("[data-testid=attention-link]").getAttribute("href")).toBe(`/t/${t.town}/rigs/alpha/beads/${bead.id}`);
    expect(await failedRow.locator("[data-testid=attention-detail]").textContent()).toContain("alpha");
    const escalationRow = overview.locator("[data-testid=attention-item][data-kind=escalation]", { hasText: "Bead failed: Add the left-pad dependency" });
    await escalationRow.waitFor();
    // Worst first: a high escalation ranks above a failed bead.
    const kinds = await overview.locator("[data-testid=attention-item]").evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")));
    expect(kinds.indexOf("escalation")).toBeLessThan(kinds.indexOf("failed_bead"));

    // Acknowledge with a note, from the lane.
    const escalationId = (await escalationRow.getAttribute("data-id"))!;
    await escalationRow.locator("[data-testid=escalation-ack]").click();
    const ack = overview.locator("[data-testid=ack-dialog][open]");
    await ack.locator("input[name=note]").fill("Looking at the lockfile");
    await ack.locator("[data-testid=action-submit]").click();
    const acknowledged = await escalationWhere(t, alpha, (e) => e.id === escalationId && e.status === "acknowledged");
    expect(acknowledged.note).toBe("Looking at the lockfile");
    await overview.locator("[data-testid=ack-dialog][open]").waitFor({ state: "detached" });

    // An acknowledged escalation is not done: the rig board still lists it, says so, and resolves it.
    const board = await h.page(t.url("/rigs/alpha"));
    await live(board, 2);
    const boardRow = board.locator(`#escalation-${escalationId}[data-status=acknowledged]`);
    expect(await boardRow.locator("[data-testid=escalation-acknowledged]").textContent()).toContain("Looking at the lockfile");
    expect(await boardRow.locator("[data-testid=escalation-ack]").count()).toBe(0);
    await boardRow.locator("[data-testid=escalation-resolve]").click();
    await board.locator("[data-testid=resolve-dialog][open] [data-testid=action-submit]").click();
    await escalationWhere(t, alpha, (e) => e.id === escalationId && e.status === "resolved");
    await boardRow.waitFor({ state: "detached" });

    // Retry, from the lane: the bead is open again with its attempts reset, and leaves the lane.
    await failedRow.locator("[data-testid=attention-retry]").click();
    await failedRow.waitFor({ state: "detached" });
    const retried = await beadStatus(t, alpha, bead.id);
    expect(["open", "in_progress"]).toContain(retried.status);
    expect(retried.attempts ?? 0).toBe(0);
    expect(retried.history?.some((e) => /retried by the operator/.test(e.note ?? ""))).toBe(true);
  });
});

describe("a failed bead", () => {
  it("says why it failed and how often, never 'nobody yet'; retry by keyboard alone reopens it", async () => {
    const t = await h.town("why");
    const alpha = await t.readyRig("alpha");
    const container = await standIn(t, alpha);
    h.later(() => container.close());
    const { bead } = await container.failingBead("Bundle the CLI");

    const p = await h.page(t.url(`/rigs/alpha/beads/${bead.id}`));
    await live(p, 2);
    await p.locator("[data-testid=bead-status][data-status=failed]").waitFor();
    const failure = await p.locator("[data-testid=bead-failure]").textContent();
    expect(failure).toContain(bead.failure!);
    expect(await p.locator("[data-testid=bead-attempts]").textContent()).toMatch(/3 failed attempts over 3 runs/);
    expect(await p.locator("[data-testid=bead-detail]").textContent()).not.toContain("nobody yet");

    // Keyboard only: Tab to the page, r retries (the button says so), no mouse.
    await p.locator("[data-testid=bead-retry]").waitFor();
    expect(await p.locator("[data-testid=bead-retry]").getAttribute("aria-keyshortcuts")).toBe("r");
    await p.keyboard.press("r");
    await p.locator("[data-testid=bead-action-result][role=status]").waitFor();
    await p.locator("[data-testid=bead-status]:not([data-status=failed])").waitFor();
    const reopened = await beadStatus(t, alpha, bead.id);
    expect(reopened.status).not.toBe("failed");
    expect(reopened.attempts ?? 0).toBe(0);
  });

  it("moves to another rig: a new bead there with where it came from, this one closed as moved", async () => {
    const t = await h.town("move");
    const alpha = await t.readyRig("alpha");
    const beta = await t.readyRig("beta");
    const container = await standIn(t, alpha);
    h.later(() => container.close());
    const { bead } = await container.failingBead("Port the parser");

    const p = await h.page(t.url(`/rigs/alpha/beads/${bead.id}`));
    await live(p, 2);
    await p.locator("[data-testid=bead-move]").click();
    const dialog = p.locator("[data-testid=move-dialog][open]");
    await dialog.locator("select[name=rig]").selectOption("beta");
    await dialog.locator("[data-testid=action-submit]").click();
    const result = dialog.locator("[data-testid=move-result]");
    await result.waitFor();
    expect(await result.getAttribute("data-rig")).toBe("beta");
    const newId = (await result.getAttribute("data-bead"))!;

    const old = await beadStatus(t, alpha, bead.id);
    expect(old.status).toBe("closed");
    expect(old.movedTo).toEqual({ rig: "beta", beadId: newId });
    const moved = await beadStatus(t, beta, newId);
    expect(moved.title).toBe("Port the parser");
    expect(moved.movedFrom).toEqual({ rig: "alpha", beadId: bead.id });
    expect(moved.attempts ?? 0).toBe(0);
    // The old page says where it went, and links there.
    await p.locator("[data-testid=bead-moved-to]", { hasText: "beta" }).waitFor();
    await p.locator(`[data-testid=bead-moved-to] a[href$="/rigs/beta/beads/${newId}"]`).waitFor();
  });

  it("resolves its escalation with a note from the bead page", async () => {
    const t = await h.town("resolve");
    const alpha = await t.readyRig("alpha");
    const container = await standIn(t, alpha);
    h.later(() => container.close());
    const { bead } = await container.failingBead("Flaky e2e");

    const p = await h.page(t.url(`/rigs/alpha/beads/${bead.id}`));
    await live(p, 2);
    const row = p.locator("[data-testid=bead-escalation][data-status=open]");
    await row.locator("[data-testid=escalation-resolve]").click();
    const dialog = p.locator("[data-testid=resolve-dialog][open]");
    await dialog.locator("input[name=note]").fill("Pinned the browser version");
    await dialog.locator("input[name=note]").press("Enter");
    const resolved = await escalationWhere(t, alpha, (e) => e.beadId === bead.id && e.status === "resolved");
    expect(resolved.note).toBe("Pinned the browser version");
    await p.locator("[data-testid=bead-escalation][data-status=resolved] [data-testid=escalation-note]", { hasText: "Pinned the browser version" }).waitFor();
  });
});

describe("close and fail", () => {
  it("ask first: cancelling changes nothing, confirming closes or fails the bead", async () => {
    const t = await h.town("close");
    const alpha = await t.readyRig("alpha");
    const one = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Drop the old API" });
    const two = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Rewrite in Zig" });

    const p = await h.page(t.url(`/rigs/alpha/beads/${one.id}`));
    await live(p, 2);
    // Keyboard: c opens the confirmation with its button focused; Escape cancels. (The keys are
    // bound with the controls, which load after the page: wait until they show.)
    await p.locator("[data-testid=bead-close][aria-keyshortcuts=c]").waitFor();
    await p.keyboard.press("c");
    const confirm = p.locator("[data-testid=confirm-close][open]");
    await confirm.waitFor();
    expect(await p.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("action-submit");
    await p.keyboard.press("Escape");
    await confirm.waitFor({ state: "detached" });
    // (With no container, the room may have dispatched it: open or in progress, but not closed.)
    expect((await beadStatus(t, alpha, one.id)).status).not.toBe("closed");
    // Enter confirms.
    await p.keyboard.press("c");
    await confirm.waitFor();
    await p.keyboard.press("Enter");
    await p.locator("[data-testid=bead-status][data-status=closed]").waitFor();
    expect((await beadStatus(t, alpha, one.id)).status).toBe("closed");

    await p.goto(t.url(`/rigs/alpha/beads/${two.id}`));
    await live(p, 2);
    await p.locator("[data-testid=bead-fail]").click();
    const fail = p.locator("[data-testid=confirm-fail][open]");
    await fail.waitFor();
    expect((await beadStatus(t, alpha, two.id)).status).not.toBe("failed");
    await fail.locator("[data-testid=action-submit]").click();
    await p.locator("[data-testid=bead-status][data-status=failed]").waitFor();
    expect((await beadStatus(t, alpha, two.id)).status).toBe("failed");
  });
});

describe("an agent's controls", () => {
  it("restart asks first, then stops the run and dispatches its bead again with no attempt counted; stop fails the bead", async () => {
    const t = await h.town("agent");
    const alpha = await t.readyRig("alpha");
    const container = await standIn(t, alpha);
    h.later(() => container.close());
    const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Long migration" });
    const first = await container.nextStart(bead.id);
    await container.started(first);

    const p = await h.page(t.url(`/rigs/alpha/agents/${first.name}`));
    await live(p, 2);
    await p.locator("[data-testid=agent-restart]").click();
    const confirm = p.locator("[data-testid=confirm-restart][open]");
    await confirm.waitFor();
    expect(container.stops).toHaveLength(0); // nothing happens before the confirmation
    await confirm.locator("input[name=reason]").fill("stuck on a prompt");
    await confirm.locator("[data-testid=action-submit]").click();
    await container.nextStop(first.run);
    const second = await container.nextStart(bead.id, [first]);
    expect(second.run).not.toBe(first.run);
    const restarted = await beadStatus(t, alpha, bead.id);
    expect(restarted.attempts ?? 0).toBe(0);
    await container.started(second);

    await p.goto(t.url(`/rigs/alpha/agents/${second.name}`));
    await live(p, 2);
    await p.locator("[data-testid=agent-stop]").click();
    const stop = p.locator("[data-testid=confirm-stop][open]");
    await stop.locator("input[name=reason]").fill("wrong approach");
    await stop.locator("[data-testid=action-submit]").click();
    await container.nextStop(second.run);
    await expect.poll(async () => (await beadStatus(t, alpha, bead.id)).status, { timeout: 15_000 }).toBe("failed");
    expect((await beadStatus(t, alpha, bead.id)).failure).toMatch(/stopped by the operator/);
  });

  it("mail opens prefilled with the agent and delivers to its inbox", async () => {
    const t = await h.town("mail");
    const alpha = await t.readyRig("alpha");
    const toast = await t.polecat(alpha, "toast");
    const p = await h.page(t.url("/rigs/alpha/agents/toast"));
    await live(p, 2);
    await p.locator("[data-testid=agent-mail]").click();
    const dialog = p.locator("[data-testid=mail-dialog][open]");
    expect(await dialog.locator("input[name=to]").inputValue()).toBe(toast.identity);
    // The subject has the focus: type, Tab to the message, submit with Enter from the subject.
    await p.keyboard.type("Use the staging database");
    await dialog.locator("input[name=subject]").press("Enter");
    await dialog.locator("[data-testid=mail-result]").waitFor();
    const replica = t.replica("rig", t.rigRoom(alpha), t.operator);
    await untilReplica(
      replica,
      (doc) => [...doc.getMap<Mail>("mail").values()].find((m) => m.to === toast.identity && m.subject === "Use the staging database"),
      20_000,
      "the mail in the rig",
    );
  });
});

describe("viewers", () => {
  it("see the lane, the failure and the runs, and no control anywhere", async () => {
    const t = await h.town("viewer");
    const alpha = await t.readyRig("alpha");
    const container = await standIn(t, alpha);
    h.later(() => container.close());
    const { bead } = await container.failingBead("Ship the installer");
    const running = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Keep going" });
    const start = await container.nextStart(running.id);
    await container.started(start);

    const overview = await h.page(t.url("", t.viewer));
    await overview.locator(`[data-testid=attention-item][data-id="${bead.id}"]`).waitFor();
    expect(
      await overview
        .locator("[data-testid=attention-retry], [data-testid=escalation-ack], [data-testid=escalation-resolve], [data-testid=agent-actions]")
        .count(),
    ).toBe(0);

    // A link made for the bead's page shows its runs' output, with no control.
    const share = await t.townCall<ShareResult>("gt_share", { path: `/t/${t.town}/rigs/alpha/beads/${bead.id}`, ttl_s: 3600 });
    const beadPage = await h.page(`http://${h.host}${share.path}`);
    await beadPage.locator("[data-testid=bead-failure]").waitFor();
    await beadPage.locator("[data-testid=bead-run-log] [data-testid=log-line]").first().waitFor();
    expect(await beadPage.locator("[data-testid=bead-actions], [data-testid=escalation-actions], button:has-text('Retry')").count()).toBe(0);

    const agentPage = await h.page(t.url(`/rigs/alpha/agents/${start.name}`, t.viewer));
    await live(agentPage, 2);
    await agentPage.locator("[data-testid=agent-detail]").waitFor();
    expect(
      await agentPage.locator("[data-testid=agent-actions], [data-testid=agent-stop], [data-testid=agent-restart], [data-testid=agent-mail]").count(),
    ).toBe(0);
    // A town-wide viewer is not shown agents' output (only a link made for that agent is): it says so.
    await agentPage.locator("[data-testid=output-refused]", { hasText: "shown to operators" }).waitFor();
  });
});
