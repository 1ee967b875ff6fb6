/**
 * Gas Town's `gt` verbs, as Gas Town's agents write them (docs/gt.md), against real rooms: each
 * form's effect, beside Townhall's own forms (tests/integration/gt-cli.test.ts).
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import type { Bead, BeadMoveResult, ConvoyProgress, Escalation, Mail, PrimeResult, Rig } from "../../party/protocol.ts";
import { gt, gtJson, ULID, type GtEnv, type Run } from "../helpers/gt.ts";
import { makeTown, until, workingAgent, type TestTown } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");

let town: TestTown;
afterEach(() => town?.closeAll());

type Agent = { identity: string; token: string };
const agentEnv = (rig: Rig, agent: Agent, extra: GtEnv = {}): GtEnv => ({
  GT_HOST: host,
  GT_TOWN: town.town,
  GT_RIG: rig.id,
  GT_AGENT: agent.identity,
  GT_TOKEN: agent.token,
  ...extra,
});
const ok = (run: Run) => expect([run.code, run.stderr]).toEqual([0, ""]);
const sentId = (run: Run) => {
  ok(run);
  const id = /^delivered (\S+)\n$/.exec(run.stdout)?.[1];
  expect(id).toMatch(ULID);
  return id!;
};

async function twoRigs() {
  town = await makeTown(host, secret, "gtc");
  const [a, b] = [await town.addRig("alpha"), await town.addRig("beta")];
  return { a, b, toast: await town.polecat(a, "toast"), maple: await town.polecat(b, "maple") };
}

describe("Gas Town's gt mail", () => {
  it("gt mail send <address> -s -m reaches mayor/, <rig>/<name>, <rig>/witness and --human (stdin) in the right mailbox", async () => {
    const { a, b, toast, maple } = await twoRigs();
    const env = agentEnv(a, toast);
    const toMaple = sentId(await gt(["mail", "send", "beta/Maple", "-s", "schema change", "-m", "please rebase"], env));
    const toMayor = sentId(await gt(["mail", "send", "mayor/", "--subject", "Work complete", "--message", "Finished it"], env));
    const toWitness = sentId(await gt(["mail", "send", "beta/witness", "-s", "stuck?", "--body", "maple is quiet"], env));
    const toHuman = sentId(await gt(["mail", "send", "--human", "-s", "need a key", "--stdin"], env, { input: "the 'api' key\nplease" }));

    const maples = await town.rigCall<Mail[]>(b, "gt_mail_check", {}, maple.token);
    expect(maples.map((m) => [m.id, m.to, m.subject, m.body])).toEqual([[toMaple, maple.identity, "schema change", "please rebase"]]);
    const mayors = await town.townCall<Mail[]>("gt_mail_check", { as: "mayor" });
    expect(mayors.map((m) => [m.id, m.to, m.body])).toEqual([[toMayor, "mayor", "Finished it"]]);
    const witness = await town.rigCall<Mail[]>(b, "gt_mail_check", { as: "beta/witness" });
    expect(witness.map((m) => [m.id, m.to])).toEqual([[toWitness, "beta/witness"]]);
    const operators = await town.townCall<Mail[]>("gt_mail_check", {});
    expect(operators.map((m) => [m.id, m.to, m.body])).toEqual([[toHuman, "operator", "the 'api' key\nplease"]]);

    // Today's form keeps working; addresses Townhall has no mailbox for are usage errors that say why.
    sentId(await gt(["mail", "send", "--to", maple.identity, "--subject", "old form", "--body", "-"], env, { input: "hi" }));
    for (const [to, why] of [
      ["beta/", "no broadcast"],
      ["list:oncall", "no mailing lists"],
      ["beta/crew/max", "no crew"],
    ] as const) {
      const run = await gt(["mail", "send", to, "-s", "x", "-m", "y"], env);
      expect([to, run.code, run.stderr]).toEqual([to, 2, expect.stringContaining(why)]);
    }
    const two = await gt(["mail", "send", "mayor/", "--human", "-s", "x"], env);
    expect([two.code, two.stderr]).toEqual([2, expect.stringContaining("give one recipient")]);
  });

  it("gt mail inbox lists without marking read; gt mail read <id> prints one and marks it read; gt mail reply answers its sender", async () => {
    const { a, b, toast, maple } = await twoRigs();
    const first = sentId(await gt(["mail", "send", "beta/maple", "-s", "first", "-m", "one"], agentEnv(a, toast)));
    const second = sentId(await gt(["mail", "send", "beta/maple", "-s", "second", "-m", "two"], agentEnv(a, toast)));
    const env = agentEnv(b, maple);

    const inbox = await gt(["mail", "inbox"], env);
    ok(inbox);
    expect(inbox.stdout).toMatch(new RegExp(`^1\\. ${first} \\S+ from ${toast.identity}: first\\n2\\. ${second} \\S+ from ${toast.identity}: second\\n`));
    const unread = await gtJson<Mail[]>(["mail", "inbox", "-u"], env);
    expect(unread.map((m) => m.id)).toEqual([first, second]); // still unread: the inbox marked nothing

    const read = await gt(["mail", "read", first], env);
    ok(read);
    expect(read.stdout).toContain(`Subject: first\nDate: `);
    expect(read.stdout).toContain(`Id: ${first}\n\none\n`);
    expect((await gtJson<Mail[]>(["mail", "inbox", "--unread"], env)).map((m) => m.id)).toEqual([second]);
    const byNumber = await gt(["mail", "read", "1"], env); // the first unread: now the second mail
    ok(byNumber);
    expect(byNumber.stdout).toContain(`Id: ${second}`);
    expect(await gt(["mail", "inbox"], env)).toMatchObject({ code: 0, stdout: "no unread mail\n" });
    // A mail read already still reads (and gt mail check has nothing new).
    expect((await gtJson<Mail>(["mail", "read", first], env)).body).toBe("one");
    expect(await gt(["mail", "check"], env)).toMatchObject({ code: 0, stdout: "no new mail\n" });

    const reply = sentId(await gt(["mail", "reply", first, "rebased, thanks"], env));
    const answers = await town.rigCall<Mail[]>(a, "gt_mail_check", {}, toast.token);
    expect(answers.map((m) => [m.id, m.from, m.subject, m.body])).toEqual([[reply, maple.identity, "Re: first", "rebased, thanks"]]);
  });
});

describe("Gas Town's gt hook, escalate, sling and convoy", () => {
  it("gt hook shows the hooked bead (gt prime's), and says so when nothing is hooked", async () => {
    const { a, toast } = await twoRigs();
    const none = await gt(["hook"], agentEnv(a, toast));
    ok(none);
    expect(none.stdout).toContain("Nothing is on your hook");
    expect(await gtJson<null>(["hook"], agentEnv(a, toast))).toBeNull();

    const { bead, start } = await workingAgent(town, a, "Add a health check", "GET /health returns 200");
    const env = agentEnv(a, { identity: start.identity, token: start.token });
    const hook = await gt(["hook"], env);
    ok(hook);
    expect(hook.stdout).toContain(`Your hooked bead (your task) ${bead.id}: Add a health check`);
    expect(hook.stdout).toContain("GET /health returns 200");
    const json = await gtJson<Bead>(["hook"], env);
    expect(json).toMatchObject({ id: bead.id, status: "in_progress" });
    expect(json).toEqual((await gtJson<PrimeResult>(["prime"], env)).hook);
  });

  it('gt escalate "<description>" records severity medium; -s, -r and --related are Gas Town\'s flags', async () => {
    const { a, toast } = await twoRigs();
    const bead = await town.rigCall<Bead>(a, "gt_bead_create", { title: "Flaky test" });
    const env = agentEnv(a, toast);
    const run = await gt(["escalate", "Build failing"], env);
    ok(run);
    const id = /^escalated (\S+) \(medium\)\n$/.exec(run.stdout)?.[1];
    expect(id).toMatch(ULID);
    const high = await gtJson<Escalation>(["escalate", "Need API credentials", "-s", "high", "-r", "the deploy step asks for them", "--related", bead.id], env);
    expect(high).toMatchObject({
      title: "Need API credentials",
      severity: "high",
      body: "the deploy step asks for them",
      beadId: bead.id,
      from: toast.identity,
    });
    const doc = await town.replica("rig", town.rigRoom(a)).whenSynced();
    expect(doc.getMap<Escalation>("escalations").get(id!)).toMatchObject({ title: "Build failing", severity: "medium", status: "open" });
    const both = await gt(["escalate", "x", "--title", "y"], env);
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining("give it once")]);
  });

  it("gt sling <bead> <rig> moves an existing bead (the operator's gt bead move); gt sling --title still creates one", async () => {
    town = await makeTown(host, secret, "gtc");
    const [alpha, beta] = [await town.addRig("alpha"), await town.addRig("beta")];
    for (const rig of [alpha, beta]) await town.markReady(rig);
    const { token: mayorToken } = await town.townCall<{ token: string }>("gt_mayor_token", {}, town.container);
    const mayor: GtEnv = { GT_HOST: host, GT_TOWN: town.town, GT_AGENT: "mayor", GT_TOKEN: mayorToken };

    const slung = await gt(["sling", "--title", "Write the docs", "--rig", "alpha"], mayor);
    ok(slung);
    const beadId = /^slung (\S+) to alpha: /.exec(slung.stdout)?.[1];
    expect(beadId).toMatch(ULID);

    // The Mayor may not move beads (an operator's action): the town refuses, exit 3.
    const refused = await gt(["sling", beadId!, "beta"], mayor);
    expect([refused.code, refused.stderr]).toEqual([3, expect.stringMatching(/^gt: FORBIDDEN: /)]);
    const operator: GtEnv = { GT_HOST: host, GT_TOWN: town.town, GT_TOKEN: town.operator };
    const moved = await gtJson<BeadMoveResult>(["sling", beadId!, "beta"], operator);
    expect(moved).toMatchObject({ rig: "beta", moved_from: { rig: "alpha", bead_id: beadId } });
    expect(await town.rigCall<Bead>(alpha, "gt_bead_status", { bead_id: beadId })).toMatchObject({ movedTo: { rig: "beta", beadId: moved.bead_id } });
    expect(await town.rigCall<Bead>(beta, "gt_bead_status", { bead_id: moved.bead_id })).toMatchObject({ title: "Write the docs", status: "open" });

    const mixed = await gt(["sling", beadId!, "beta", "--title", "x"], operator);
    expect([mixed.code, mixed.stderr]).toEqual([2, expect.stringContaining("not both")]);
    const toAgent = await gt(["sling", beadId!, "beta/polecats/toast"], operator);
    expect([toAgent.code, toAgent.stderr]).toEqual([2, expect.stringContaining("give a rig's name")]);
  });

  it("gt convoy create <name> <bead…> creates the convoy with those beads", async () => {
    town = await makeTown(host, secret, "gtc");
    const alpha = await town.addRig("alpha");
    const registry = town.replica("main", town.town);
    await registry.whenSynced();
    await town.markReady(alpha);
    // The Mayor places work in rigs the town knows are ready (the rig's summary reaches it a moment later).
    const rigs = registry.doc.getMap<Rig>("rigs");
    await until(
      (cb) => (rigs.observe(cb), () => rigs.unobserve(cb)),
      () => rigs.get(alpha.id)?.status === "ready" || undefined,
    );
    const { token } = await town.townCall<{ token: string }>("gt_mayor_token", {}, town.container);
    const mayor: GtEnv = { GT_HOST: host, GT_TOWN: town.town, GT_AGENT: "mayor", GT_TOKEN: token };
    const convoy = await gtJson<ConvoyProgress>(["convoy", "create", "Deploy v2.0", "api endpoint", "docs|rig=alpha"], mayor);
    expect(convoy.title).toBe("Deploy v2.0");
    expect(convoy.beads.map((b) => [b.title, b.rigName])).toEqual([
      ["api endpoint", "alpha"],
      ["docs", "alpha"],
    ]);
    expect(await town.townCall<ConvoyProgress>("gt_convoy_status", { id: convoy.id })).toMatchObject({ title: "Deploy v2.0", progress: { total: 2 } });
    const existing = await gt(["convoy", "create", "v3", "01JZZZZZZZZZZZZZZZZZZZZZZZ"], mayor);
    expect([existing.code, existing.stderr]).toEqual([2, expect.stringContaining("is a bead id")]);
  });
});

describe("--help on the real process", () => {
  it.each(["mail", "mail send", "mcp", "sling", "convoy create"])("gt %s --help exits 0 with its usage", async (path) => {
    const words = path.split(" ");
    const run = await gt([...words, "--help"], {});
    expect([run.code, run.stderr]).toEqual([0, ""]);
    expect(run.stdout).toMatch(new RegExp(`^Usage: gt ${words.join(" ")}`));
  });
});
