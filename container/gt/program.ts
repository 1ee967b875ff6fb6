/**
 * `gt`'s command tree: every command is one entry of COMMANDS, built into a commander program, so
 * each subcommand and group has `--help`/`-h` (exit 0), option aliases (`-s`/`--subject`) and
 * positional arguments. Beside Townhall's own forms it takes the forms Gas Town's agents write
 * (`gt mail send <address> -s … -m …`, `gt mail inbox`, `gt mail read <id>`, `gt hook`,
 * `gt escalate "<description>"`, `gt sling <bead> <rig>`, `gt convoy create <name> <bead…>`);
 * docs/gt.md has the table. `run` parses and calls, and returns what to print and the exit code;
 * container/gt.ts is the process around it (and `gt mcp`).
 *
 * A command is a rig agent's, the Mayor's, or both (mail); the other mode's commands exit 2. An
 * operator (GT_TOKEN an operator token) also has the dashboard's actions (retry, stop, restart,
 * acknowledge, resolve, move), which `gt mcp` never serves.
 *
 * Exit codes: 0 ok; 2 usage error (command, option or environment); 3 the tool answered an error
 * (`gt: <CODE>: <message>`); 4 the server could not be reached.
 */
import { readFile } from "node:fs/promises";
import { Command as Program, CommanderError, Option } from "commander";
import { plain, plainJson } from "../../party/plain-text.ts";
import { ToolCallError } from "../../client/tool-http.ts";
import { MAX_SUBJECT, ULID_RE } from "../../party/patterns.ts";
import type { Agent, Bead, BeadMoveResult, ConvoyProgress, DoneResult, Escalation, Mail, MailSendResult, PrimeResult, Rig, SlingResult } from "../../party/protocol.ts";
import { acknowledgeMail, callAgentTool } from "./call.ts";
import { gtMode, readGtEnv, type GtEnv, type GtMode } from "./env.ts";
import { GtUnreachableError, GtUsageError } from "./errors.ts";
import { gtTool, type AgentToolName } from "./tools.ts";
import { followOutput, printLog } from "./agent-log.ts";
import { townhallAddress } from "./address.ts";

export const EXIT = { ok: 0, usage: 2, toolError: 3, unreachable: 4 } as const;

/** Option values by name (commander's: strings, or true for a flag) and positional arguments by name. */
type Values = Record<string, any>;
/** The values of repeatable options and variadic arguments, e.g. `--bead a --bead b`. */
type Lists = Record<string, string[]>;

type Command = {
  /** What follows `gt <name>` in the usage text. */
  usage: string;
  summary: string;
  tool: AgentToolName;
  /** Whose command it is: a rig agent's, the Mayor's (GT_AGENT=mayor); both when absent. */
  mode?: GtMode;
  /** An operator's command (GT_TOKEN an operator token), in either mode. */
  operator?: true;
  /** Options in commander's syntax with their help line (every command also takes --json and --help). */
  options?: [flags: string, description: string][];
  /** Options that may be given more than once (their values go to `lists`). */
  repeatable?: [flags: string, description: string][];
  /** Positional arguments in commander's syntax (`<id>`, `[address]`, `[beads...]`) with their help line. */
  arguments?: [syntax: string, description: string][];
  /** The tool field a positional fills, where its name differs (error messages name the positional). */
  fieldOf?: Record<string, string>;
  /** Instead of the one call: runs on (e.g. --follow), writing as it goes; returns the exit code. */
  stream?: (values: Values, env: GtEnv) => Promise<number> | null;
  /** Options that must be given (by name). */
  required?: string[];
  /** Another command to run instead, with its values (e.g. `gt sling <bead> <rig>` is `gt bead move`). */
  redirect?: (values: Values, lists: Lists) => { command: string; values: Values } | null;
  /** Tool arguments from the options; what is left undefined gets the tool's default. */
  args?: (values: Values, lists: Lists) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Instead of the one call of `tool` (e.g. `gt mail reply` reads, then sends). */
  call?: (env: GtEnv, args: Record<string, unknown>) => Promise<unknown>;
  /** The mail to mark read once the result is printed; default: the result, if the tool hands out mail. */
  acknowledge?: (value: any) => { id: string }[];
  /** What --json prints; default: the tool's value. */
  json?: (value: any) => unknown;
  /** The result for a person or an LLM (`--json` prints the raw value instead). */
  print: (value: any, env: GtEnv) => string;
};

const MAIL_BODY: [string, string][] = [
  ["-m, --message <text>", "the message (- reads it from stdin)"],
  ["--body <text>", "the same as --message (- reads it from stdin)"],
  ["--stdin", "read the message from stdin"],
];

