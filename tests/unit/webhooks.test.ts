/**
 * Outgoing webhooks' pure rules (party/town/webhooks.ts): which attention items raise which event,
 * the stable id, the two body formats, the signature, the URL check and the backoff.
 */
import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { afterFailure, type OutboxEntry } from "../../party/outbox.ts";
import { sha256Hex } from "../../party/sha256.ts";
import { ToolError, type AttentionItem, type WebhookPayload } from "../../party/protocol.ts";
import {
  WEBHOOKS,
  bodyOf,
  checkHookUrl,
  classifyWebhookReply,
  convoyLandedEvent,
  eventId,
  newEvents,
  newSecret,
  pastDeadline,
  payloadOf,
  requireRoomForHook,
  signature,
  webhookBackoff,
} from "../../party/town/webhooks.ts";

const rig = { id: "01RIG0000000000000000000AA", name: "backend" };
const item = (fields: Partial<AttentionItem> & Pick<AttentionItem, "kind" | "id">): AttentionItem => ({ title: "t", detail: "d", at: 1000, ...fields });

describe("events from the attention lane's items", () => {
  it("raises one event per newly appearing item of the six kinds, keyed on kind, id and at", () => {
    const before = [item({ kind: "failed_bead", id: "B1", title: "old failure" })];
    const after = [
      ...before,
      item({ kind: "failed_bead", id: "B2", title: "Fix the parser", detail: "exit 4" }),
      item({ kind: "escalation", id: "E1", title: "help", severity: "high" }),
      item({ kind: "agent", id: "backend/polecats/toast", detail: "hung: no output and no tool call; nudged" }),
      item({ kind: "agent", id: "backend/polecats/maple", detail: "stalled: its heartbeats are late" }),
      item({ kind: "agent", id: "backend/polecats/ash", detail: "dead: its run went silent" }),
      item({ kind: "waiting_mail", id: "backend/polecats/elm" }),
      item({ kind: "budget", id: rig.id, detail: "no new run starts: reached" }),
      item({ kind: "rig_error", id: rig.id, detail: "clone failed" }),
    ];
    const events = newEvents(rig, before, after);
    expect(events.map((e) => e.event)).toEqual(["bead_failed", "escalation_opened", "agent_hung", "budget_reached", "rig_error"]);
    expect(events[0]).toEqual({
      key: `${rig.id}/failed_bead/B2/1000`,
      event: "bead_failed",
      rig: "backend",
      bead: "B2",
      title: "Fix the parser",
      detail: "exit 4",
      at: 1000,
    });
    expect(events[2]).toMatchObject({ agent: "backend/polecats/toast" });
    // The same list again raises nothing; the same item with a new `at` (it happened again) does.
    expect(newEvents(rig, after, after)).toEqual([]);
    const again = newEvents(rig, after, [item({ kind: "failed_bead", id: "B2", at: 2000 })]);
    expect(again.map((e) => e.key)).toEqual([`${rig.id}/failed_bead/B2/2000`]);
  });

  it("carries an item's bead id where the item has one (an escalation about a bead)", () => {
    const [event] = newEvents(rig, [], [{ ...item({ kind: "escalation", id: "E2" }), beadId: "B9" } as AttentionItem]);
    expect(event).toMatchObject({ event: "escalation_opened", bead: "B9" });
  });

  it("a convoy's landing is one event per landing", () => {
    expect(convoyLandedEvent({ id: "C1", title: "Ship", landedAt: 5 }, 2, 3, 1)).toEqual({
      key: "convoy/C1/5",
      event: "convoy_landed",
      title: "Ship",
      detail: "2/3 done, 1 failed",
      at: 5,
    });
  });
});

describe("stable ids", () => {
  it("are a SHA-256 (computed synchronously, inside the event's write) that matches node's", () => {
    for (const text of ["", "abc", "a".repeat(55), "a".repeat(56), "a".repeat(64), "héllo ✓ ".repeat(40)])
      expect(sha256Hex(text)).toBe(createHash("sha256").update(text).digest("hex"));
    expect(eventId("town-a", "k")).toBe(`evt_${createHash("sha256").update("town-a\nk").digest("hex").slice(0, 32)}`);
  });

  it("the same town and key give the same id; anything else another", () => {
    const a = eventId("town-a", "r/failed_bead/B/1");
    expect(a).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(eventId("town-a", "r/failed_bead/B/1")).toBe(a);
    expect(eventId("town-b", "r/failed_bead/B/1")).not.toBe(a);
    expect(eventId("town-a", "r/failed_bead/B/2")).not.toBe(a);
  });
});

