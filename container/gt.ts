/**
 * `gt`: the agent's command line into its rig room, or, for the Mayor (GT_AGENT=mayor),
 * into the town room. Every command is one tool (container/gt-mcp.ts: its defaults and retry policy;
 * gt-schemas.ts: its schema); `gt mcp` serves the same tools over MCP on stdio. A command is a rig
 * agent's, the Mayor's, or both (mail); the other mode's commands exit 2. An operator (GT_TOKEN an
 * operator token) also has the dashboard's actions (retry, stop, restart, acknowledge, resolve,
 * move), which `gt mcp` never serves.
 *
 * Results go to stdout, errors to stderr. Exit codes: 0 ok; 2 usage error (command, option or
 * environment); 3 the tool answered an error (`gt: <CODE>: <message>`); 4 the server could not be reached.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { plain, plainJson } from "../party/plain-text.ts";
import { ToolCallError } from "../client/tool-http.ts";
import type { Agent, Bead, BeadMoveResult, ConvoyProgress, DoneResult, Escalation, Mail, MailSendResult, PrimeResult, Rig, SlingResult } from "../party/protocol.ts";
import { acknowledgeMail, callAgentTool, GtUnreachableError, GtUsageError, gtMode, gtTool, readGtEnv, type AgentToolName, type GtEnv, type GtMode } from "./gt-mcp.ts";
import { followOutput, printLog } from "./gt-agent-log.ts";

export const EXIT = { ok: 0, usage: 2, toolError: 3, unreachable: 4 } as const;

type Values = Record<string, string | undefined>;
/** The values of repeatable options, e.g. `--bead a --bead b`. */
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
  /** String options (every command also takes --json and --help). */
  options?: string[];
  /** String options that may be given more than once. */
  repeatable?: string[];
  /** The positional arguments, in order, by name (e.g. `gt convoy status <id>`, `gt bead move <id> <rig>`). */
  positionals?: string[];
  /** The tool field a positional fills, where its name differs (error messages name the positional). */
  fieldOf?: Record<string, string>;
  /** Boolean options, e.g. --follow. */
  flags?: string[];
  /** Instead of the one call: runs on (e.g. --follow), writing as it goes; returns the exit code. */
  stream?: (values: Values & Record<string, unknown>, env: GtEnv) => Promise<number> | null;
  required?: string[];
  /** Tool arguments from the options; what is left undefined gets the tool's default. */
  args?: (values: Values, lists: Lists) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The result for a person or an LLM (`--json` prints the raw value instead). */
  print: (value: any, env: GtEnv) => string;
};