/** The commands, one entry each. */
const COMMANDS: Record<string, Command> = {
  prime: {
    usage: "[--json]",
    summary: "who you are, your hooked bead, your unread mail (not marked read) and your checkpoint",
    tool: "gt_prime",
    mode: "rig",
    print: printPrime,
  },
  hook: {
    usage: "[--json]",
    summary: "your hooked bead (your task), as gt prime shows it; --json prints the bead, or null",
    tool: "gt_prime",
    mode: "rig",
    json: (prime: PrimeResult) => prime.hook,
    print: (prime: PrimeResult) => printHook(prime.hook),
  },
  "mail send": {
    usage: '<address> -s <subject> [-m <text> | --stdin]   or   --to <address> --subject <text> [--body <text> | --body -]',
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
    print: (sent: MailSendResult) => `${sent.state} ${sent.id}`,
  },
  "mail check": {
    usage: "[--json]",
    summary: "print your unread mail, then mark it read (if that fails it is shown again, same ids); the Mayor's is the town's mayor inbox",
    tool: "gt_mail_check",
    print: (mail: Mail[]) => (mail.length ? mail.map(printMail).join("\n\n") : "no new mail"),
  },
  "mail inbox": {
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
  },
  "mail read": {
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
  },
  "mail reply": {
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
      const subject = (args.subject as string | undefined) ?? (/^re:/i.test(original.subject) ? original.subject : `Re: ${original.subject}`).slice(0, MAX_SUBJECT);
      return callAgentTool(env, "gt_mail_send", { to: original.from, subject, body: args.body });
    },
    print: (sent: MailSendResult) => `${sent.state} ${sent.id}`,
  },
  "bead status": {
    usage: "[--bead <id>] [--json]",
    summary: "show a bead of this rig (default: your hooked bead, GT_BEAD)",
    tool: "gt_bead_status",
    mode: "rig",
    options: [["--bead <id>", "the bead (default: GT_BEAD)"]],
    args: (v) => ({ bead_id: v.bead }),
    print: printBead,
  },
  done: {
    usage: "[--branch <branch>] [--summary <text>]",
    summary: "hand in your hooked bead for review and merge (default branch: the current git branch)",
    tool: "gt_done",
    mode: "rig",
    options: [
      ["--branch <branch>", "the branch holding your commits (default: the current git branch)"],
      ["--summary <text>", "what you changed, for the reviewer"],
    ],
    args: (v) => ({ branch: v.branch, summary: v.summary }),
    print: (done: DoneResult) => `bead ${done.bead_id} is ${done.status}`,
  },
  escalate: {
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
  },
  checkpoint: {
    usage: "[--data <text> | --data - | < notes]",
    summary: "save your working notes (replacing the last ones); gt prime shows them",
    tool: "gt_checkpoint",
    mode: "rig",
    options: [["--data <text>", "the notes (- or none: read them from stdin)"]],
    args: async (v) => {
      if (v.data !== undefined && v.data !== "-") return { data: v.data };
      const data = await readStdin("give --data <text> or pipe the notes on stdin");
      // Saving nothing by accident (stdin was /dev/null) would wipe the notes: clearing takes --data "".
      if (v.data === undefined && data === "") throw new GtUsageError('no notes on stdin: give --data <text>, or --data "" to clear them');
      return { data };
    },
    print: () => "checkpoint saved",
  },
  // The Mayor's commands (GT_AGENT=mayor), in the town room.
  sling: {
    usage: "--title <text> [--body <text>] [--rig <name>] [--requires <cap,cap>] [--priority <low|medium|high|critical>]   or   <bead> <rig> [--from <rig>] (an operator's move)",
    summary:
      "create one bead; without --rig the Mayor's distribution picks the rig by capabilities and load; prints slung <bead> to <rig>: <reason>. " +
      "gt sling <bead> <rig> moves an existing bead to that rig instead (gt bead move: an operator's action)",
    tool: "gt_sling",
    mode: "mayor",
    arguments: [
      ["[bead]", "an existing bead to move (with <rig>)"],
      ["[target]", "the rig to move it to"],
    ],
    options: [
      ["--title <text>", "what is to be done, in one line"],
      ["--body <text>", "the details the worker needs"],
      ["--rig <name>", "the rig to place it in (default: the Mayor's distribution picks)"],
      ["--requires <caps>", "capabilities the rig must have, comma-separated"],
      ["--priority <priority>", "low, medium (default), high or critical"],
      ["--from <rig>", "with <bead> <rig>: the bead's rig, when the town did not place it"],
    ],
    redirect: (v) => {
      if (v.bead === undefined) {
        if (v.from !== undefined) throw new GtUsageError("--from goes with gt sling <bead> <rig> (moving a bead)");
        return null;
      }
      const creating = ["title", "body", "rig", "requires", "priority"].filter((o) => v[o] !== undefined);
      if (creating.length) throw new GtUsageError(`gt sling <bead> <rig> moves an existing bead; ${creating.map((o) => `--${o}`).join(", ")} create a new one: not both`);
      if (v.target === undefined) throw new GtUsageError("gt sling <bead> needs the rig to move it to: gt sling <bead> <rig> (a bead is not slung to an agent: its rig dispatches it)");
      if (String(v.target).includes("/")) throw new GtUsageError(`${v.target}: give a rig's name; a bead is not slung to an agent (its rig dispatches it)`);
      return { command: "bead move", values: { id: v.bead, rig: v.target, from: v.from, json: v.json } };
    },
    required: ["title"],
    args: (v) => ({ title: v.title, body: v.body, rig: v.rig, requires: v.requires === undefined ? undefined : splitList(v.requires), priority: v.priority }),
    print: (slung: SlingResult) => `slung ${slung.bead_id} to ${slung.rig}: ${slung.reason}`,
  },
  "convoy create": {
    usage: '<name> <bead>…   or   --title <text> (--bead "<title>[|requires=a,b][|rig=<name>][|priority=<p>]"… | --file <beads.json | ->)',
    summary:
      "create a convoy of new beads placed across rigs (each <bead> or --bead a title, with |requires=…|rig=…|priority=… if wanted; --file: a JSON array of {title, body?, rig?, requires?, priority?}); prints its id and each bead's rig and reason",
    tool: "gt_convoy_create",
    mode: "mayor",
    arguments: [
      ["[name]", "the convoy's name (or --title)"],
      ["[beads...]", "its beads, each as --bead takes it"],
    ],
    options: [
      ["--title <text>", "the convoy's name"],
      ["--file <path>", "the beads as a JSON array (- reads stdin)"],
    ],
    repeatable: [["--bead <spec>", '"<title>[|requires=a,b][|rig=<name>][|priority=<p>]", once per bead']],
    args: async (v, lists) => {
      const title = one(v, ["name", "title"], "missing the convoy's name: gt convoy create <name> <bead>… (or --title <text>)");
      const specs = [...(lists.bead ?? []), ...(lists.beads ?? [])];
      const existing = specs.find((spec) => ULID_RE.test(spec.trim()));
      if (existing) throw new GtUsageError(`${existing} is a bead id: a convoy creates its beads, so give each one's title (moving an existing bead: gt sling <bead> <rig>)`);
      return { title, beads: await convoyBeads(specs, v.file) };
    },
    print: (convoy: ConvoyProgress) => printConvoy(convoy),
  },
  "convoy status": {
    usage: "<id>",
    summary: "a convoy's beads, their rigs and reasons, and its progress (done/total overall and per rig)",
    tool: "gt_convoy_status",
    mode: "mayor",
    arguments: [["<id>", "the convoy's id"]],
    args: (v) => ({ id: v.id }),
    print: (convoy: ConvoyProgress) => printConvoy(convoy),
  },
  "convoy list": {
    usage: "[--status <open|landed|closed>]",
    summary: "the town's convoys, newest first, with their progress",
    tool: "gt_list_convoys",
    mode: "mayor",
    options: [["--status <status>", "only convoys open, landed or closed"]],
    args: (v) => ({ status: v.status }),
    print: (convoys: ConvoyProgress[]) => (convoys.length ? convoys.map(printConvoyLine).join("\n") : "no convoys"),
  },
  rigs: {
    usage: "[--json]",
    summary: "the town's rigs: status, capabilities and load (active beads per polecat), bead and agent counts",
    tool: "gt_list_rigs",
    mode: "mayor",
    print: (rigs: Rig[]) => (rigs.length ? rigs.map(printRigLine).join("\n") : "no rigs in this town yet (an operator adds them)"),
  },
  "rig list": {
    usage: "[--json]",
    summary: "the same as gt rigs",
    tool: "gt_list_rigs",
    mode: "mayor",
    print: (rigs: Rig[]) => (rigs.length ? rigs.map(printRigLine).join("\n") : "no rigs in this town yet (an operator adds them)"),
  },
  "rig status": {
    usage: "<name>",
    summary: "one rig in detail: status, capabilities, load, beads, agents, mail, escalations",
    tool: "gt_rig_status",
    mode: "mayor",
    arguments: [["<name>", "the rig's name"]],
    args: (v) => ({ name: v.name }),
    print: printRig,
  },
  // An operator's commands (GT_TOKEN an operator token): the dashboard's actions, the same tools.
  "bead retry": {
    usage: "<id> [--note <text>]",
    summary: "open a failed bead again with its attempts reset; the note goes into its history",
    tool: "gt_bead_retry",
    operator: true,
    arguments: [["<id>", "the bead's id"]],
    fieldOf: { id: "bead_id" },
    options: [["--note <text>", "why, for the bead's history"]],
    args: (v) => ({ bead_id: v.id, note: v.note }),
    print: (bead: Bead) => `bead ${bead.id} is ${bead.status} again (attempts ${bead.attempts ?? 0})`,
  },
  "bead move": {
    usage: "<id> <rig> [--from <rig>]",
    summary: "move an unfinished bead to another rig (by name): a new bead there, the old one closed as moved; --from names its rig when the town did not place it",
    tool: "gt_bead_move",
    operator: true,
    arguments: [
      ["<id>", "the bead's id"],
      ["<rig>", "the rig to move it to"],
    ],
    fieldOf: { id: "bead_id" },
    options: [["--from <rig>", "the bead's rig, when the town did not place it"]],
    args: (v) => ({ bead_id: v.id, rig: v.rig, from: v.from }),
    print: (moved: BeadMoveResult) => `moved bead ${moved.moved_from.bead_id} from ${moved.moved_from.rig} to ${moved.rig} as bead ${moved.bead_id}`,
  },
  "agent stop": {
    usage: "<identity> [--reason <text>]",
    summary: "stop an agent's run; its bead fails (stopped by the operator), to retry or move later",
    tool: "gt_agent_stop",
    operator: true,
    arguments: [["<identity>", "the agent, e.g. alpha/polecats/toast"]],
    options: [["--reason <text>", "why, for the run's record"]],
    args: (v) => ({ identity: v.identity, reason: v.reason }),
    print: (agent: Agent) => `${agent.identity} is ${agent.status}${agent.run ? `: run ${agent.run.id} (${agent.run.reason ?? "stop"})` : ""}`,
  },
  "agent restart": {
    usage: "<identity> [--reason <text>]",
    summary: "stop an agent's run; its bead goes back to open without an attempt counted, and is dispatched again",
    tool: "gt_agent_restart",
    operator: true,
    arguments: [["<identity>", "the agent, e.g. alpha/polecats/toast"]],
    options: [["--reason <text>", "why, for the run's record"]],
    args: (v) => ({ identity: v.identity, reason: v.reason }),
    print: (agent: Agent) => `${agent.identity} is ${agent.status}${agent.run ? `: run ${agent.run.id} (${agent.run.reason ?? "stop"}); its bead is open again` : ""}`,
  },
  "escalation ack": {
    usage: "<id> [--note <text>]",
    summary: "acknowledge an escalation: someone is on it",
    tool: "gt_escalation_ack",
    operator: true,
    arguments: [["<id>", "the escalation's id"]],
    options: [["--note <text>", "a note for the agent and the dashboard"]],
    args: (v) => ({ id: v.id, note: v.note }),
    print: (e: Escalation) => `escalation ${e.id} ${e.status}${e.note ? `: ${e.note}` : ""}`,
  },
  "escalation resolve": {
    usage: "<id> [--note <text>]",
    summary: "resolve an escalation",
    tool: "gt_escalation_resolve",
    operator: true,
    arguments: [["<id>", "the escalation's id"]],
    options: [["--note <text>", "a note for the agent and the dashboard"]],
    args: (v) => ({ id: v.id, note: v.note }),
    print: (e: Escalation) => `escalation ${e.id} ${e.status}${e.note ? `: ${e.note}` : ""}`,
  },
  // Operators' reads of a rig (GT_TOKEN an operator token; the room refuses agents).
  "agent log": {
    usage: "<identity> [--run <run>] [--bead <id>] [--after <seq>] [--limit <n>] [--follow]",
    summary:
      "what an agent printed (stdout and stderr, redacted): its runs, newest first, and the lines of one (default: its current or latest run; the last 500, or after --after); --follow prints new lines as they come, until that run ends",
    tool: "gt_agent_log",
    mode: "rig",
    operator: true,
    arguments: [["<identity>", "the agent, e.g. alpha/polecats/toast"]],
    options: [
      ["--run <run>", "one run (default: its current or latest)"],
      ["--bead <id>", "its latest run of this bead"],
      ["--after <seq>", "the lines after this one"],
      ["--limit <n>", "at most this many lines"],
      ["--follow", "print new lines as they come, until the run ends"],
    ],
    args: (v) => ({ identity: v.identity, run: v.run, bead_id: v.bead, after: numberOption(v.after), limit: numberOption(v.limit) }),
    stream: (v, env) => {
      if (!v.follow) return null;
      if (v.run !== undefined || v.bead !== undefined || v.after !== undefined) throw new GtUsageError("--follow follows the agent's current run: leave out --run, --bead and --after");
      return followOutput(env, v.identity as string, (text) => write(process.stdout, text), (text) => write(process.stderr, text));
    },
    print: printLog,
  },
};

