/**
 * The Mayor as an agent: `gt` and `gt mcp` in Mayor mode (GT_AGENT=mayor, the town tools in the
 * town room), and the container's `--mayor "<command>"` (container/mayor.ts), on real `partykit dev`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import type { Bead, Convoy, ConvoyProgress, Mail, MailSendResult, Rig, SlingResult } from "../../party/protocol.ts";
import { isolating, mayorUserName } from "../../container/rig-user.ts";
import { spawnContainer, type ContainerProcess } from "../helpers/container.ts";
import { makeBareRepo } from "../helpers/git.ts";
import { hostPidOf } from "../helpers/watch.ts";
import { startPartykit, type DevServer } from "../helpers/partykit.ts";
import { gt, gtJson, lossyProxy, mcpCall, mcpClient, ULID, valueOf, type GtEnv, type Run } from "../helpers/gt.ts";
import { makeTown, until, type TestTown, untilReplica } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;
let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];
const containers: ContainerProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "townhall-mayor-"));
});
afterEach(async () => {
  await Promise.all(containers.splice(0).map((c) => c.stop()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  town?.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

/** The town doc, live. */
async function watchTown() {
  const replica = town.replica("main", town.town);
  await replica.whenSynced();
  const rig = (name: string) => [...replica.doc.getMap<Rig>("rigs").values()].find((r) => r.name === name);
  const convoys = () => [...replica.doc.getMap<Convoy>("convoys").values()];
  const when = <T>(predicate: () => T | undefined | false, timeoutMs = 60_000) =>
    untilReplica(replica, predicate, timeoutMs, predicate.toString().slice(0, 120));
  return { replica, rig, convoys, when };
}

/**
 * A town with two ready rigs and no container (beads wait, open): alpha (ts, web; 2 polecats) and
 * beta (docs; 1 polecat), and the Mayor's environment: no GT_RIG, a token from gt_mayor_token.
 */
async function mayorTown() {
  town = await makeTown(host, secret, "my");
  const view = await watchTown();
  const alpha = await town.addRig("alpha", { capabilities: ["ts", "web"], max_polecats: 2 });
  const beta = await town.addRig("beta", { capabilities: ["docs"], max_polecats: 1 });
  for (const rig of [alpha, beta]) await town.markReady(rig);
  await view.when(() => view.rig("alpha")?.status === "ready" && view.rig("beta")?.status === "ready");
  const { token } = await town.townCall<{ token: string }>("gt_mayor_token", {}, town.container);
  const env: GtEnv = { GT_HOST: host, GT_TOWN: town.town, GT_AGENT: "mayor", GT_TOKEN: token };
  return { view, alpha, beta, token, env };
}

const ok = (run: Run) => expect([run.code, run.stderr]).toEqual([0, ""]);

