/**
 * Outgoing webhooks on a real `partykit dev` with a real local HTTP receiver: a town with rigs and a
 * stand-in container makes each of the six events happen (rig in error, escalation opened, bead
 * failed, convoy landed, budget reached, agent hung); the receiver checks every signature; some
 * events are raised while the receiver is down, some right before the server is SIGKILLed and
 * started again on the same storage. Every event arrives at both hooks (one Slack-shaped, one plain
 * JSON), no id is missing, and a repeat always carries the same id and the same body.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type * as Y from "yjs";
import type {
  AttentionItem,
  Convoy,
  ConvoyProgress,
  Escalation,
  Rig,
  StartAgentCommand,
  Usage,
  Webhook,
  WebhookAddResult,
  WebhookPayload,
} from "../../party/protocol.ts";
import { convoyLandedEvent, eventId, eventOfItem, type WebhookEvent } from "../../party/town/webhooks.ts";
import { freePort, startPartykit, type DevServer } from "../helpers/partykit.ts";
import { fails, makeTown, untilReplica, type TestTown } from "../helpers/town.ts";
import { standIn } from "../helpers/watch.ts";

const SECRET = "webhooks-test-secret-0123456789";
const VARS = {
  GT_SECRET: SECRET,
  GT_TEST_HOOKS: "1",
  GT_AGENT_IDLE_MS: "2000",
  GT_AGENT_CEILING_MS: "120000",
  GT_LEASE_TTL_MS: "2000",
  GT_RECONCILE_MS: "1000",
};
const USED: Usage = { model: "claude-test", turns: 1, inputTokens: 100, outputTokens: 20, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 1.5 };

type Received = { path: string; id: string; event: string; body: string; verified: boolean; payload: WebhookPayload | null; text: string | null };

/** A local receiver: checks each delivery's signature with its hook's secret (by path), keeps them all. */
class Receiver {
  readonly got: Received[] = [];
  readonly secrets = new Map<string, string>();
  private server: Server | null = null;
  private waiters: (() => void)[] = [];
  constructor(readonly port: number) {}

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async up(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        this.got.push(this.check(req.url ?? "", req.headers, body));
        res.writeHead(200).end("ok");
        for (const w of this.waiters.splice(0)) w();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private check(path: string, headers: IncomingHttpHeaders, body: string): Received {
    const secret = this.secrets.get(path) ?? "";
    const timestamp = String(headers["x-townhall-timestamp"] ?? "");
    const expected = `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
    const given = String(headers["x-townhall-signature"] ?? "");
    const verified =
      given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected)) && Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
    const parsed = JSON.parse(body) as WebhookPayload & { text?: string };
    return {
      path,
      id: String(headers["x-townhall-delivery"] ?? ""),
      event: String(headers["x-townhall-event"] ?? ""),
      body,
      verified,
      payload: typeof parsed.text === "string" ? null : parsed,
      text: typeof parsed.text === "string" ? parsed.text : null,
    };
  }

  /** Resolves once `predicate` holds over what has arrived (checked at once and on each arrival). */
  async until(predicate: () => boolean, label: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline)
        throw new Error(`receiver: timed out waiting for ${label}; got ${JSON.stringify(this.got.map((g) => [g.path, g.event, g.id]))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 1_000); // re-check the deadline
      });
    }
  }
}

const persistDir = mkdtempSync(join(tmpdir(), "townhall-webhooks-"));
let server: DevServer | undefined;
let receiver: Receiver | undefined;
let town: TestTown | undefined;

afterAll(async () => {
  town?.closeAll();
  await receiver?.down();
  await server?.stop();
  rmSync(persistDir, { recursive: true, force: true });
});