/** Option names for the tool fields that differ (error messages name the option, not the field). */
const FLAG_OF_FIELD: Record<string, string> = { bead_id: "bead", beads: "bead" };

/** A number option as the tool's schema reads it (a word is NaN, which the schema refuses by name). */
const numberOption = (text: string | undefined): number | undefined => (text === undefined ? undefined : text.trim() === "" ? Number.NaN : Number(text));

/** The one value given of several names for it (e.g. `<description>` or `--title`); `missing` when none is. */
function one(v: Values, names: string[], missing: string): string {
  const given = names.filter((n) => v[n] !== undefined);
  if (given.length > 1) throw new GtUsageError(`give it once: ${given.map((n) => (n === names[0] ? `<${n}>` : `--${n}`)).join(" or ")}`);
  if (!given.length) throw new GtUsageError(missing);
  return v[given[0]!];
}

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

const OTHER_COMMANDS = [
  ["mcp", "serve your tools over MCP on stdin/stdout (for an LLM agent); the Mayor's tools in Mayor mode"],
  ["help [command]", "show this text, or a command's (as gt <command> --help does)"],
] as const;

const namesOf = (mode: GtMode) =>
  Object.entries(COMMANDS)
    .filter(([, c]) => !c.operator && (c.mode ?? mode) === mode)
    .map(([name]) => `gt ${name}`)
    .join(", ");