/** The commands, one entry each. */
const COMMANDS: Record<string, Command> = {
  prime: {
    usage: "[--json]",
    summary: "who you are, your hooked bead, your unread mail (not marked read) and your checkpoint",
    tool: "gt_prime",
    mode: "rig",
    print: printPrime,
  },
  "mail send": {
    usage: "--to <address> --subject <text> [--body <text> | --body -]",
    summary: "send mail (--body - reads the body from stdin); prints delivered <id> or queued <id>; the Mayor sends as mayor",
    tool: "gt_mail_send",
    options: ["to", "subject", "body"],
    required: ["to", "subject"],
    args: async (v) => ({ to: v.to, subject: v.subject, body: v.body === "-" ? await readStdin() : (v.body ?? "") }),
    print: (sent: MailSendResult) => `${sent.state} ${sent.id}`,
  },
  "mail check": {
    usage: "[--json]",
    summary: "print your unread mail, then mark it read (if that fails it is shown again, same ids); the Mayor's is the town's mayor inbox",
    tool: "gt_mail_check",
    print: (mail: Mail[]) => (mail.length ? mail.map(printMail).join("\n\n") : "no new mail"),
  },
  "bead status": {
    usage: "[--bead <id>] [--json]",
    summary: "show a bead of this rig (default: your hooked bead, GT_BEAD)",
    tool: "gt_bead_status",
    mode: "rig",
    options: ["bead"],
    args: (v) => ({ bead_id: v.bead }),
    print: printBead,
  },
  done: {
    usage: "[--branch <branch>] [--summary <text>]",
    summary: "hand in your hooked bead for review and merge (default branch: the current git branch)",
    tool: "gt_done",
    mode: "rig",
    options: ["branch", "summary"],
    args: (v) => ({ branch: v.branch, summary: v.summary }),
    print: (done: DoneResult) => `bead ${done.bead_id} is ${done.status}`,
  },
  escalate: {
    usage: "--title <text> --severity <low|medium|high|critical> [--body <text>] [--bead <id>]",
    summary: "ask a person for help (default bead: your hooked bead)",
    tool: "gt_escalate",
    mode: "rig",
    options: ["title", "severity", "body", "bead"],
    required: ["title", "severity"],
    args: (v) => ({ title: v.title, severity: v.severity, body: v.body, bead_id: v.bead }),
    print: (e: Escalation) => `escalated ${e.id} (${e.severity})`,
  },
  checkpoint: {
    usage: "[--data <text> | --data - | < notes]",
    summary: "save your working notes (replacing the last ones); gt prime shows them",
    tool: "gt_checkpoint",
    mode: "rig",
    options: ["data"],
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
    usage: "--title <text> [--body <text>] [--rig <name>] [--requires <cap,cap>] [--priority <low|medium|high|critical>]",
    summary: "create one bead; without --rig the Mayor's distribution picks the rig by capabilities and load; prints slung <bead> to <rig>: <reason>",
    tool: "gt_sling",
    mode: "mayor",
    options: ["title", "body", "rig", "requires", "priority"],
    required: ["title"],
    args: (v) => ({ title: v.title, body: v.body, rig: v.rig, requires: v.requires === undefined ? undefined : splitList(v.requires), priority: v.priority }),
    print: (slung: SlingResult) => `slung ${slung.bead_id} to ${slung.rig}: ${slung.reason}`,
  },
  "convoy create": {
    usage: '--title <text> (--bead "<title>[|requires=a,b][|rig=<name>][|priority=<p>]"… | --file <beads.json | ->)',
    summary: "create a convoy of beads placed across rigs (--file: a JSON array of {title, body?, rig?, requires?, priority?}); prints its id and each bead's rig and reason",
    tool: "gt_convoy_create",
    mode: "mayor",
    options: ["title", "file"],
    repeatable: ["bead"],
    required: ["title"],
    args: async (v, lists) => ({ title: v.title, beads: await convoyBeads(lists.bead ?? [], v.file) }),
    print: (convoy: ConvoyProgress) => printConvoy(convoy),
  },
  "convoy status": {
    usage: "<id>",
    summary: "a convoy's beads, their rigs and reasons, and its progress (done/total overall and per rig)",
    tool: "gt_convoy_status",
    mode: "mayor",
    positionals: ["id"],
    args: (v) => ({ id: v.id }),
    print: (convoy: ConvoyProgress) => printConvoy(convoy),
  },
  "convoy list": {
    usage: "[--status <open|landed|closed>]",
    summary: "the town's convoys, newest first, with their progress",
    tool: "gt_list_convoys",
    mode: "mayor",
    options: ["status"],
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
  "rig status": {
    usage: "<name>",
    summary: "one rig in detail: status, capabilities, load, beads, agents, mail, escalations",
    tool: "gt_rig_status",
    mode: "mayor",
    positionals: ["name"],
    args: (v) => ({ name: v.name }),
    print: printRig,
  },
  // An operator's commands (GT_TOKEN an operator token): the dashboard's actions, the same tools.
  "bead retry": {
    usage: "<id> [--note <text>]",
    summary: "open a failed bead again with its attempts reset; the note goes into its history",
    tool: "gt_bead_retry",
    operator: true,
    positionals: ["id"],
    fieldOf: { id: "bead_id" },
    options: ["note"],
    args: (v) => ({ bead_id: v.id, note: v.note }),
    print: (bead: Bead) => `bead ${bead.id} is ${bead.status} again (attempts ${bead.attempts ?? 0})`,
  },
  "bead move": {
    usage: "<id> <rig> [--from <rig>]",
    summary: "move an unfinished bead to another rig (by name): a new bead there, the old one closed as moved; --from names its rig when the town did not place it",
    tool: "gt_bead_move",
    operator: true,
    positionals: ["id", "rig"],
    fieldOf: { id: "bead_id" },
    options: ["from"],
    args: (v) => ({ bead_id: v.id, rig: v.rig, from: v.from }),
    print: (moved: BeadMoveResult) => `moved bead ${moved.moved_from.bead_id} from ${moved.moved_from.rig} to ${moved.rig} as bead ${moved.bead_id}`,
  },
  "agent stop": {
    usage: "<identity> [--reason <text>]",
    summary: "stop an agent's run; its bead fails (stopped by the operator), to retry or move later",
    tool: "gt_agent_stop",
    operator: true,
    positionals: ["identity"],
    options: ["reason"],
    args: (v) => ({ identity: v.identity, reason: v.reason }),
    print: (agent: Agent) => `${agent.identity} is ${agent.status}${agent.run ? `: run ${agent.run.id} (${agent.run.reason ?? "stop"})` : ""}`,
  },
  "agent restart": {
    usage: "<identity> [--reason <text>]",
    summary: "stop an agent's run; its bead goes back to open without an attempt counted, and is dispatched again",
    tool: "gt_agent_restart",
    operator: true,
    positionals: ["identity"],
    options: ["reason"],
    args: (v) => ({ identity: v.identity, reason: v.reason }),
    print: (agent: Agent) => `${agent.identity} is ${agent.status}${agent.run ? `: run ${agent.run.id} (${agent.run.reason ?? "stop"}); its bead is open again` : ""}`,
  },
  "escalation ack": {
    usage: "<id> [--note <text>]",
    summary: "acknowledge an escalation: someone is on it",
    tool: "gt_escalation_ack",
    operator: true,
    positionals: ["id"],
    options: ["note"],
    args: (v) => ({ id: v.id, note: v.note }),
    print: (e: Escalation) => `escalation ${e.id} ${e.status}${e.note ? `: ${e.note}` : ""}`,
  },
  "escalation resolve": {
    usage: "<id> [--note <text>]",
    summary: "resolve an escalation",
    tool: "gt_escalation_resolve",
    operator: true,
    positionals: ["id"],
    options: ["note"],
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
    positionals: ["identity"],
    options: ["run", "bead", "after", "limit"],
    flags: ["follow"],
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

const OTHER_COMMANDS = [
  ["mcp", "serve your tools over MCP on stdin/stdout (for an LLM agent); the Mayor's tools in Mayor mode"],
  ["help [command]", "show this text"],
] as const;

const namesOf = (mode: GtMode) =>
  Object.entries(COMMANDS)
    .filter(([, c]) => !c.operator && (c.mode ?? mode) === mode)
    .map(([name]) => `gt ${name}`)
    .join(", ");

function usage(): string {
  const lines = ["gt: the Gas Town agent CLI; acts as yourself: in your rig room, or in the town room as the Mayor.", ""];
  const section = (title: string, which: (c: Command) => boolean) => {
    lines.push(title);
    for (const [name, c] of Object.entries(COMMANDS)) if (which(c)) lines.push(`  gt ${name} ${c.usage}`, `      ${c.summary}`);
    lines.push("");
  };
  section("Rig agents:", (c) => c.mode === "rig" && !c.operator);
  section("Operators (GT_TOKEN an operator token, GT_RIG the rig's id):", (c) => c.operator === true);
  section("The Mayor (GT_AGENT=mayor):", (c) => c.mode === "mayor");
  section("Everyone:", (c) => c.mode === undefined && !c.operator);
  section("Operators (GT_TOKEN an operator token; GT_RIG the rig to act in, except for bead move):", (c) => c.operator === true);
  for (const [name, summary] of OTHER_COMMANDS) lines.push(`  gt ${name}`, `      ${summary}`);
  lines.push(
    "",
    "Every command takes --json (print the raw result) and --help.",
    "Addresses: mayor, operator, <rig>/witness, <rig>/refinery, <rig>/polecats/<name>.",
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
// Running

/** `after`: runs once stdout was written (e.g. acknowledging the mail it printed); returns a warning or null. */
type Outcome = { code: number; stdout?: string; stderr?: string; after?: () => Promise<string | null> };

const lookup = (name: string): Command | undefined => (Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined);

async function run(argv: string[]): Promise<Outcome> {
  const [first, second] = argv;
  if (first === undefined) return { code: EXIT.usage, stderr: usage() };
  if (first === "help" || first === "--help" || first === "-h") {
    const topic = argv.slice(1).join(" ");
    const command = lookup(topic);
    return { code: EXIT.ok, stdout: command ? `gt ${topic} ${command.usage}\n  ${command.summary}` : usage() };
  }
  if (first === "mcp") {
    if (argv.length > 1) return usageError(`takes no arguments, got ${argv.slice(1).join(" ")}`, "mcp");
    let env: GtEnv;
    try {
      env = readGtEnv();
    } catch (error) {
      if (error instanceof GtUsageError) return usageError(error.message, "mcp");
      throw error;
    }
    const { startMcpServer } = await import("./gt-mcp-server.ts"); // the MCP SDK and zod: for gt mcp only
    await startMcpServer(env);
    return { code: -1 }; // keeps serving until stdin closes
  }
  const name = second !== undefined && lookup(`${first} ${second}`) ? `${first} ${second}` : first;
  const command = lookup(name);
  if (!command) {
    const near = Object.keys(COMMANDS).filter((n) => n.startsWith(`${first} `));
    return usageError(`unknown command ${JSON.stringify(argv.slice(0, near.length ? 2 : 1).join(" "))}${near.length ? ` (try ${near.map((n) => `gt ${n}`).join(", ")})` : ""}`);
  }
  const rest = argv.slice(name.split(" ").length);
  let values: Values & { json?: boolean; help?: boolean };
  const lists: Lists = {};
  try {
    const options = {
      ...Object.fromEntries((command.options ?? []).map((o) => [o, { type: "string" as const }])),
      ...Object.fromEntries((command.repeatable ?? []).map((o) => [o, { type: "string" as const, multiple: true as const }])),
      ...Object.fromEntries((command.flags ?? []).map((o) => [o, { type: "boolean" as const }])),
    };
    const positionals = command.positionals ?? [];
    const parsed = parseArgs({
      args: rest,
      options: { ...options, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: positionals.length > 0,
    });
    values = parsed.values as typeof values;
    for (const o of command.repeatable ?? []) {
      lists[o] = (values as Record<string, unknown>)[o] as string[] | undefined ?? [];
      delete values[o];
    }
    if (!values.help && positionals.length) {
      const wanted = positionals.map((p) => `<${p}>`).join(" ");
      if (parsed.positionals.length > positionals.length) throw new Error(`takes ${wanted}, got ${parsed.positionals.join(" ")}`);
      if (parsed.positionals.length < positionals.length) throw new Error(`missing ${positionals.slice(parsed.positionals.length).map((p) => `<${p}>`).join(" ")}`);
      positionals.forEach((p, i) => (values[p] = parsed.positionals[i]));
    }
  } catch (error) {
    return usageError((error as Error).message, name);
  }
  if (values.help) return { code: EXIT.ok, stdout: `gt ${name} ${command.usage}\n  ${command.summary}` };
  const mode = gtMode();
  if (!command.operator && command.mode && command.mode !== mode) {
    return usageError(
      mode === "mayor"
        ? `this is a rig agent's command, and you are the Mayor (GT_AGENT=mayor). Your commands: ${namesOf("mayor")}`
        : `this is the Mayor's command (GT_AGENT=mayor), and you are a rig agent${process.env.GT_AGENT ? ` (GT_AGENT=${process.env.GT_AGENT})` : ""}; ask the Mayor: gt mail send --to mayor`,
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
    const value = await callAgentTool(env, command.tool, args);
    const stdout = values.json ? plainJson(value) : command.print(value, env);
    const handedOut = gtTool(env, command.tool)?.tool.acknowledges ? (value as { id: string }[]) : [];
    return { code: EXIT.ok, stdout, ...(handedOut.length ? { after: () => acknowledgeMail(env, handedOut) } : {}) };
  } catch (error) {
    if (error instanceof GtUsageError) return usageError(flagNames(error, command), name);
    if (error instanceof ToolCallError) return { code: EXIT.toolError, stderr: `gt: ${error.message}` };
    if (error instanceof GtUnreachableError) return { code: EXIT.unreachable, stderr: `gt: ${error.message}` };
    throw error;
  }
}

function usageError(message: string, command?: string): Outcome {
  const usageLine = command && lookup(command) ? `usage: gt ${command} ${lookup(command)!.usage}` : "run gt help for the commands";
  return { code: EXIT.usage, stderr: `gt${command ? ` ${command}` : ""}: ${message}\n${usageLine}` };
}

/** `bead_id: must be a ULID; title: …` → `--bead: must be a ULID; --title: …` (`<id>:` for a positional argument). */
function flagNames({ message, fields }: GtUsageError, command: Command): string {
  const positionalOf = new Map((command.positionals ?? []).map((p) => [command.fieldOf?.[p] ?? p, p]));
  const label = (field: string) => (positionalOf.has(field) ? `<${positionalOf.get(field)}>` : `--${(command.options ?? []).includes(field) ? field : (FLAG_OF_FIELD[field] ?? field)}`);
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
    "Next: do the work in this worktree and commit it, then run gt done. Blocked: gt escalate --title <t> --severity <s>.",
    "Save notes with gt checkpoint --data <text>; talk to others with gt mail send --to <address> --subject <s> --body <b>.",
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

// ------------------------------------------------------------------------------------------------

/** Everything gt prints goes through here, made plain: most of it came from the rooms (party/plain-text.ts). */
function write(stream: NodeJS.WriteStream, raw: string | undefined): Promise<void> {
  if (!raw) return Promise.resolve();
  const text = plain(raw);
  return new Promise((resolve) => stream.write(text.endsWith("\n") ? text : `${text}\n`, () => resolve()));
}

run(process.argv.slice(2)).then(
  async (outcome) => {
    if (outcome.code < 0) return; // the MCP server runs on
    await write(process.stdout, outcome.stdout);
    await write(process.stderr, outcome.stderr);
    const problem = await outcome.after?.();
    if (problem) await write(process.stderr, `gt: ${problem}`);
    process.exit(outcome.code);
  },
  async (error: unknown) => {
    await write(process.stderr, `gt: internal error: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(1);
  },
);