describe("gt in Mayor mode", () => {
  it("gt rigs and gt rig status show status, capabilities and load; gt sling places by capability and load, with the reason", async () => {
    const { alpha, beta, env } = await mayorTown();

    const rigs = await gt(["rigs"], env);
    ok(rigs);
    expect(rigs.stdout).toContain("alpha: ready; capabilities: ts, web; load 0.00 (0 active / 2 polecats)");
    expect(rigs.stdout).toContain("beta: ready; capabilities: docs; load 0.00 (0 active / 1 polecats)");
    expect((await gtJson<Rig[]>(["rigs"], env)).map((r) => [r.name, r.status, r.capabilities])).toEqual([
      ["alpha", "ready", ["ts", "web"]],
      ["beta", "ready", ["docs"]],
    ]);

    const slung = await gt(["sling", "--title", "fix the build", "--body", "tsc fails on main", "--requires", "ts", "--priority", "high"], env);
    ok(slung);
    const [, beadId, line] = /^slung (\S+) to (.*)\n$/.exec(slung.stdout) ?? [];
    expect(beadId).toMatch(ULID);
    expect(line).toBe("alpha: alpha: the only eligible rig requiring ts; loads alpha 0.00 (0/2); not eligible: beta (lacks ts)");
    expect(await town.rigCall<Bead>(alpha, "gt_bead_status", { bead_id: beadId })).toMatchObject({
      title: "fix the build",
      body: "tsc fails on main",
      priority: "high",
      requires: ["ts"],
      status: "open",
      reason: "alpha: the only eligible rig requiring ts; loads alpha 0.00 (0/2); not eligible: beta (lacks ts)",
    });

    const chosen = await gtJson<SlingResult>(["sling", "--title", "write the docs", "--rig", "beta"], env);
    expect(chosen).toMatchObject({ rig: "beta", reason: "beta: chosen by the caller" });
    // No requirement: both eligible, alpha is less loaded (1 of 2 slots against 1 of 1).
    const any = await gtJson<SlingResult>(["sling", "--title", "anything"], env);
    expect(any).toMatchObject({ rig: "alpha", reason: "alpha: least loaded; loads alpha 0.50 (1/2), beta 1.00 (1/1)" });

    const refused = await gt(["sling", "--title", "train", "--requires", "gpu"], env);
    expect([refused.code, refused.stdout]).toEqual([3, ""]);
    expect(refused.stderr).toBe("gt: NO_ELIGIBLE_RIG: no eligible rig for a bead requiring gpu: alpha: lacks gpu; beta: lacks gpu\n");
    const bad = await gt(["sling", "--title", "x", "--priority", "urgent"], env);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("--priority:")]);

    const status = await gt(["rig", "status", "beta"], env);
    ok(status);
    expect(status.stdout).toContain(`Rig beta (${beta.id}): ready`);
    expect(status.stdout).toContain("capabilities: docs; max polecats: 1");
    expect(status.stdout).toContain(`git: ${beta.gitUrl} (main)`);
    const unknown = await gt(["rig", "status", "gamma"], env);
    expect([unknown.code, unknown.stderr]).toEqual([3, expect.stringMatching(/^gt: UNKNOWN_RIG: /)]);
  });

  it("gt sling resent after a lost reply creates one bead", async () => {
    const { alpha, env } = await mayorTown();
    const proxy = await lossyProxy(host, 1);
    cleanups.push(proxy.close);
    const slung = await gt(["sling", "--title", "once only", "--requires", "web"], { ...env, GT_HOST: proxy.host });
    ok(slung);
    const id = /^slung (\S+) to alpha: /.exec(slung.stdout)?.[1];
    expect(id).toMatch(ULID);
    expect(proxy.connections()).toBeGreaterThanOrEqual(2); // the first reply was lost
    const beads = await town.rigCall<Bead[]>(alpha, "gt_list_beads");
    expect(beads.filter((b) => b.title === "once only").map((b) => b.id)).toEqual([id]);
  });

  it("gt convoy create places --bead specs or a --file across rigs; gt convoy status and list show progress per rig", async () => {
    const { view, beta, env } = await mayorTown();
    const created = await gt(
      ["convoy", "create", "--title", "release", "--bead", "api work|requires=ts", "--bead", "docs|rig=beta|priority=high", "--bead", "anything"],
      env,
    );
    ok(created);
    const id = /^Convoy (\S+): release\n/.exec(created.stdout)?.[1];
    expect(id).toMatch(ULID);
    expect(created.stdout).toContain("status: open, 0/3 done");
    expect(created.stdout).toContain("\nalpha: 0/2 done\n");
    expect(created.stdout).toContain("\nbeta: 0/1 done\n");
    expect(created.stdout).toContain("    placed: beta: chosen by the caller");

    const convoy = await gtJson<ConvoyProgress>(["convoy", "status", id!], env);
    expect(convoy.beads.map((b) => [b.title, b.rigName, b.reason])).toEqual([
      ["api work", "alpha", "alpha: the only eligible rig requiring ts; loads alpha 0.00 (0/2); not eligible: beta (lacks ts)"],
      ["docs", "beta", "beta: chosen by the caller"],
      // alpha 1 of 2 slots, beta 1 of 1 (its docs bead counts at once).
      ["anything", "alpha", "alpha: least loaded; loads alpha 0.50 (1/2), beta 1.00 (1/1)"],
    ]);
    expect(convoy.progress).toEqual({
      done: 0,
      failed: 0,
      total: 3,
      byRig: { alpha: { done: 0, failed: 0, total: 2 }, beta: { done: 0, failed: 0, total: 1 } },
    });
    const docs = convoy.beads.find((b) => b.title === "docs")!;
    expect(await town.rigCall<Bead>(beta, "gt_bead_status", { bead_id: docs.beadId })).toMatchObject({ priority: "high", convoyId: id });

    // Progress follows the beads.
    await town.rigCall(beta, "gt_bead_update", { bead_id: docs.beadId, status: "closed" });
    await view.when(
      () =>
        view
          .convoys()
          .find((c) => c.id === id)
          ?.beads.find((b) => b.beadId === docs.beadId)?.status === "closed",
    );
    const status = await gt(["convoy", "status", id!], env);
    ok(status);
    expect(status.stdout).toContain("status: open, 1/3 done");
    expect(status.stdout).toContain("\nbeta: 1/1 done\n");
    expect(status.stdout).toContain(`  ${docs.beadId} [closed] docs`);

    // From a file: a JSON array of bead specs.
    const file = join(dir, "beads.json");
    writeFileSync(
      file,
      JSON.stringify([
        { title: "f1", requires: ["docs"] },
        { title: "f2", rig: "alpha", body: "write f2.txt: f2" },
      ]),
    );
    const fromFile = await gtJson<ConvoyProgress>(["convoy", "create", "--title", "from a file", "--file", file], env);
    expect(fromFile.beads.map((b) => [b.title, b.rigName])).toEqual([
      ["f1", "beta"],
      ["f2", "alpha"],
    ]);

    const list = await gt(["convoy", "list"], env);
    ok(list);
    expect(list.stdout).toBe(`${fromFile.id} open 0/2 done "from a file" (beta 0/1, alpha 0/1)\n${id} open 1/3 done "release" (alpha 0/2, beta 1/1)\n`);
    expect((await gt(["convoy", "list", "--status", "landed"], env)).stdout).toBe("no convoys\n");

    // Refused: nothing to place, an unknown field, both --bead and --file, no eligible rig. No convoy is made.
    const none = await gt(["convoy", "create", "--title", "x"], env);
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining("missing --bead")]);
    const field = await gt(["convoy", "create", "--title", "x", "--bead", "a|colour=red"], env);
    expect([field.code, field.stderr]).toEqual([2, expect.stringContaining('unknown field "colour=red"')]);
    const both = await gt(["convoy", "create", "--title", "x", "--bead", "a", "--file", file], env);
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining("not both")]);
    const gpu = await gt(["convoy", "create", "--title", "x", "--bead", "a", "--bead", "b|requires=gpu"], env);
    expect([gpu.code, gpu.stderr]).toEqual([3, expect.stringMatching(/^gt: NO_ELIGIBLE_RIG: /)]);
    const noId = await gt(["convoy", "status"], env);
    expect([noId.code, noId.stderr]).toEqual([2, expect.stringContaining("missing <id>")]);
    expect((await gtJson<ConvoyProgress[]>(["convoy", "list"], env)).map((c) => c.title)).toEqual(["from a file", "release"]);

    // Resent after a lost reply: one convoy.
    const proxy = await lossyProxy(host, 1);
    cleanups.push(proxy.close);
    const resent = await gt(["convoy", "create", "--title", "resent", "--bead", "r1"], { ...env, GT_HOST: proxy.host });
    ok(resent);
    expect(proxy.connections()).toBeGreaterThanOrEqual(2);
    expect((await gtJson<ConvoyProgress[]>(["convoy", "list"], env)).filter((c) => c.title === "resent")).toHaveLength(1);
  });

  it("gt mail check reads the mayor's inbox once; gt mail send arrives from mayor", async () => {
    const { alpha, env } = await mayorTown();
    const toast = await town.polecat(alpha, "toast");
    await town.townCall("gt_mail_send", { to: "mayor", subject: "plan the release", body: "web and docs" });
    await town.rigCall(alpha, "gt_mail_send", { to: "mayor", subject: "blocked on api", body: "" }, toast.token);

    const check = await gt(["mail", "check"], env);
    ok(check);
    expect(check.stdout).toContain("From: operator\nSubject: plan the release");
    expect(check.stdout).toContain("web and docs");
    expect(check.stdout).toContain(`From: ${toast.identity}\nSubject: blocked on api`);
    expect((await gt(["mail", "check"], env)).stdout).toBe("no new mail\n");

    const sent = await gt(["mail", "send", "--to", "operator", "--subject", "planned", "--body", "2 beads"], env);
    ok(sent);
    const id = /^delivered (\S+)\n$/.exec(sent.stdout)?.[1];
    expect(id).toMatch(ULID);
    const inbox = await town.townCall<Mail[]>("gt_mail_check");
    expect(inbox.map((m) => [m.id, m.from, m.subject, m.body])).toEqual([[id, "mayor", "planned", "2 beads"]]);
    const reply = await gtJson<MailSendResult>(["mail", "send", "--to", toast.identity, "--subject", "unblocked"], env);
    expect(reply.state).toBe("delivered");
    const polecatInbox = await town.rigCall<Mail[]>(alpha, "gt_mail_check", {}, toast.token);
    expect(polecatInbox.map((m) => [m.id, m.from, m.subject])).toEqual([[reply.id, "mayor", "unblocked"]]);
  });

  it("rig agents' commands exit 2 in Mayor mode, the Mayor's exit 2 for rig agents, and a rig token is no Mayor's", async () => {
    const { alpha, env } = await mayorTown();
    const toast = await town.polecat(alpha, "toast");
    const rigCommands = [
      ["prime"],
      ["bead", "status"],
      ["done", "--branch", "b"],
      ["escalate", "--title", "x", "--severity", "low"],
      ["checkpoint", "--data", "x"],
    ];
    const asMayor = await Promise.all(rigCommands.map((args) => gt(args, env)));
    for (const [i, run] of asMayor.entries()) {
      expect([rigCommands[i]!.join(" "), run.code, run.stdout]).toEqual([rigCommands[i]!.join(" "), 2, ""]);
      expect(run.stderr).toContain(`gt ${rigCommands[i]![0]}`);
      expect(run.stderr).toContain("this is a rig agent's command, and you are the Mayor (GT_AGENT=mayor)");
    }
    const agentEnv = { GT_HOST: host, GT_TOWN: town.town, GT_RIG: alpha.id, GT_AGENT: toast.identity, GT_TOKEN: toast.token };
    const mayorCommands = [
      ["sling", "--title", "x"],
      ["rigs"],
      ["rig", "status", "alpha"],
      ["convoy", "create", "--title", "x", "--bead", "y"],
      ["convoy", "status", "01JZZZZZZZZZZZZZZZZZZZZZZZ"],
      ["convoy", "list"],
    ];
    const asAgent = await Promise.all(mayorCommands.map((args) => gt(args, agentEnv)));
    for (const [i, run] of asAgent.entries()) {
      expect([mayorCommands[i]!.join(" "), run.code, run.stdout]).toEqual([mayorCommands[i]!.join(" "), 2, ""]);
      expect(run.stderr).toContain("this is the Mayor's command (GT_AGENT=mayor), and you are a rig agent");
    }
    // GT_AGENT=mayor with a polecat's token: the town refuses it.
    const impostor = await gt(["rigs"], { ...env, GT_TOKEN: toast.token });
    expect([impostor.code, impostor.stderr]).toEqual([3, expect.stringMatching(/^gt: FORBIDDEN: /)]);
    const help = await gt(["help"], {});
    for (const command of ["sling", "convoy create", "convoy status", "convoy list", "rigs", "rig status"]) expect(help.stdout).toContain(`gt ${command} `);
    expect(help.stdout).toContain("GT_AGENT=mayor");
  });
});

