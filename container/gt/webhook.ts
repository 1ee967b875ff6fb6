/**
 * `gt webhook add|list|remove|test`: a town-wide operator's outgoing webhooks (town tools). The
 * secret `add` prints is shown this once: the town never shows it again.
 */
import type { Webhook, WebhookAddResult, WebhookTestResult } from "../../party/protocol.ts";
import type { Command } from "./command.ts";
import { GtUsageError } from "./errors.ts";
import { when } from "./output.ts";

/** One hook's line: id, format, URL, and how its last delivery went (or that none was tried yet). */
function hookLine(hook: Webhook): string {
  const status = hook.disabledAt
    ? `off since ${when(hook.disabledAt)}: ${hook.disabledWhy ?? "its receiver answered 410 Gone"}`
    : !hook.last
      ? "no delivery yet"
      : hook.last.ok
        ? `last delivery ok ${when(hook.last.at)}`
        : `failing: ${hook.last.error ?? "error"} (${when(hook.last.at)}, attempt ${hook.last.attempts}${hook.lastOkAt ? `; last ok ${when(hook.lastOkAt)}` : ""})`;
  const extra = [hook.pending ? `${hook.pending} waiting` : "", hook.dropped ? `${hook.dropped} dropped` : ""].filter(Boolean).join(", ");
  return `${hook.id}  ${hook.format}  ${hook.url}\n  ${status}${extra ? `; ${extra}` : ""}`;
}

export const webhookAdd: Command = {
  name: "webhook add",
  usage: "<url> [--format slack|json]",
  summary:
    "add an outgoing webhook to the town (bead failed, escalation opened, agent hung, convoy landed, budget reached, rig in error); prints its signing secret, once",
  tool: "gt_webhook_add",
  operator: true,
  arguments: [["<url>", "where to POST each event: http:// or https://"]],
  options: [["--format <format>", "slack (Slack-compatible {text, blocks}, the default) or json (the plain payload)"]],
  args: (v) => {
    if (v.format !== undefined && v.format !== "slack" && v.format !== "json") throw new GtUsageError(`--format is slack or json, not ${v.format}`);
    return { url: v.url, format: v.format };
  },
  print: (hook: WebhookAddResult) =>
    [
      `webhook ${hook.id} added (${hook.format}): ${hook.url}`,
      `secret: ${hook.secret}`,
      'Keep the secret now: it is shown this once. Each delivery\'s X-Townhall-Signature is sha256=HMAC-SHA256(secret, "<X-Townhall-Timestamp>.<body>").',
    ].join("\n"),
};

export const webhookList: Command = {
  name: "webhook list",
  usage: "[--json]",
  summary: "the town's webhooks and how each one's last delivery went",
  tool: "gt_webhook_list",
  operator: true,
  print: (hooks: Webhook[]) => (hooks.length ? hooks.map(hookLine).join("\n") : "no webhooks (gt webhook add <url>)"),
};

export const webhookRemove: Command = {
  name: "webhook remove",
  usage: "<id>",
  summary: "remove a webhook; its deliveries still waiting are dropped",
  tool: "gt_webhook_remove",
  operator: true,
  arguments: [["<id>", "the webhook's id (gt webhook list)"]],
  args: (v) => ({ id: v.id }),
  print: (result: { removed: string }) => `webhook ${result.removed} removed`,
};

export const webhookTest: Command = {
  name: "webhook test",
  usage: "<id>",
  summary: "send a test event to a webhook now (signed, retried like any delivery); gt webhook list shows how it went",
  tool: "gt_webhook_test",
  operator: true,
  arguments: [["<id>", "the webhook's id (gt webhook list)"]],
  args: (v) => ({ id: v.id }),
  print: (result: WebhookTestResult) => `test delivery ${result.id} queued for webhook ${result.hook}: see gt webhook list`,
};