describe("outgoing webhooks", () => {
  it("every event reaches both hooks signed, with no id missing and repeats only with the same id, across a receiver outage and a SIGKILL", async () => {
    server = await startPartykit({ persistDir, vars: VARS });
    const port = server.port;
    receiver = new Receiver(await freePort());
    await receiver.up();
    town = await makeTown(server.host, SECRET, "wh");
    const t = town;

    // Bad input: a clear typed error, nothing added.
    expect((await fails(t.townCall("gt_webhook_add", { url: "ftp://example.com/x" }))).code).toBe("INVALID_ARGS");
    expect((await fails(t.townCall("gt_webhook_add", { url: `https://example.com/${"a".repeat(2100)}` }))).code).toBe("INVALID_ARGS");
    expect((await fails(t.townCall("gt_webhook_add", { url: "https://user:pw@example.com/x" }))).code).toBe("INVALID_ARGS");
    const rigScoped = await t.token({ role: "operator", rig: "01ARZ3NDEKTSV4RRFFQ69G5FAV" });
    expect((await fails(t.townCall("gt_webhook_add", { url: receiver.url("/x") }, rigScoped))).code).toBe("FORBIDDEN");
    expect(await t.townCall<Webhook[]>("gt_webhook_list")).toEqual([]);

    const slack = await t.townCall<WebhookAddResult>("gt_webhook_add", { url: receiver.url("/slack") });
    const json = await t.townCall<WebhookAddResult>("gt_webhook_add", { url: receiver.url("/json"), format: "json" });
    expect(slack.format).toBe("slack");
    expect(json.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    receiver.secrets.set("/slack", slack.secret);
    receiver.secrets.set("/json", json.secret);
    // The secret is shown once: never listed, never in the town document or its feed.
    const listed = await t.townCall<Webhook[]>("gt_webhook_list");
    expect(listed.map((h) => h.id)).toEqual([slack.id, json.id]);
    expect(JSON.stringify(listed)).not.toContain(slack.secret);
    const replica = t.replica("main", t.town, t.operator);
    await replica.whenSynced();
    const when = <T>(predicate: (doc: Y.Doc) => T | undefined | false, label: string) => untilReplica(replica, predicate, 45_000, label);
    const attention = (doc: Y.Doc, rig: Rig, match: (a: AttentionItem) => boolean) => doc.getMap<Rig>("rigs").get(rig.id)?.summary.attention?.find(match);

    /** The deliveries we must see, by id, with the event they are. */
    const expected = new Map<string, string>();
    const expect1 = async (rig: Rig | null, event: WebhookEvent | null) => {
      expect(event).not.toBeNull();
      expected.set(eventId(t.town, event!.key), event!.event);
    };
    const arrived = (ids: readonly string[]) => () =>
      ids.every((id) => ["/slack", "/json"].every((path) => receiver!.got.some((g) => g.path === path && g.id === id)));

    // 1. Receiver up: a rig in error, an agent's escalation.
    const beta = await t.addRig("beta");
    await t.rigCall(beta, "gt_rig_ready", { error: "clone failed: repository not found" }, t.container);
    const rigError = await when((doc) => attention(doc, beta, (a) => a.kind === "rig_error"), "beta in error");
    await expect1(beta, eventOfItem(beta, rigError));
    const alpha = await t.addRig("alpha");
    const c = await standIn(t, alpha);
    await c.ack("gt_rig_ready", { disk_bytes: 1 });
    const toast = await t.polecat(alpha, "toast");
    const esc = await t.rigCall<Escalation>(alpha, "gt_escalate", { title: "The schema is ambiguous", severity: "high" }, toast.token);
    const escItem = await when((doc) => attention(doc, alpha, (a) => a.id === esc.id), "the escalation in the lane");
    await expect1(alpha, eventOfItem(alpha, escItem));
    await receiver.until(arrived([...expected.keys()]), "rig error and escalation");

    // 2. Receiver down: a bead fails (three runs exit 4; the witness escalates it too), a convoy lands.
    await receiver.down();
    const bead = await t.rigCall<{ id: string }>(alpha, "gt_bead_create", { title: "Fix the flaky parser" });
    for (let run = 1; run <= 3; run++) {
      const start = (await c.next((x) => x.command === "start_agent" && x.run === `${bead.id}.${run}`)) as StartAgentCommand;
      await c.ack("gt_agent_started", { as: start.identity, bead_id: bead.id, run: start.run });
      await c.ack("gt_agent_exited", { as: start.identity, bead_id: bead.id, run: start.run, code: 4 });
    }
    const failed = await when((doc) => attention(doc, alpha, (a) => a.kind === "failed_bead" && a.id === bead.id), "the failed bead");
    await expect1(alpha, eventOfItem(alpha, failed));
    const witnessEsc = await when(
      (doc) => attention(doc, alpha, (a) => a.kind === "escalation" && a.title === "Bead failed: Fix the flaky parser"),
      "the witness's escalation",
    );
    await expect1(alpha, eventOfItem(alpha, witnessEsc));
    const gamma = await t.addRig("gamma");
    await t.markReady(gamma);
    const convoy = await t.townCall<ConvoyProgress>("gt_convoy_create", { title: "Ship it", beads: [{ title: "one", rig: "gamma" }] });
    await when((doc) => (doc.getMap<Convoy>("convoys").get(convoy.id)?.beads[0]?.rev ?? 0) > 0, "the convoy's bead created");
    await t.rigCall(gamma, "gt_bead_update", { bead_id: convoy.beads[0]!.beadId, status: "closed" });
    const landed = await when((doc) => {
      const cv = doc.getMap<Convoy>("convoys").get(convoy.id);
      return cv?.status === "landed" ? cv : undefined;
    }, "the convoy landed");
    await expect1(null, convoyLandedEvent(landed, 1, 1, 0));
    // The receiver is down: both hooks say so (failing, with the error and when), and hold them.
    const failing = await pollList(t, (hooks) => hooks.every((h) => h.last?.ok === false && h.pending > 0), "both hooks failing");
    for (const hook of failing) expect(hook.last).toMatchObject({ ok: false, error: expect.any(String), at: expect.any(Number) });

    // 3. Still down, a budget is reached; the server is SIGKILLed right after the town recorded it.
    await t.townCall("gt_budget_set", { rig: "alpha", budget: { unit: "usd", daily: 1 } });
    await when((doc) => doc.getMap<Rig>("rigs").get(alpha.id)?.summary.usage?.budget?.daily === 1, "alpha's budget in its summary");
    const spend = await t.rigCall<{ id: string }>(alpha, "gt_bead_create", { title: "Spend it" });
    const start = (await c.next((x) => x.command === "start_agent" && x.run === `${spend.id}.1`)) as StartAgentCommand;
    await c.ack("gt_agent_started", { as: start.identity, bead_id: spend.id, run: start.run });
    await c.ack("gt_agent_exited", { as: start.identity, bead_id: spend.id, run: start.run, code: 1, usage: USED });
    const budget = await when((doc) => attention(doc, alpha, (a) => a.kind === "budget"), "the budget reached");
    await expect1(alpha, eventOfItem(alpha, budget));
    await server.kill();
    c.stop();
    t.closeAll();

    // 4. The server and the receiver back: everything waiting arrives; then an agent hangs.
    server = await startPartykit({ persistDir, port, vars: VARS });
    await receiver.up();
    const afterRestart = await t.townCall<Webhook[]>("gt_webhook_list"); // starts the town room: its outbox resumes
    expect(afterRestart.map((h) => h.id)).toEqual([slack.id, json.id]);
    await receiver.until(arrived([...expected.keys()]), "everything raised while down or before the kill");

    const delta = await t.addRig("delta");
    const d = await standIn(t, delta);
    await d.ack("gt_rig_ready", { disk_bytes: 1 });
    const task = await t.rigCall<{ id: string }>(delta, "gt_bead_create", { title: "Think quietly" });
    const dStart = (await d.next((x) => x.command === "start_agent")) as StartAgentCommand;
    await d.ack("gt_agent_started", { as: dStart.identity, bead_id: task.id, pid: 999_201, run: dStart.run });
    d.vouch(dStart.identity, true, Date.now()); // alive, printing nothing: hung after GT_AGENT_IDLE_MS
    const replica2 = t.replica("main", t.town, t.operator);
    await replica2.whenSynced();
    const hung = await untilReplica(
      replica2,
      (doc) => attention(doc, delta, (a) => a.kind === "agent" && a.id === dStart.identity && a.detail.startsWith("hung")),
      45_000,
      "the hung agent",
    );
    await expect1(delta, eventOfItem(delta, hung));
    await receiver.until(arrived([...expected.keys()]), "every event");
    d.stop();

    // Every delivery signed; all six events; no id missing at either hook; a repeat is the same id with the same body.
    expect(receiver.got.filter((g) => !g.verified)).toEqual([]);
    expect(new Set(expected.values())).toEqual(new Set(["rig_error", "escalation_opened", "bead_failed", "convoy_landed", "budget_reached", "agent_hung"]));
    for (const path of ["/slack", "/json"]) {
      const ids = new Set(receiver.got.filter((g) => g.path === path).map((g) => g.id));
      expect([...expected.keys()].filter((id) => !ids.has(id))).toEqual([]);
    }
    const bodies = new Map<string, string>();
    for (const g of receiver.got) {
      const key = `${g.path} ${g.id}`;
      expect(bodies.get(key) ?? g.body).toBe(g.body);
      bodies.set(key, g.body);
    }
    // One id per event: the same happening never arrives under two ids.
    const jsonGot = receiver.got.filter((g) => g.path === "/json").map((g) => g.payload!);
    const idsByHappening = new Map<string, Set<string>>();
    for (const p of jsonGot) {
      const what = `${p.event} ${p.rig ?? ""} ${p.bead ?? ""} ${p.agent ?? ""} ${p.title} ${p.at}`;
      idsByHappening.set(what, new Set([...(idsByHappening.get(what) ?? []), p.id]));
    }
    expect([...idsByHappening.values()].filter((ids) => ids.size > 1)).toEqual([]);
    // The bodies: the plain JSON payload, and Slack's text.
    const failedBody = jsonGot.find((p) => p.event === "bead_failed")!;
    expect(failedBody).toMatchObject({ town: t.town, rig: "alpha", bead: bead.id, title: "Fix the flaky parser", at: failed.at });
    expect(failedBody.id).toBe(receiver.got.find((g) => g.path === "/json" && g.event === "bead_failed")!.id);
    expect(jsonGot.find((p) => p.event === "agent_hung")).toMatchObject({ rig: "delta", agent: dStart.identity });
    expect(jsonGot.find((p) => p.event === "convoy_landed")).toMatchObject({ title: "Ship it", detail: "1/1 done", at: landed.landedAt });
    const slackText = receiver.got.find((g) => g.path === "/slack" && g.event === "rig_error")!.text;
    expect(slackText).toBe(`Rig in error in ${t.town}/beta: beta (clone failed: repository not found)`);
    // The panel's status is true again: both hooks ok, nothing waiting.
    const healthy = await pollList(t, (hooks) => hooks.every((h) => h.last?.ok === true && h.pending === 0), "both hooks ok");
    expect(healthy.every((h) => typeof h.lastOkAt === "number")).toBe(true);

    // A test delivery, and removal.
    const test = await t.townCall<{ id: string }>("gt_webhook_test", { id: json.id });
    await receiver.until(() => receiver!.got.some((g) => g.id === test.id && g.path === "/json" && g.event === "test"), "the test delivery");
    await t.townCall("gt_webhook_remove", { id: slack.id });
    expect((await t.townCall<Webhook[]>("gt_webhook_list")).map((h) => h.id)).toEqual([json.id]);
    expect((await fails(t.townCall("gt_webhook_test", { id: slack.id }))).code).toBe("INVALID_ARGS");
  });
});

/** gt_webhook_list until `predicate` holds (the status changes with each attempt; nothing to subscribe to). */
async function pollList(t: TestTown, predicate: (hooks: Webhook[]) => boolean, label: string): Promise<Webhook[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const hooks = await t.townCall<Webhook[]>("gt_webhook_list");
    if (predicate(hooks)) return hooks;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}: ${JSON.stringify(hooks)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