export function usage(): string {
  const lines = ["gt: the Gas Town agent CLI; acts as yourself: in your rig room, or in the town room as the Mayor.", ""];
  const section = (title: string, which: (c: Command) => boolean) => {
    lines.push(title);
    for (const [name, c] of Object.entries(COMMANDS)) if (which(c)) lines.push(`  gt ${name} ${c.usage}`, `      ${c.summary}`);
    lines.push("");
  };
  section("Rig agents:", (c) => c.mode === "rig" && !c.operator);
  section("The Mayor (GT_AGENT=mayor):", (c) => c.mode === "mayor");
  section("Everyone:", (c) => c.mode === undefined && !c.operator);
  section("Operators (GT_TOKEN an operator token; GT_RIG the rig to act in, except for bead move):", (c) => c.operator === true);
  for (const [name, summary] of OTHER_COMMANDS) lines.push(`  gt ${name}`, `      ${summary}`);
  lines.push(
    "",
    "Every command takes --json (print the raw result) and --help (-h). docs/gt.md maps Gas Town's gt verbs onto these.",
    "Addresses: mayor, operator, <rig>/witness, <rig>/refinery, <rig>/polecats/<name>;",
    "Gas Town's mayor/, <rig>/<name> (a polecat) and --human (the operator) work too.",
    "",
    "Environment (set by the container):",
    "  GT_HOST (host:port), GT_TOWN, GT_RIG (rig id), GT_TOKEN (agent token): required",
    "  GT_AGENT (your identity), GT_BEAD (your hooked bead), GT_SECURE=1 (https; default http)",
    "  GT_AGENT=mayor: Mayor mode: calls go to the town room (GT_RIG and GT_BEAD are not used),",
    "  and only the Mayor's commands and the mail commands are available.",
    "",
    "Exit codes: 0 ok, 2 usage error, 3 the tool answered an error (gt: <CODE>: <message>),",
    "4 the server could not be reached (network failures are retried 3 times first).",
  );
  return lines.join("\n");
}

