/**
 * `gt escalate` (a rig agent asks a person for help), `gt escalation list` (the agent reads the
 * answers: the notes on its escalations) and `gt escalation ack|resolve` (an operator answers).
 */
import type { Escalation } from "../../party/protocol.ts";
import { when } from "./output.ts";
import type { Command } from "./command.ts";
import { GtUsageError } from "./errors.ts";
import { one, readStdin } from "./input.ts";

const printEscalation = (e: Escalation) => `escalation ${e.id} ${e.status}${e.note ? `: ${e.note}` : ""}`;

export const escalate: Command = {
  name: "escalate",
  usage: '"<description>" [-s <severity>] [-r <reason>]   or   --title <text> [--severity <low|medium|high|critical>] [--body <text>] [--bead <id>]',
  summary: "ask a person for help (severity default: medium; default bead: your hooked bead)",
  tool: "gt_escalate",
  mode: "rig",
  arguments: [["[description]", "what is wrong, in one line (the escalation's title)"]],
  options: [
    ["--title <text>", "the same as <description>"],
    ["-s, --severity <severity>", "low, medium (default), high or critical (critical: work is blocked)"],
    ["-r, --reason <text>", "the details"],
    ["--body <text>", "the same as --reason"],
    ["--stdin", "read the details from stdin"],
    ["--bead <id>", "the bead it is about (default: your hooked bead)"],
    ["--related <id>", "the same as --bead"],
  ],
  args: async (v) => {
    const title = one(v, ["description", "title"], 'missing the description: gt escalate "<description>" (or --title <text>)');
    const details = [v.reason !== undefined && "--reason", v.body !== undefined && "--body", v.stdin && "--stdin"].filter(Boolean);
    if (details.length > 1) throw new GtUsageError(`give the details once, got ${details.join(" and ")}`);
    if (v.bead !== undefined && v.related !== undefined) throw new GtUsageError("give the bead once: --bead or --related");
    const body = v.stdin ? await readStdin("--stdin reads the details from stdin, which is a terminal: pipe them in") : (v.reason ?? v.body);
    return { title, severity: v.severity, body, bead_id: v.bead ?? v.related };
  },
  print: (e: Escalation) => `escalated ${e.id} (${e.severity})`,
};

export const escalationList: Command = {
  name: "escalation list",
  usage: "[--bead <id>] [--status <open|acknowledged|resolved>] [--json]",
  summary: "your escalations (an operator's token: the rig's), newest first, with the notes written when they were acknowledged or resolved",
  tool: "gt_escalation_list",
  mode: "rig",
  options: [
    ["--bead <id>", "only those about this bead"],
    ["--status <status>", "only open, acknowledged or resolved ones"],
  ],
  args: (v) => ({ bead_id: v.bead, status: v.status }),
  print: (list: Escalation[]) => (list.length ? list.map(printListed).join("\n\n") : "no escalations"),
};

/** One escalation with every note on it (an older record has only its last `note`). */
function printListed(e: Escalation): string {
  const notes = e.notes?.length ? e.notes : e.note ? [{ at: e.acknowledgedAt ?? e.resolvedAt ?? e.createdAt, status: e.status, note: e.note }] : [];
  return [
    `escalation ${e.id} ${e.status} (${e.severity}): ${e.title}`,
    `from ${e.from}${e.beadId ? `, bead ${e.beadId}` : ""}, ${when(e.createdAt)}`,
    ...notes.map((n) => `  ${n.status} ${when(n.at)}: ${n.note}`),
  ].join("\n");
}

export const escalationAck: Command = {
  name: "escalation ack",
  usage: "<id> [--note <text>]",
  summary: "acknowledge an escalation: someone is on it",
  tool: "gt_escalation_ack",
  operator: true,
  arguments: [["<id>", "the escalation's id"]],
  options: [["--note <text>", "a note for the agent and the dashboard"]],
  args: (v) => ({ id: v.id, note: v.note }),
  print: printEscalation,
};

export const escalationResolve: Command = {
  name: "escalation resolve",
  usage: "<id> [--note <text>]",
  summary: "resolve an escalation",
  tool: "gt_escalation_resolve",
  operator: true,
  arguments: [["<id>", "the escalation's id"]],
  options: [["--note <text>", "a note for the agent and the dashboard"]],
  args: (v) => ({ id: v.id, note: v.note }),
  print: printEscalation,
};
