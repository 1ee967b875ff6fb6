/**
 * The bead and agent pages' truths: runs whose output aged out say so, related mail is the bead's,
 * an agent's last run is its last run, escalation notes are shown, an AWS secret key is redacted
 * (and a run's download carries the redacted text). Each seeds its own `pages-…` rig with the
 * stand-in container.
 */
import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import type { Bead, Escalation, Rig, StartAgentCommand } from "../../../party/protocol.ts";
import { LIMITS } from "../../../party/protocol/limits.ts";
import { standIn } from "../stand-in.ts";
import { part } from "./part.ts";

const AWS_ID = "AKIAIOSFODNN7EXAMPLE";
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

export default part({
  name: "pages",
  async seed(t, later) {
    // Runs that aged out: one polecat, so every run is its; bead X's runs, then more runs than it keeps.
    const aged = await t.readyRig("pages-aged", { max_polecats: 1 });
    const agedIn = await standIn(t, aged);
    later(() => agedIn.close());
    const x = await agedIn.failingBead("Aged out: fix the build");
    let after = 0;
    for (let n = 0; after < LIMITS.outputRunsKept; n++) after += (await agedIn.failingBead(`Aged filler ${n}`)).runs.length;

    // Related mail: bead A held by a polecat who also writes about bead B.
    const mail = await t.readyRig("pages-mail");
    const mailIn = await standIn(t, mail);
    later(() => mailIn.close());
    const a = await t.rigCall<Bead>(mail, "gt_bead_create", { title: "Related: bead A" });
    const aStart = await mailIn.nextStart(a.id);
    await mailIn.started(aStart);
    const b = await t.rigCall<Bead>(mail, "gt_bead_create", { title: "Related: bead B" });
    await t.rigCall(mail, "gt_mail_send", { to: `${mail.name}/witness`, subject: `Notes on bead ${b.id}`, body: "B needs a schema change" }, aStart.token);
    await t.rigCall(mail, "gt_mail_send", { to: `${mail.name}/witness`, subject: `Blocked on ${a.id}`, body: "A waits for review" }, aStart.token);

    // Last run: run 1 exits 4, run 2 (the same polecat) hands its bead in and exits 0; then run 1's exit is reported again, late.
    const last = await t.readyRig("pages-last", { max_polecats: 1 });
    const lastIn = await standIn(t, last);
    later(() => lastIn.close());
    const bead = await t.rigCall<Bead>(last, "gt_bead_create", { title: "Last run: ship it" });
    const run1 = await lastIn.nextStart(bead.id);
    await lastIn.started(run1);
    await lastIn.exit(run1, 4);
    const run2 = await lastIn.nextStart(bead.id, [run1]);
    await lastIn.started(run2);
    await t.rigCall(last, "gt_done", { branch: run2.branch, summary: "done" }, run2.token);
    await lastIn.exit(run2, 0);
    await lastIn.exit(run1, 9);

    // Escalation notes: raised by a polecat about a bead, acknowledged then resolved, each with a note.
    const esc = await t.readyRig("pages-esc");
    const fern = await t.polecat(esc, "fern");
    const escBead = await t.rigCall<Bead>(esc, "gt_bead_create", { title: "Escalated: the lockfile" });
    const e = await t.rigCall<Escalation>(esc, "gt_escalate", { title: "Lockfile conflicts", severity: "high", bead_id: escBead.id }, fern.token);
    await t.rigCall(esc, "gt_escalation_ack", { id: e.id, note: "Looking at the lockfile now" });
    await t.rigCall(esc, "gt_escalation_resolve", { id: e.id, note: "Regenerated it on main; rebase" });

    // AWS: a polecat prints an access key id and its secret key.
    const aws = await t.readyRig("pages-aws");
    const awsIn = await standIn(t, aws);
    later(() => awsIn.close());
    const awsBead = await t.rigCall<Bead>(aws, "gt_bead_create", { title: "AWS: deploy" });
    const awsStart: StartAgentCommand = await awsIn.nextStart(awsBead.id);
    await awsIn.started(awsStart);
    await awsIn.print(awsStart, ["configuring the deploy", `${AWS_ID} ${AWS_SECRET}`, `aws_secret_access_key=${AWS_SECRET}`]);
    // It keeps running: the agent page shows this run (an exit would reopen the bead for a next run).

    return { aged, x: x.bead, mail, a, b, last, run1, run2, esc, escBead, fern: fern.identity, aws, awsBead, awsStart } as {
      aged: Rig;
      x: Bead;
      mail: Rig;
      a: Bead;
      b: Bead;
      last: Rig;
      run1: StartAgentCommand;
      run2: StartAgentCommand;
      esc: Rig;
      escBead: Bead;
      fern: string;
      aws: Rig;
      awsBead: Bead;
      awsStart: StartAgentCommand;
    };
  },
  rows(get) {
    it("A bead page: 'No runs yet…' while its details say '0 failed of 4 runs': runs that aged out say so, with how they ended", async () => {
      const { t, s } = get();
      const p = await get().page(t.url(`/rigs/${s.aged.name}/beads/${s.x.id}`));
      const note = p.locator("[data-testid=bead-runs-aged]");
      await note.waitFor();
      expect(await note.textContent()).toContain("is no longer kept");
      expect(await note.textContent()).toContain(`last ${LIMITS.outputRunsKept} runs`);
      await expect.poll(() => p.locator("[data-testid=bead-run-aged]").count()).toBe(s.x.runs ?? 0);
      for (const row of await p.locator("[data-testid=bead-run-aged]").all()) expect(await row.textContent()).toContain("exit 4");
      expect(await p.locator("[data-testid=bead-runs]").textContent()).not.toContain("No runs yet");
    });

    it("'Related mail' on a bead lists mail about other beads: only mail naming this bead", async () => {
      const { t, s } = get();
      const p = await get().page(t.url(`/rigs/${s.mail.name}/beads/${s.a.id}`));
      await p.locator("[data-testid=bead-detail]").getByText(`Blocked on ${s.a.id}`).waitFor();
      expect(await p.locator("[data-testid=bead-detail]").textContent()).not.toContain(`Notes on bead ${s.b.id}`);
      await p.getByText("Related mail (1)").waitFor();
    });

    it("The agent page's 'Last run' says 'exit 4' after run 4 ended 0: it is the last run's exit, not an earlier run's late report", async () => {
      const { t, s } = get();
      const p = await get().page(t.url(`/rigs/${s.last.name}/agents/${s.run2.name}`));
      expect(s.run2.identity).toBe(s.run1.identity);
      const lastRun = p.locator("[data-testid=agent-last-run]");
      await lastRun.waitFor();
      await expect.poll(() => lastRun.textContent()).toBe("exit 0");
      await p.locator("[data-testid=output-exit]", { hasText: "exit 0" }).waitFor();
    });

    it("Notes written when acknowledging or resolving an escalation appear nowhere: on the bead, the agent and the rig board", async () => {
      const { t, s } = get();
      const notes = ["Looking at the lockfile now", "Regenerated it on main; rebase"];
      const bead = await get().page(t.url(`/rigs/${s.esc.name}/beads/${s.escBead.id}`));
      for (const n of notes) await bead.locator("[data-testid=bead-escalation] [data-testid=escalation-note]", { hasText: n }).waitFor();
      const agent = await get().page(t.url(`/rigs/${s.esc.name}/agents/fern`));
      for (const n of notes) await agent.locator("[data-testid=agent-escalation] [data-testid=escalation-note]", { hasText: n }).waitFor();
      const board = await get().page(t.url(`/rigs/${s.esc.name}`));
      await board.locator("[data-testid=resolved-escalations] summary").click();
      for (const n of notes) await board.locator("[data-testid=resolved-escalation] [data-testid=escalation-note]", { hasText: n }).waitFor();
    });

    it("A 40-character AWS secret key printed beside an AKIA… id stays in clear: redacted on the agent and bead pages and in the run's download", async () => {
      const { t, s } = get();
      const agent = await get().page(t.url(`/rigs/${s.aws.name}/agents/${s.awsStart.name}`));
      const log = agent.locator("[data-testid=output-log]");
      await log.locator("[data-testid=log-line]", { hasText: "aws_secret_access_key=" }).waitFor();
      const shown = (await log.textContent()) ?? "";
      expect(shown).not.toContain(AWS_SECRET);
      expect(shown).not.toContain(AWS_ID);
      expect(shown).toContain("[redacted] [redacted]");
      const [download] = await Promise.all([agent.waitForEvent("download"), agent.locator("[data-testid=output-download]").click()]);
      const text = await readFile((await download.path())!, "utf8");
      expect(download.suggestedFilename()).toBe(`run-${s.awsStart.run}.txt`);
      expect(text).toContain("configuring the deploy");
      expect(text).toContain("[redacted] [redacted]");
      expect(text).not.toContain(AWS_SECRET);

      const bead = await get().page(t.url(`/rigs/${s.aws.name}/beads/${s.awsBead.id}`));
      const runLog = bead.locator("[data-testid=bead-run-log]");
      await runLog.locator("[data-testid=log-line]", { hasText: "aws_secret_access_key=" }).waitFor();
      expect(await runLog.textContent()).not.toContain(AWS_SECRET);
    });
  },
});