// ------------------------------------------------------------------------------------------------
// The command tree (commander)

/** `after`: runs once stdout was written (e.g. acknowledging the mail it printed); returns a warning or null. */
export type Outcome = { code: number; stdout?: string; stderr?: string; after?: () => Promise<string | null> };

const lookup = (name: string): Command | undefined => (Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined);

/** A positional's name in commander's syntax: `[beads...]` → `beads`. */
const argName = (syntax: string) => syntax.replace(/[<>[\].]/g, "");

type Invocation = { name: string; values: Values; lists: Lists };

/**
 * The commander program for COMMANDS: groups (`mail`, `convoy`, …) and their subcommands, each with
 * its options, positionals, --json and --help. Output is collected in `io`; an action only records
 * what was asked (`io.invoked`), which `run` then executes.
 */
export function program(io: { out: string[]; err: string[]; invoked?: Invocation }): Program {
  const root = new Program("gt")
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.out.push(s), writeErr: (s) => void io.err.push(s), outputError: () => {} })
    .helpCommand(false)
    .showSuggestionAfterError(false);
  const groups = new Map<string, Program>();
  for (const [name, c] of Object.entries(COMMANDS)) {
    const words = name.split(" ");
    let parent = root;
    for (const [i, word] of words.slice(0, -1).entries()) {
      const path = words.slice(0, i + 1).join(" ");
      let group = groups.get(path);
      if (!group) {
        const subs = Object.keys(COMMANDS).filter((n) => n.startsWith(`${path} `));
        group = parent.command(word).description(`${subs.map((n) => `gt ${n}`).join(", ")}`).helpCommand(false);
        groups.set(path, group);
      }
      parent = group;
    }
    const command = parent.command(words.at(-1)!).description(c.summary).usage(c.usage);
    for (const [syntax, description] of c.arguments ?? []) command.argument(syntax, description);
    for (const [flags, description] of c.options ?? []) command.addOption(new Option(flags, description));
    for (const [flags, description] of c.repeatable ?? []) command.addOption(new Option(flags, description).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]));
    command.option("--json", "print the raw result as JSON");
    command.action((...received: unknown[]) => {
      const self = received.at(-1) as Program;
      const values: Values = { ...self.opts() };
      const lists: Lists = {};
      for (const [flags] of c.repeatable ?? []) {
        const key = new Option(flags).attributeName();
        lists[key] = (values[key] as string[] | undefined) ?? [];
        delete values[key];
      }
      (c.arguments ?? []).forEach(([syntax], i) => {
        const value = received[i];
        if (syntax.endsWith("...]") || syntax.endsWith("...>")) lists[argName(syntax)] = (value as string[] | undefined) ?? [];
        else if (value !== undefined) values[argName(syntax)] = value;
      });
      io.invoked = { name, values, lists };
    });
  }
  return root;
}

/** Every command and group of the tree by its words, e.g. `mail`, `mail send` (for help and tests). */
export function commandPaths(): string[] {
  const paths: string[] = [];
  const walk = (command: Program, prefix: string[]) => {
    for (const sub of command.commands as Program[]) {
      const words = [...prefix, sub.name()];
      paths.push(words.join(" "));
      walk(sub, words);
    }
  };
  walk(program({ out: [], err: [] }), []);
  return paths;
}

/** The command of the tree named by `words`, or null. */
function commandAt(root: Program, words: string[]): Program | null {
  let at: Program | undefined = root;
  for (const word of words) at = (at?.commands as Program[] | undefined)?.find((c) => c.name() === word);
  return at ?? null;
}

