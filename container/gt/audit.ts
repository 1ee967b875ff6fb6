/**
 * `gt audit`: an operator reads who did what, newest first: a rig's trail (its beads, agents,
 * escalations and mail) when a rig is named (GT_RIG_ID or GT_RIG), else the town's (slings, convoys,
 * rigs, budgets, links, town mail); `--town` asks for the town's either way.
 */
import type { AuditEntry, AuditPage } from "../../party/protocol.ts";
import { callAgentTool } from "./call.ts";
import type { Command } from "./command.ts";
import { numberOption } from "./input.ts";

/** `#12 2026-12-08 05:01:02Z ada (operator ada-laptop-1): retried bead "X" — note: flaky`. */
export function auditLine(e: AuditEntry): string {
  const when = new Date(e.at)
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace("T", " ");
  const who = `${e.who.sub} (${e.who.role} ${e.who.jti}${e.who.rig ? `, rig ${e.who.rig}` : ""})`;
  return `#${e.seq} ${when} ${who}: ${e.text}${e.note ? ` — note: ${e.note}` : ""}`;
}

export function printAudit(page: AuditPage): string {
  const lines = page.entries.length ? page.entries.map(auditLine) : ["no actions recorded" + (page.dropped ? " that are still kept" : "")];
  if (page.older !== null) lines.push(`older: gt audit --before ${page.older}`);
  else if (page.dropped) lines.push(`older actions are not kept (the last ${page.kept} are)`);
  return lines.join("\n");
}

export const audit: Command = {
  name: "audit",
  usage: "[--bead <id>] [--agent <identity>] [--town] [--before <seq>] [--limit <n>]",
  summary: "who did what (operators' actions with their notes), newest first: the rig's (GT_RIG_ID or GT_RIG) or, without a rig or with --town, the town's",
  tool: "gt_audit",
  operator: true,
  options: [
    ["--bead <id>", "only actions on this bead"],
    ["--agent <identity>", "only actions on this agent, e.g. alpha/polecats/toast"],
    ["--town", "the town's trail (slings, convoys, rigs, budgets, links), even with a rig set"],
    ["--before <seq>", "the page older than this entry (as the last line says)"],
    ["--limit <n>", "at most this many entries (1 to 200, default 50)"],
  ],
  args: (v) => ({ bead_id: v.bead, agent: v.agent, before: numberOption(v.before), limit: numberOption(v.limit), town: v.town ? true : undefined }),
  call: (env, { town, ...args }) => callAgentTool(env, "gt_audit", args, env.rig && !town ? "rig" : "town"),
  print: printAudit,
};