describe("bodies", () => {
  const payload: WebhookPayload = {
    id: "evt_1",
    event: "bead_failed",
    town: "acme",
    rig: "backend",
    bead: "B2",
    title: "Fix <the> parser & co",
    detail: "exit 4",
    at: 1000,
  };

  it("json is the plain payload", () => {
    const [event] = newEvents(rig, [], [item({ kind: "failed_bead", id: "B2", title: "Fix", detail: "exit 4" })]);
    expect(JSON.parse(bodyOf("json", payloadOf("acme", "evt_1", event!)))).toEqual({
      id: "evt_1",
      event: "bead_failed",
      town: "acme",
      rig: "backend",
      bead: "B2",
      title: "Fix",
      detail: "exit 4",
      at: 1000,
    });
  });

  it("slack has text and blocks, with Slack's markup characters escaped", () => {
    const body = JSON.parse(bodyOf("slack", payload)) as { text: string; blocks: { type: string }[] };
    expect(body.text).toBe("Bead failed in acme/backend: Fix &lt;the&gt; parser &amp; co (exit 4)");
    expect(body.blocks.map((b) => b.type)).toEqual(["section", "context"]);
    expect(JSON.stringify(body.blocks[1])).toContain("evt_1");
  });
});

describe("signature", () => {
  it("is HMAC-SHA256 of `<timestamp>.<body>` under the hook's secret, as a receiver recomputes it", async () => {
    const secret = newSecret();
    expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    expect(newSecret()).not.toBe(secret);
    const body = '{"id":"evt_1"}';
    const expected = `sha256=${createHmac("sha256", secret).update(`1700000000.${body}`).digest("hex")}`;
    expect(await signature(secret, 1700000000, body)).toBe(expected);
    expect(await signature(secret, 1700000001, body)).not.toBe(expected);
    expect(await signature(`${secret}x`, 1700000000, body)).not.toBe(expected);
  });
});

describe("input", () => {
  it("takes http and https URLs; refuses others, credentials and long ones with INVALID_ARGS", () => {
    expect(checkHookUrl(" https://hooks.example.com/a?b=1 ")).toBe("https://hooks.example.com/a?b=1");
    expect(checkHookUrl("http://127.0.0.1:9000/x")).toBe("http://127.0.0.1:9000/x");
    for (const bad of [
      "ftp://example.com",
      "javascript:alert(1)",
      "not a url",
      "https://u:p@example.com/",
      `https://example.com/${"a".repeat(WEBHOOKS.maxUrl)}`,
    ]) {
      expect(() => checkHookUrl(bad)).toThrow(ToolError);
      try {
        checkHookUrl(bad);
      } catch (e) {
        expect((e as ToolError).code).toBe("INVALID_ARGS");
      }
    }
  });

  it("refuses a hook past the town's cap with CONFLICT", () => {
    expect(() => requireRoomForHook(WEBHOOKS.maxHooks - 1)).not.toThrow();
    expect(() => requireRoomForHook(WEBHOOKS.maxHooks)).toThrow(/at most 10/);
  });
});

describe("retries", () => {
  it("back off 1 s, 2 s, 4 s … capped at 5 minutes, and stop a day after the event", () => {
    expect([1, 2, 3, 4].map(webhookBackoff)).toEqual([1000, 2000, 4000, 8000]);
    expect(webhookBackoff(9)).toBe(256_000);
    expect(webhookBackoff(10)).toBe(300_000);
    expect(webhookBackoff(1000)).toBe(300_000);
    expect(pastDeadline(0, WEBHOOKS.deadlineMs - 1)).toBe(false);
    expect(pastDeadline(0, WEBHOOKS.deadlineMs)).toBe(true);
  });

  it("the outbox schedules a webhook's retry by its own delay", () => {
    const entry: OutboxEntry = { key: "webhook:h:e", kind: "webhook", payload: {}, attempts: 2, nextAttemptAt: 0, createdAt: 0 };
    expect(afterFailure(entry, 10_000, "HTTP 500", undefined, webhookBackoff(3))).toMatchObject({ attempts: 3, nextAttemptAt: 14_000, lastError: "HTTP 500" });
  });

  it("2xx is delivered, 410 turns the hook off, anything else is tried again", () => {
    expect([200, 204, 299].map(classifyWebhookReply)).toEqual(["delivered", "delivered", "delivered"]);
    expect(classifyWebhookReply(410)).toBe("gone");
    expect([301, 400, 404, 429, 500, 503].map(classifyWebhookReply)).toEqual(Array(6).fill("retry"));
  });
});