describe("gt mcp in Mayor mode", () => {
  const TOOLS = [
    "gt_convoy_create",
    "gt_convoy_status",
    "gt_list_convoys",
    "gt_list_rigs",
    "gt_mail_check",
    "gt_mail_read",
    "gt_mail_send",
    "gt_rig_status",
    "gt_sling",
  ];

  it("lists the Mayor's nine tools; gt_sling returns a bead and its rig, NO_ELIGIBLE_RIG is an error result", async () => {
    const { alpha, env } = await mayorTown();
    const client = await mcpClient(env);
    cleanups.push(() => client.close());
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.description, tool.name).toBeTruthy();
      for (const field of ["as", "from", "id"])
        if (tool.name !== "gt_convoy_status" && tool.name !== "gt_mail_read")
          expect(Object.keys(tool.inputSchema.properties ?? {}), tool.name).not.toContain(field);
    }
    const sling = tools.find((t) => t.name === "gt_sling")!;
    expect(sling.description).toMatch(/capabilities/);
    expect(sling.description).toMatch(/load/);
    expect(sling.description).toMatch(/reason/);
    expect(sling.inputSchema.required).toEqual(["title"]);

    const slung = valueOf<SlingResult>(await mcpCall(client, "gt_sling", { title: "over mcp", requires: ["web"] }));
    expect(slung).toMatchObject({ rig: "alpha", reason: expect.stringMatching(/^alpha: the only eligible rig requiring web; /) });
    expect(slung.bead_id).toMatch(ULID);
    expect(await town.rigCall<Bead>(alpha, "gt_bead_status", { bead_id: slung.bead_id })).toMatchObject({ title: "over mcp", reason: slung.reason });

    const refused = await mcpCall(client, "gt_sling", { title: "train", requires: ["gpu"] });
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toBe("NO_ELIGIBLE_RIG: no eligible rig for a bead requiring gpu: alpha: lacks gpu; beta: lacks gpu");

    const convoy = valueOf<ConvoyProgress>(
      await mcpCall(client, "gt_convoy_create", {
        title: "mcp convoy",
        beads: [
          { title: "one", requires: ["docs"] },
          { title: "two", rig: "alpha" },
        ],
      }),
    );
    expect(convoy.beads.map((b) => [b.title, b.rigName])).toEqual([
      ["one", "beta"],
      ["two", "alpha"],
    ]);
    expect(valueOf<ConvoyProgress>(await mcpCall(client, "gt_convoy_status", { id: convoy.id })).progress).toMatchObject({ done: 0, total: 2 });
    expect(valueOf<ConvoyProgress[]>(await mcpCall(client, "gt_list_convoys", { status: "open" })).map((c) => c.id)).toEqual([convoy.id]);
    expect(valueOf<Rig[]>(await mcpCall(client, "gt_list_rigs")).map((r) => r.name)).toEqual(["alpha", "beta"]);
    expect(valueOf<Rig>(await mcpCall(client, "gt_rig_status", { name: "beta" })).capabilities).toEqual(["docs"]);
    const sent = valueOf<MailSendResult>(await mcpCall(client, "gt_mail_send", { to: "operator", subject: "from mcp", body: "" }));
    expect((await town.townCall<Mail[]>("gt_mail_check")).map((m) => [m.id, m.from])).toEqual([[sent.id, "mayor"]]);
    await town.townCall("gt_mail_send", { to: "mayor", subject: "for the mayor", body: "" });
    expect(valueOf<Mail[]>(await mcpCall(client, "gt_mail_check")).map((m) => m.subject)).toEqual(["for the mayor"]);
  });
});

