/**
 * The audit trail on real `partykit dev`, with its own server so it can restart it: operators'
 * actions in the rig room (create, fail, retry with a note, move, escalation notes, mail) and the
 * town (rigs, slings, convoys, budgets, links) each leave an entry saying who (the token's subject
 * and id) and the note; pages newest first, filtered by bead; everything still there after the
 * server restarts, numbered on; viewers, share links, agents and rig-scoped operators (for the town)
 * refused.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { AuditEntry, AuditPage, Bead, Escalation, Rig, ShareResult } from "../../party/protocol.ts";
import { gt } from "../helpers/gt.ts";
import { startPartykit, type DevServer } from "../helpers/partykit.ts";
import { fails, makeTown } from "../helpers/town.ts";

const SECRET = "audit-test-secret-0123456789";
const persistDir = mkdtempSync(join(tmpdir(), "townhall-audit-"));
let server: DevServer | undefined;

afterAll(async () => {
  await server?.stop();
  rmSync(persistDir, { recursive: true, force: true });
});

/** Every entry of a room's trail, newest first, read page by page. */
async function everything(read: (args: Record<string, unknown>) => Promise<AuditPage>, limit = 2): Promise<AuditEntry[]> {
  const all: AuditEntry[] = [];
  let before: number | null | undefined;
  do {
    const page = await read({ limit, ...(before ? { before } : {}) });
    expect(page.entries.length).toBeLessThanOrEqual(limit);
    all.push(...page.entries);
    before = page.older;
  } while (before !== null);
  return all;
}