/** Runs `gt <argv>` (all but `gt mcp`, which container/gt.ts serves): what to print and the exit code. */
export async function run(argv: string[]): Promise<Outcome> {
  const [first] = argv;
  if (first === undefined) return { code: EXIT.usage, stderr: usage() };
  const io: { out: string[]; err: string[]; invoked?: Invocation } = { out: [], err: [] };
  const root = program(io);
  if (first === "help" || first === "--help" || first === "-h") {
    const topic = argv.slice(1);
    if (!topic.length) return { code: EXIT.ok, stdout: usage() };
    const command = commandAt(root, topic);
    return command ? { code: EXIT.ok, stdout: command.helpInformation() } : usageError(`no command ${JSON.stringify(topic.join(" "))}`);
  }
  // The longest known command or group the arguments start with, for error messages.
  const known = commandPaths();
  const words = argv.filter((a) => !a.startsWith("-"));
  let name = "";
  for (let n = 1; n <= words.length && argv[n - 1] === words[n - 1] && known.includes(words.slice(0, n).join(" ")); n++) name = words.slice(0, n).join(" ");
  try {
    root.parse(argv, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === "commander.helpDisplayed") return { code: EXIT.ok, stdout: io.out.join("") };
    if (error.code === "commander.help") return { code: EXIT.usage, stderr: io.err.join("") }; // a group without its subcommand
    if (error.code === "commander.unknownCommand") {
      const near = known.filter((n) => n.startsWith(`${name} `) && !n.slice(name.length + 1).includes(" "));
      const asked = argv.slice(0, name ? name.split(" ").length + 1 : 1).join(" ");
      return usageError(`unknown command ${JSON.stringify(asked)}${near.length ? ` (try ${near.map((n) => `gt ${n}`).join(", ")})` : ""}`);
    }
    const missingArgument = /^error: missing required argument '(.*)'$/.exec(error.message);
    return usageError(missingArgument ? `missing <${missingArgument[1]}>` : error.message.replace(/^error: /, ""), name || undefined);
  }
  if (!io.invoked) return usageError(`unknown command ${JSON.stringify(argv.join(" "))}`);
  return execute(io.invoked);
}

async function execute({ name: asked, values: given, lists }: Invocation): Promise<Outcome> {
  let name = asked;
  let command = lookup(name)!;
  let values = given;
  try {
    const redirect = command.redirect?.(values, lists);
    if (redirect) {
      name = redirect.command;
      command = lookup(name)!;
      values = redirect.values;
    }
  } catch (error) {
    if (error instanceof GtUsageError) return usageError(error.message, asked);
    throw error;
  }
  const mode = gtMode();
  if (!command.operator && command.mode && command.mode !== mode) {
    return usageError(
      mode === "mayor"
        ? `this is a rig agent's command, and you are the Mayor (GT_AGENT=mayor). Your commands: ${namesOf("mayor")}`
        : `this is the Mayor's command (GT_AGENT=mayor), and you are a rig agent${process.env.GT_AGENT ? ` (GT_AGENT=${process.env.GT_AGENT})` : ""}; ask the Mayor: gt mail send mayor/ -s <subject> -m <message>`,
      name,
    );
  }
  const missing = (command.required ?? []).filter((o) => values[o] === undefined);
  if (missing.length) return usageError(`missing ${missing.map((o) => `--${o}`).join(", ")}`, name);

  try {
    // An operator's town command needs no rig; everything else in rig mode acts in GT_RIG.
    const env = readGtEnv(process.env, gtTool({ mode }, command.tool)?.room !== "town");
    const streaming = command.stream?.(values, env);
    if (streaming) return { code: await streaming };
    const args = Object.fromEntries(Object.entries((await command.args?.(values, lists)) ?? {}).filter(([, v]) => v !== undefined));
    const value = command.call ? await command.call(env, args) : await callAgentTool(env, command.tool, args);
    const stdout = values.json ? plainJson(command.json ? command.json(value) : value) : command.print(value, env);
    const handedOut = command.acknowledge ? command.acknowledge(value) : gtTool(env, command.tool)?.tool.acknowledges ? (value as { id: string }[]) : [];
    return { code: EXIT.ok, stdout, ...(handedOut.length ? { after: () => acknowledgeMail(env, handedOut) } : {}) };
  } catch (error) {
    if (error instanceof GtUsageError) return usageError(flagNames(error, command), name);
    if (error instanceof ToolCallError) return { code: EXIT.toolError, stderr: `gt: ${error.message}` };
    if (error instanceof GtUnreachableError) return { code: EXIT.unreachable, stderr: `gt: ${error.message}` };
    throw error;
  }
}

export function usageError(message: string, command?: string): Outcome {
  const usageLine = command && lookup(command) ? `usage: gt ${command} ${lookup(command)!.usage}` : command ? `gt ${command} --help shows its commands` : "run gt help for the commands";
  return { code: EXIT.usage, stderr: `gt${command ? ` ${command}` : ""}: ${message}\n${usageLine}` };
}

/** `bead_id: must be a ULID; title: …` → `--bead: must be a ULID; --title: …` (`<id>:` for a positional argument). */
function flagNames({ message, fields }: GtUsageError, command: Command): string {
  const positionals = (command.arguments ?? []).map(([syntax]) => argName(syntax));
  const options = (command.options ?? []).map(([flags]) => new Option(flags).attributeName());
  const positionalOf = new Map(positionals.map((p) => [command.fieldOf?.[p] ?? p, p]));
  const label = (field: string) => (positionalOf.has(field) ? `<${positionalOf.get(field)}>` : `--${options.includes(field) ? field : (FLAG_OF_FIELD[field] ?? field)}`);
  return message
    .split("; ")
    .map((part) => part.replace(/^(\w+):/, (whole, field: string) => (fields.includes(field) ? `${label(field)}:` : whole)))
    .join("; ");
}

