/**
 * `gt mail`: send, check, inbox, read, reply; a rig agent's and the Mayor's alike (the Mayor's
 * mailbox is the town's `mayor`). Addresses in Gas Town's form are mapped by address.ts.
 */
import { MAX_SUBJECT } from "../../party/protocol/patterns.ts";
import type { Mail, MailSendResult } from "../../party/protocol.ts";
import { townhallAddress } from "./address.ts";
import { callAgentTool } from "./call.ts";
import type { Command, Values } from "./command.ts";
import { GtUsageError } from "./errors.ts";
import { readStdin } from "./input.ts";
import { when } from "./output.ts";
import { nudgeText, takeNudges } from "./nudge.ts";
import type { Nudge } from "../../party/protocol.ts";

const MAIL_BODY: [string, string][] = [
  ["-m, --message <text>", "the message (- reads it from stdin)"],
  ["--body <text>", "the same as --message (- reads it from stdin)"],
  ["--stdin", "read the message from stdin"],
];

const printSent = (sent: MailSendResult) => `${sent.state} ${sent.id}`;

export const mailSend: Command = {
  name: "mail send",
  usage: "<address> -s <subject> [-m <text> | --stdin]   or   --to <address> --subject <text> [--body <text> | --body -]",
  summary:
    "send mail; prints delivered <id> or queued <id>; the Mayor sends as mayor. Addresses: mayor/ (or mayor), <rig>/<polecat> (or <rig>/polecats/<polecat>), <rig>/witness, <rig>/refinery, --human (or operator)",
  tool: "gt_mail_send",
  arguments: [["[address]", "the recipient (Gas Town's form or Townhall's)"]],
  options: [
    ["--to <address>", "the recipient, instead of <address>"],
    ["--human", "send to the person at the dashboard (operator)"],
    ["-s, --subject <text>", "the subject (required)"],
    ...MAIL_BODY,
  ],
  required: ["subject"],
  args: async (v) => ({ to: recipientOf(v), subject: v.subject, body: await mailBody(v) }),
  print: printSent,
};

export const mailCheck: Command = {
  name: "mail check",
  usage: "[--inject [hook-event]] [--json]",
  summary:
    "print your unread mail, then mark it read (if that fails it is shown again, same ids); the Mayor's is the town's mayor inbox. --inject: for a coding CLI's hook: nothing at all when no mail is new, else a short block the CLI puts in front of the model",
  tool: "gt_mail_check",
  options: [
    [
      "--inject [hook-event]",
      "print nothing when nothing is new, else a short block for the model; with a Claude Code hook event (PostToolUse, PostToolUseFailure, UserPromptSubmit, SessionStart), as that hook's JSON",
    ],
  ],
  args: (v) => {
    if (typeof v.inject === "string" && !HOOK_EVENT_RE.test(v.inject))
      throw new GtUsageError(`--inject takes a hook event's name (e.g. PostToolUse), got ${JSON.stringify(v.inject)}`);
    return {};
  },
  print: (mail: Mail[], _env, values) => {
    if (values.inject !== undefined) return injected(mail, typeof values.inject === "string" ? values.inject : null, takeNudges());
    return mail.length ? mail.map(printMail).join("\n\n") : "no new mail";
  },
};

/** A hook event's name as Claude Code writes it (PostToolUse, SessionStart, …). */
const HOOK_EVENT_RE = /^[A-Z][A-Za-z]{1,40}$/;
/** Of each mail's body, what an injected block shows (the rest: gt mail read <id>). */
const INJECTED_BODY_CHARS = 2_000;

/**
 * What `gt mail check --inject` prints: nothing when no mail is new and no nudge came; else a short
 * block that a coding CLI's hook puts in front of the model (after each tool call, for Claude Code:
 * the per-run settings of container/presets/claude.ts). `hookEvent`: the block as that Claude Code
 * hook's JSON (`hookSpecificOutput.additionalContext`: a PostToolUse hook's plain stdout never
 * reaches the model). `nudges`: the witness's, which rode on this very call's reply (nudge.ts).
 */
export function injected(mail: readonly Mail[], hookEvent: string | null, nudges: readonly Nudge[] = []): string {
  const block = injectedBlock(mail, nudges);
  if (!block) return "";
  return hookEvent ? JSON.stringify({ hookSpecificOutput: { hookEventName: hookEvent, additionalContext: block } }) : block;
}

/** The block itself (empty when there is nothing to show): the nudges first (the witness is waiting on an answer), then the mail. */
export function injectedBlock(mail: readonly Mail[], nudges: readonly Nudge[] = []): string {
  if (!mail.length && !nudges.length) return "";
  const lines: string[] = [];
  for (const nudge of nudges)
    lines.push(nudgeText(nudge), "Answer it by going on with your bead (any gt call or tool use shows you are alive), or gt escalate if you are stuck.");
  if (mail.length) {
    if (lines.length) lines.push("");
    lines.push(`New mail for you (${mail.length}), now marked read; gt mail read <id> shows one again:`);
    for (const m of mail) {
      const body = m.body.trimEnd();
      const cut = body.length > INJECTED_BODY_CHARS ? `${body.slice(0, INJECTED_BODY_CHARS)}\n… (cut: gt mail read ${m.id} shows it whole)` : body;
      lines.push("", printMail({ ...m, body: cut }));
    }
  }
  return lines.join("\n");
}