describe("audit trail", () => {
  it("records who did what with the note, in both rooms, paged, across a restart; viewers refused", async () => {
    server = await startPartykit({ persistDir, vars: { GT_SECRET: SECRET } });
    const port = server.port;
    const town = await makeTown(server.host, SECRET, "audit");
    const ada = await town.token({ role: "operator", sub: "ada", jti: "ada-laptop-1" });
    const alpha = await town.townCall<Rig>("gt_rig_add", { name: "alpha", git_url: "/tmp/alpha.git" }, ada);
    const beta = await town.townCall<Rig>("gt_rig_add", { name: "beta", git_url: "/tmp/beta.git" }, ada);
    await town.markReady(alpha);
    await town.markReady(beta);

    const bead = await town.rigCall<Bead>(alpha, "gt_bead_create", { title: "Fix the parser" }, ada);
    await town.rigCall(alpha, "gt_bead_update", { bead_id: bead.id, status: "failed" }, ada);
    await town.rigCall(alpha, "gt_bead_retry", { bead_id: bead.id, note: "flaky runner, try again" }, ada);
    const escalation = await town.rigCall<Escalation>(
      alpha,
      "gt_escalate",
      { title: "Disk full", severity: "high", bead_id: bead.id, as: "alpha/witness" },
      ada,
    );
    await town.rigCall(alpha, "gt_escalation_ack", { id: escalation.id, note: "looking" }, ada);
    await town.rigCall(alpha, "gt_escalation_resolve", { id: escalation.id, note: "cleared /tmp" }, ada);
    await town.rigCall(alpha, "gt_mail_send", { to: "alpha/witness", subject: "Heads up", body: "restarting later" }, ada);
    const other = await town.rigCall<Bead>(alpha, "gt_bead_create", { title: "Move me" }, ada);
    await town.townCall("gt_bead_move", { bead_id: other.id, rig: "beta", from: "alpha" }, ada);
    // Refused calls record nothing.
    expect((await fails(town.rigCall(alpha, "gt_bead_retry", { bead_id: bead.id, note: "not failed" }, ada))).code).toBe("CONFLICT");

    await town.townCall("gt_sling", { title: "Write docs", rig: "alpha" }, ada);
    await town.townCall("gt_convoy_create", { title: "Release", beads: [{ title: "Tag it", rig: "beta" }] }, ada);
    await town.townCall("gt_budget_set", { rig: "alpha", budget: { unit: "usd", daily: 5 } }, ada);
    await town.townCall("gt_budget_set", { rig: "alpha", budget: null }, ada);
    const link = await town.townCall<ShareResult>("gt_share", { path: `/t/${town.town}/rigs/alpha`, ttl_s: 3600 }, ada);
    await town.townCall("gt_share_revoke", { id: link.id }, ada);
    await town.townCall("gt_rig_update", { name: "beta", max_polecats: 2 }, ada);

    const rigTrail = await everything((args) => town.rigCall<AuditPage>(alpha, "gt_audit", args));
    expect(rigTrail.map((e) => e.action)).toEqual([
      "bead_move",
      "bead_create",
      "mail_send",
      "escalation_resolve",
      "escalation_ack",
      "bead_retry",
      "bead_fail",
      "bead_create",
    ]);
    for (const entry of rigTrail) expect(entry.who).toEqual({ role: "operator", sub: "ada", jti: "ada-laptop-1" });
    expect(rigTrail.find((e) => e.action === "bead_retry")).toMatchObject({ bead: bead.id, note: "flaky runner, try again", rig: "alpha" });
    expect(rigTrail.find((e) => e.action === "escalation_resolve")).toMatchObject({ bead: bead.id, agent: "alpha/witness", note: "cleared /tmp" });
    expect(rigTrail.find((e) => e.action === "bead_move")).toMatchObject({ bead: other.id, text: 'moved bead "Move me" to rig beta' });
    expect(rigTrail.find((e) => e.action === "mail_send")).toMatchObject({ agent: "alpha/witness" });
    // Nothing of the token itself is kept.
    expect(JSON.stringify(rigTrail)).not.toContain(ada);

    const byBead = await town.rigCall<AuditPage>(alpha, "gt_audit", { bead_id: bead.id });
    expect(byBead.entries.map((e) => e.action)).toEqual(["escalation_resolve", "escalation_ack", "bead_retry", "bead_fail", "bead_create"]);
    const byAgent = await town.rigCall<AuditPage>(alpha, "gt_audit", { agent: "alpha/witness" });
    expect(byAgent.entries.map((e) => e.action)).toEqual(["mail_send", "escalation_resolve", "escalation_ack"]);

    const townTrail = await everything((args) => town.townCall<AuditPage>("gt_audit", args));
    expect(townTrail.map((e) => e.action)).toEqual([
      "rig_update",
      "link_revoke",
      "link_mint",
      "budget_clear",
      "budget_set",
      "convoy_create",
      "sling",
      "rig_add",
      "rig_add",
    ]);
    expect(townTrail.every((e) => e.who.sub === "ada")).toBe(true);
    expect(townTrail.find((e) => e.action === "link_mint")).toMatchObject({ link: link.id });
    expect(JSON.stringify(townTrail)).not.toContain(link.token);

    // `gt audit`: the rig's when a rig is set (by bead here), the town's with --town; one line each, and the next page.
    const env = { GT_HOST: server.host, GT_TOWN: town.town, GT_RIG: alpha.id, GT_TOKEN: ada };
    const [byBeadCli, townCli] = await Promise.all([gt(["audit", "--bead", bead.id, "--limit", "2"], env), gt(["audit", "--town"], env)]);
    expect(byBeadCli).toMatchObject({ code: 0, stderr: "" });
    expect(byBeadCli.stdout).toMatch(/^#\d+ \S+ \S+ ada \(operator ada-laptop-1\): resolved escalation "Disk full" — note: cleared \/tmp$/m);
    expect(byBeadCli.stdout).toMatch(/^older: gt audit --before \d+$/m);
    expect(townCli.stdout).toContain("ada (operator ada-laptop-1): made a read-only link for /t/");
    expect(townCli.stdout.trim().split("\n")).toHaveLength(townTrail.length);

    // Who may read it: operators only; the town's for town-wide ones.
    const scoped = await town.token({ role: "operator", rig: alpha.id });
    const agent = await town.token({ role: "agent", rig: alpha.id, agent: "alpha/witness" });
    for (const token of [town.viewer, link.token, agent, town.container]) {
      expect((await fails(town.rigCall(alpha, "gt_audit", {}, token))).code).toMatch(/FORBIDDEN|UNAUTHORIZED/);
      expect((await fails(town.townCall("gt_audit", {}, token))).code).toMatch(/FORBIDDEN|UNAUTHORIZED/);
    }
    expect((await fails(town.townCall("gt_audit", {}, scoped))).code).toBe("FORBIDDEN");
    expect((await town.rigCall<AuditPage>(alpha, "gt_audit", {}, scoped)).entries).toHaveLength(rigTrail.length > 50 ? 50 : rigTrail.length);
    expect((await fails(town.rigCall(alpha, "gt_audit", { limit: 0 }))).code).toBe("INVALID_ARGS");

    // A restart keeps every entry, and numbers on after them.
    town.closeAll();
    await server.stop();
    server = await startPartykit({ persistDir, port, vars: { GT_SECRET: SECRET } });
    expect(await everything((args) => town.rigCall<AuditPage>(alpha, "gt_audit", args), 3)).toEqual(rigTrail);
    expect(await everything((args) => town.townCall<AuditPage>("gt_audit", args), 50)).toEqual(townTrail);
    await town.rigCall(alpha, "gt_bead_update", { bead_id: bead.id, status: "closed" }, ada);
    const newest = (await town.rigCall<AuditPage>(alpha, "gt_audit", { limit: 1 })).entries[0]!;
    expect(newest).toMatchObject({ action: "bead_close", seq: rigTrail[0]!.seq + 1, who: { sub: "ada" } });
  });
});