const splitList = (text: string): string[] =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const BEAD_FIELDS = ["requires", "rig", "priority"] as const;

/**
 * The convoy's bead specs: from `--bead "<title>|requires=a,b|rig=<name>|priority=<p>"` options, or
 * from `--file` (a JSON array of {title, body?, rig?, requires?, priority?}; `-` reads stdin).
 * The tool's schema checks the values.
 */
async function convoyBeads(specs: string[], file: string | undefined): Promise<unknown[]> {
  if (specs.length && file !== undefined) throw new GtUsageError("give --bead options or --file, not both");
  if (file !== undefined) {
    let text: string;
    try {
      text = file === "-" ? await readStdin("--file - reads the beads from stdin, which is a terminal: pipe the JSON in") : await readFile(file, "utf8");
    } catch (error) {
      if (error instanceof GtUsageError) throw error;
      throw new GtUsageError(`--file ${file}: ${(error as Error).message}`);
    }
    let beads: unknown;
    try {
      beads = JSON.parse(text);
    } catch (error) {
      throw new GtUsageError(`--file ${file}: not JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(beads)) throw new GtUsageError(`--file ${file}: must hold a JSON array of beads, {title, body?, rig?, requires?, priority?} each`);
    return beads;
  }
  if (!specs.length) throw new GtUsageError('missing --bead "<title>" (one per bead) or --file <beads.json>');
  return specs.map((spec) => {
    const [title = "", ...fields] = spec.split("|");
    const bead: Record<string, unknown> = { title: title.trim() };
    for (const field of fields) {
      const eq = field.indexOf("=");
      const key = field.slice(0, eq).trim();
      const value = field.slice(eq + 1).trim();
      if (eq < 0 || !(BEAD_FIELDS as readonly string[]).includes(key)) {
        throw new GtUsageError(`--bead ${JSON.stringify(spec)}: unknown field ${JSON.stringify(field)} (fields: ${BEAD_FIELDS.map((f) => `${f}=`).join(", ")})`);
      }
      bead[key] = key === "requires" ? splitList(value) : value;
    }
    return bead;
  });
}

async function readStdin(ifTerminal = "this reads stdin, which is a terminal: pipe the text in"): Promise<string> {
  if (process.stdin.isTTY) throw new GtUsageError(ifTerminal);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

// ------------------------------------------------------------------------------------------------
// Printing

const indent = (text: string, by = "  ") => text.replace(/^(?=.)/gm, by);
const when = (at: number | undefined) => (at ? new Date(at).toISOString() : "");

function printPrime(prime: PrimeResult, env: GtEnv): string {
  const { agent, hook, mail } = prime;
  const rig = agent.identity.split("/")[0];
  const out = [`You are ${agent.identity}, the ${agent.role} ${agent.name} of rig ${rig} in town ${env.town} (status: ${agent.status}).`];
  if (env.agent && env.agent !== agent.identity) out.push(`Warning: GT_AGENT says ${env.agent}, but your token acts as ${agent.identity}.`);
  out.push("");
  if (hook) {
    out.push(`Your hooked bead (your task) ${hook.id}: ${hook.title}`);
    out.push(`  status: ${hook.status}, priority: ${hook.priority}${hook.branch ? `, branch: ${hook.branch}` : ""}${hook.requires.length ? `, requires: ${hook.requires.join(", ")}` : ""}`);
    if (hook.body.trim()) out.push("", indent(hook.body.trimEnd()));
  } else {
    out.push("No bead is hooked: nothing is assigned to you right now.");
  }
  out.push("");
  if (mail.length) {
    out.push(`Unread mail (${mail.length}); gt mail check shows it again and marks it read:`);
    for (const m of mail) out.push("", indent(printMail(m)));
  } else {
    out.push("No unread mail.");
  }
  if (prime.checkpoint) out.push("", "Your checkpoint (notes you saved earlier):", indent(prime.checkpoint.trimEnd()));
  out.push(
    "",
    'Next: do the work in this worktree and commit it, then run gt done. Blocked: gt escalate "<what blocks you>" [-s high].',
    'Save notes with gt checkpoint --data <text>; talk to others with gt mail send <address> -s "<subject>" -m "<message>" (mayor/, <rig>/<name>, --human).',
  );
  return out.join("\n");
}

function printMail(mail: Mail): string {
  const lines = [`From: ${mail.from}`, `Subject: ${mail.subject}`, `Date: ${when(mail.sentAt)}`, `Id: ${mail.id}`];
  if (mail.body.trim()) lines.push("", mail.body.trimEnd());
  return lines.join("\n");
}

function printBead(bead: Bead): string {
  const lines = [
    `Bead ${bead.id}: ${bead.title}`,
    `status: ${bead.status}, priority: ${bead.priority}`,
    ...(bead.assignee ? [`assignee: ${bead.assignee}`] : []),
    ...(bead.branch ? [`branch: ${bead.branch}`] : []),
    ...(bead.requires.length ? [`requires: ${bead.requires.join(", ")}`] : []),
    ...(bead.mergeCommit ? [`merged as: ${bead.mergeCommit}`] : []),
    `created: ${when(bead.createdAt)}, updated: ${when(bead.updatedAt)}`,
  ];
  if (bead.body.trim()) lines.push("", bead.body.trimEnd());
  return lines.join("\n");
}

/** A rig's load as the Mayor's distribution counts it: open, in progress and in review beads per polecat slot. */
function loadOf(rig: Rig): string {
  const { open, in_progress, in_review } = rig.summary.beads;
  const active = open + in_progress + in_review;
  return `${(active / rig.maxPolecats).toFixed(2)} (${active} active / ${rig.maxPolecats} polecats)`;
}

const counts = (record: Record<string, number>, none: string) =>
  Object.entries(record)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ") || none;

function printRigLine(rig: Rig): string {
  return [
    `${rig.name}: ${rig.status}; capabilities: ${rig.capabilities.join(", ") || "none"}; load ${loadOf(rig)}`,
    `  beads: ${counts(rig.summary.beads, "none")}; polecats: ${counts(rig.summary.polecats ?? rig.summary.agents, "none")}`,
  ].join("\n");
}

function printRig(rig: Rig): string {
  const s = rig.summary;
  return [
    `Rig ${rig.name} (${rig.id}): ${rig.status}`,
    `capabilities: ${rig.capabilities.join(", ") || "none"}; max polecats: ${rig.maxPolecats}`,
    `load: ${loadOf(rig)}`,
    `beads: ${counts(s.beads, "none")}`,
    `polecats: ${counts(s.polecats ?? s.agents, "none")}`,
    `queued or unread mail: ${s.queuedMail}; open escalations: ${s.openEscalations ?? 0}`,
    ...(s.closedByHour ? [`closed in the last 24 h: ${s.closedByHour.reduce((a, b) => a + b, 0)}`] : []),
    ...(s.attention?.length ? ["needs attention:", ...s.attention.map((a) => `  ${a.kind} ${a.id}: ${a.title} (${a.detail})`)] : []),
    `last activity: ${when(s.lastActivity ?? undefined) || "none"}; disk: ${s.diskBytes === null ? "unknown" : `${s.diskBytes} bytes`}`,
    `git: ${rig.gitUrl} (${rig.defaultBranch})`,
  ].join("\n");
}

const doneOf = (p: { done: number; total: number }) => `${p.done}/${p.total} done`;

function printConvoyLine(convoy: ConvoyProgress): string {
  const byRig = Object.entries(convoy.progress.byRig).map(([rig, p]) => `${rig} ${p.done}/${p.total}`);
  return `${convoy.id} ${convoy.status} ${doneOf(convoy.progress)} ${JSON.stringify(convoy.title)}${byRig.length ? ` (${byRig.join(", ")})` : ""}`;
}

function printConvoy(convoy: ConvoyProgress): string {
  const out = [`Convoy ${convoy.id}: ${convoy.title}`, `status: ${convoy.status}, ${doneOf(convoy.progress)}; created ${when(convoy.createdAt)}${convoy.landedAt ? `, landed ${when(convoy.landedAt)}` : ""}`];
  for (const [rig, p] of Object.entries(convoy.progress.byRig)) {
    out.push("", `${rig}: ${doneOf(p)}`);
    for (const bead of convoy.beads.filter((b) => b.rigName === rig)) {
      out.push(`  ${bead.beadId} [${bead.status}] ${bead.title}${bead.assignee ? ` (${bead.assignee})` : ""}${bead.note ? `: ${bead.note}` : ""}`);
      out.push(`    placed: ${bead.reason}`);
    }
  }
  return out.join("\n");
}

function printHook(hook: Bead | null): string {
  if (!hook) return "Nothing is on your hook: no bead is assigned to you right now.";
  const out = [`Your hooked bead (your task) ${hook.id}: ${hook.title}`];
  out.push(`  status: ${hook.status}, priority: ${hook.priority}${hook.branch ? `, branch: ${hook.branch}` : ""}${hook.requires.length ? `, requires: ${hook.requires.join(", ")}` : ""}`);
  if (hook.body.trim()) out.push("", indent(hook.body.trimEnd()));
  return out.join("\n");
}

function printInbox(mail: Mail[]): string {
  if (!mail.length) return "no unread mail";
  const lines = mail.map((m, i) => `${i + 1}. ${m.id} ${when(m.sentAt)} from ${m.from}: ${m.subject}`);
  return [...lines, "", "gt mail read <id> (or its number) shows one whole and marks it read; gt mail check shows them all and marks them read."].join("\n");
}

// ------------------------------------------------------------------------------------------------

/** Everything gt prints goes through here, made plain: most of it came from the rooms (party/plain-text.ts). */
export function write(stream: NodeJS.WriteStream, raw: string | undefined): Promise<void> {
  if (!raw) return Promise.resolve();
  const text = plain(raw);
  return new Promise((resolve) => stream.write(text.endsWith("\n") ? text : `${text}\n`, () => resolve()));
}