export const mailInbox: Command = {
  name: "mail inbox",
  usage: "[-u | --unread] [--json]",
  summary: "list your unread mail, numbered, without marking it read (gt mail read <id> or <n> shows one)",
  tool: "gt_mail_check",
  options: [
    ["-u, --unread", "only unread mail (the inbox lists only unread mail anyway)"],
    ["-a, --all", "refused: read mail is not listed (gt mail read <id> still shows it)"],
  ],
  args: (v) => {
    if (v.all) throw new GtUsageError("the inbox lists unread mail only; a mail read already is shown by gt mail read <id>");
    return {};
  },
  acknowledge: () => [],
  print: printInbox,
};

export const mailRead: Command = {
  name: "mail read",
  usage: "<id | n> [--json]",
  summary: "print one mail whole (by id, or by its number in gt mail inbox), then mark it read",
  tool: "gt_mail_read",
  arguments: [["<id>", "the mail's id, or its number in gt mail inbox (1 is the oldest)"]],
  args: (v) => ({ id: v.id }),
  call: async (env, args) => {
    const id = String(args.id);
    if (!/^\d+$/.test(id)) return callAgentTool(env, "gt_mail_read", args);
    const inbox = await callAgentTool<Mail[]>(env, "gt_mail_check");
    const mail = inbox[Number(id) - 1];
    if (!mail) throw new GtUsageError(`no mail number ${id}: the inbox has ${inbox.length} unread (gt mail inbox)`);
    return mail;
  },
  acknowledge: (mail: Mail) => [mail],
  print: printMail,
};

export const mailReply: Command = {
  name: "mail reply",
  usage: "<id> [message] [-m <text> | --stdin] [-s <subject>]",
  summary: "answer a mail to its sender, subject Re: <its subject>; prints delivered <id> or queued <id>",
  tool: "gt_mail_send",
  arguments: [
    ["<id>", "the mail to answer"],
    ["[message]", "the answer (or -m, --stdin)"],
  ],
  options: [["-s, --subject <text>", "the subject (default: Re: <the mail's subject>)"], ...MAIL_BODY],
  args: async (v) => {
    if (v.message !== undefined && v.text !== undefined) throw new GtUsageError("give the answer once: [message] or -m, not both");
    return { id: v.id, subject: v.subject, body: await mailBody({ ...v, message: v.message ?? v.text }) };
  },
  call: async (env, args) => {
    const original = await callAgentTool<Mail>(env, "gt_mail_read", { id: args.id });
    const subject =
      (args.subject as string | undefined) ?? (/^re:/i.test(original.subject) ? original.subject : `Re: ${original.subject}`).slice(0, MAX_SUBJECT);
    return callAgentTool(env, "gt_mail_send", { to: original.from, subject, body: args.body });
  },
  print: printSent,
};

/** The recipient of `gt mail send`: `<address>`, `--to` or `--human`, in Townhall's form. */
function recipientOf(v: Values): string {
  const given = [v.address !== undefined && "<address>", v.to !== undefined && "--to", v.human === true && "--human"].filter(Boolean);
  if (!given.length) throw new GtUsageError("missing the recipient: gt mail send <address> (or --to <address>, or --human)");
  if (given.length > 1) throw new GtUsageError(`give one recipient: ${given.join(" or ")}`);
  if (v.human) return "operator";
  const mapped = townhallAddress(v.address ?? v.to);
  if ("error" in mapped) throw new GtUsageError(mapped.error);
  return mapped.address;
}

/** The body of a mail: -m/--message, --body (`-` reads stdin) or --stdin; empty when none. */
async function mailBody(v: Values): Promise<string> {
  const given = [v.message !== undefined && "--message", v.body !== undefined && "--body", v.stdin === true && "--stdin"].filter(Boolean);
  if (given.length > 1) throw new GtUsageError(`give the message once: ${given.join(" or ")}`);
  const text: string | undefined = v.message ?? v.body;
  return v.stdin || text === "-" ? readStdin("this reads the message from stdin, which is a terminal: pipe it in") : (text ?? "");
}

export function printMail(mail: Mail): string {
  const lines = [`From: ${mail.from}`, `Subject: ${mail.subject}`, `Date: ${when(mail.sentAt)}`, `Id: ${mail.id}`];
  if (mail.body.trim()) lines.push("", mail.body.trimEnd());
  return lines.join("\n");
}

function printInbox(mail: Mail[]): string {
  if (!mail.length) return "no unread mail";
  const lines = mail.map((m, i) => `${i + 1}. ${m.id} ${when(m.sentAt)} from ${m.from}: ${m.subject}`);
  return [...lines, "", "gt mail read <id> (or its number) shows one whole and marks it read; gt mail check shows them all and marks them read."].join("\n");
}