describe("the Mayor in the container (--mayor)", () => {
  it("runs the Mayor's command with the town tools: its convoy lands through the rig's agents and its mail reaches the operator", async () => {
    town = await makeTown(host, secret, "my");
    const view = await watchTown();
    const remote = makeBareRepo(dir, "app");
    await town.addRig("app", { git_url: remote });
    const mayor = [
      'echo "home=$HOME cwd=$(pwd) agent=$GT_AGENT rig=${GT_RIG:-none}"',
      'gt convoy create --title from-mayor --bead "one" --bead "two"',
      "gt mail send --to operator --subject planned --body ok",
    ].join(" && ");
    const workspace = join(dir, "ws");
    const container = spawnContainer({ host, town: town.town, token: town.container, workspace, extra: ["--mayor", mayor] });
    containers.push(container);

    // Until the clone is ready the Mayor's convoy finds no eligible rig and it is restarted: either way one convoy lands.
    const landed = await view.when(() => view.convoys().find((c) => c.title === "from-mayor" && c.status === "landed"), 90_000);
    expect(landed.beads.map((b) => [b.title, b.rigName, b.status])).toEqual([
      ["one", "app", "closed"],
      ["two", "app", "closed"],
    ]);
    expect(landed.beads[0]!.reason).toMatch(/^app: the only eligible rig; loads app /);
    await container.waitFor(/\[mayor\] exited 0: done \(not restarted\)/);
    expect(view.convoys().filter((c) => c.title === "from-mayor")).toHaveLength(1);
    const inbox = await town.townCall<Mail[]>("gt_mail_check");
    expect(inbox.map((m) => [m.from, m.subject, m.body])).toEqual([["mayor", "planned", "ok"]]);
    const mayorDir = join(workspace, "mayor");
    expect(container.output()).toContain(`[mayor] > home=${mayorDir} cwd=${mayorDir} agent=mayor rig=none`);
    expect(container.output()).toMatch(/\[mayor\] > delivered [0-9A-HJKMNP-TV-Z]{26}/);
  });

  it("restarts a failing Mayor after a backoff, and kills the Mayor and what it started when the container stops", async () => {
    town = await makeTown(host, secret, "my");
    const view = await watchTown();
    // Run 1 mails and fails; run 2 mails, starts a background process and waits on it.
    const mayor = [
      "n=$(( $(cat runs 2>/dev/null || echo 0) + 1 ))",
      "echo $n > runs",
      'gt mail send --to operator --subject "run $n" --body x',
      '[ "$n" -ge 2 ] || exit 3',
      "sleep 600 &",
      'echo "background $!"',
      "wait",
    ].join("\n");
    const container = spawnContainer({ host, town: town.town, token: town.container, workspace: join(dir, "ws"), extra: ["--mayor", mayor] });
    containers.push(container);
    const mail = town.replica("main", town.town, town.operator, "mail");
    await mail.whenSynced();
    await untilReplica(mail, () => [...mail.doc.getMap<Mail>("mail").values()].some((m) => m.from === "mayor" && m.subject === "run 2"), 60_000);
    await container.waitFor(/\[mayor\] > background \d+/);
    expect(container.output()).toMatch(/\[mayor\] exited 3; restarting in 1 s/);
    const [first, second] = [...container.output().matchAll(/\[mayor\] started \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    const background = hostPidOf(Number(/\[mayor\] > background (\d+)/.exec(container.output())![1]), second!);
    expect([first, second].every(Number.isInteger)).toBe(true);
    expect(readFileSync(join(dir, "ws", "mayor", "runs"), "utf8").trim()).toBe("2");
    expect([alive(second!), alive(background)]).toEqual([true, true]);

    await container.stop();
    containers.splice(containers.indexOf(container), 1);
    expect(container.output()).toContain(`[mayor] stopping (pid ${second})`);
    expect([alive(second!), alive(background)]).toEqual([false, false]);
  });
});

describe("the Mayor's token renewed (a server whose Mayor tokens live GT_MAYOR_TOKEN_TTL_S = 15 s)", () => {
  let short: DevServer;
  let persist: string;
  beforeAll(async () => {
    persist = mkdtempSync(join(tmpdir(), "townhall-mayor-ttl-"));
    short = await startPartykit({ persistDir: persist, vars: { GT_SECRET: secret, GT_MAYOR_TOKEN_TTL_S: "15" } });
  }, 120_000);
  afterAll(async () => {
    await short?.stop();
    rmSync(persist, { recursive: true, force: true });
  });

  it("renews the Mayor's token before it expires and restarts the Mayor with it: the Mayor keeps acting past its first token's expiry", async () => {
    town = await makeTown(short.host, secret, "my");
    // The Mayor acts every second and says when (in seconds), with a checksum of the token it holds.
    const mayor =
      'tok=$(printf %s "$GT_TOKEN" | cksum | cut -d" " -f1); while :; do gt rigs > /dev/null && echo "acted at $(date +%s) holding $tok"; sleep 1; done';
    const container = spawnContainer({ host: short.host, town: town.town, token: town.container, workspace: join(dir, "ws"), extra: ["--mayor", mayor] });
    containers.push(container);
    const acts = () => [...container.output().matchAll(/\[mayor\] > acted at (\d+) holding (\d+)/g)].map((m) => ({ at: Number(m[1]), token: m[2]! }));
    const stdout = (cb: () => void) => (container.child.stdout!.on("data", cb), () => container.child.stdout!.off("data", cb));
    const first = await until(stdout, () => acts()[0], 20_000, "the Mayor's first act");
    // Its first token was minted before that act, so it expired by first.at + 15 s (whole seconds).
    // Renewed at two thirds of its life (10 s), the run restarts with the new token and acts on.
    const late = await until(stdout, () => acts().find((a) => a.at > first.at + 15), 35_000, "the Mayor acting after its first token's expiry");
    expect(late.token).not.toBe(first.token);
    const out = container.output();
    expect(out).toMatch(/\[mayor\] token renewed; it expires/);
    expect(out).toMatch(/\[mayor\] restarting with its renewed token/);
    expect(out).not.toMatch(/\[mayor\] (exited|killed by) .*restarting in/); // a renewal is no failure: no backoff
    expect(out).not.toMatch(/\[mayor\] ! /); // and gt never failed (no 4401/UNAUTHORIZED on stderr)
  });
});

describe.runIf(isolating())("the Mayor as a user of its own (the container runs as root)", () => {
  it("runs as its own unprivileged user, cannot read the supervisor's environment, and has a 0700 directory and TMPDIR of its own", async () => {
    town = await makeTown(host, secret, "my");
    const mayor = [
      'echo "who uid=$(id -u) user=$(id -un) ppid=$PPID"',
      // No process it can see (its own run's only) holds the container token: the supervisor's environment does.
      "if cat /proc/[0-9]*/environ | tr '\\0' '\\n' | grep -q '^GT_CONTAINER_TOKEN='; then echo \"environ readable\"; else echo \"environ closed\"; fi",
      'echo "dir $(stat -c "%u %a" .)"',
      'echo "tmp $TMPDIR $(stat -c "%u %a" "$TMPDIR")"',
    ].join("; ");
    const workspace = join(dir, "ws");
    const container = spawnContainer({ host, town: town.town, token: town.container, workspace, extra: ["--mayor", mayor] });
    containers.push(container);
    await container.waitFor(/\[mayor\] exited 0: done/);
    const out = container.output();
    const uid = Number(/\[mayor\] > who uid=(\d+)/.exec(out)?.[1]);
    expect(uid).toBeGreaterThan(0);
    const name = mayorUserName(readFileSync(join(workspace, "container-id"), "utf8").trim());
    // Its parent is its own PID namespace's first process: the supervisor is not even visible.
    expect(out).toContain(`[mayor] > who uid=${uid} user=${name} ppid=1\n`);
    expect(out).toContain("[mayor] > environ closed\n");
    expect(out).toContain(`[mayor] > dir ${uid} 700\n`);
    expect(out).toContain(`[mayor] > tmp ${join(workspace, "mayor", "tmp")} ${uid} 700\n`);
  });
});

/** Whether a process runs (a zombie does not). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
