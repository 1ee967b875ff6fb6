/**
 * `gt`: the agent's command line into its rig room (DESIGN §9). Every command is one agent tool
 * (container/gt-mcp.ts holds the tools' schemas, defaults and retry policy); `gt mcp` serves the same
 * tools over MCP on stdio.
 *
 * Results go to stdout, errors to stderr. Exit codes: 0 ok; 2 usage error (command, option or
 * environment); 3 the tool answered an error (`gt: <CODE>: <message>`); 4 the server could not be reached.
 */
import { parseArgs } from "node:util";
import { ToolCallError } from "../client/tools.ts";
import type { Bead, DoneResult, Escalation, Mail, MailSendResult, PrimeResult } from "../party/protocol.ts";
import { AGENT_TOOLS, callAgentTool, GtUnreachableError, GtUsageError, readGtEnv, startMcpServer, type AgentToolName, type GtEnv } from "./gt-mcp.ts";

export const EXIT = { ok: 0, usage: 2, toolError: 3, unreachable: 4 } as const;

type Values = Record<string, string | undefined>;

type Command = {
  /** What follows `gt <name>` in the usage text. */
  usage: string;
  summary: string;
  tool: AgentToolName;
  /** String options (every command also takes --json and --help). */
  options?: string[];
  required?: string[];
  /** Tool arguments from the options; what is left undefined gets the tool's default. */
  args?: (values: Values) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The result for a person or an LLM (`--json` prints the raw value instead). */
  print: (value: any, env: GtEnv) => string;
};

/** The commands, one entry each. */
const COMMANDS: Record<string, Command> = {
  prime: {
    usage: "[--json]",
    summary: "who you are, your hooked bead, your unread mail (not marked read) and your checkpoint",
    tool: "gt_prime",
    print: printPrime,
  },
  "mail send": {
    usage: "--to <address> --subject <text> [--body <text> | --body -]",
    summary: "send mail (--body - reads the body from stdin); prints delivered <id> or queued <id>",
    tool: "gt_mail_send",
    options: ["to", "subject", "body"],
    required: ["to", "subject"],
    args: async (v) => ({ to: v.to, subject: v.subject, body: v.body === "-" ? await readStdin() : (v.body ?? "") }),
    print: (sent: MailSendResult) => `${sent.state} ${sent.id}`,
  },
  "mail check": {
    usage: "[--json]",
    summary: "print your unread mail and mark it read (each mail is shown once)",
    tool: "gt_mail_check",
    print: (mail: Mail[]) => (mail.length ? mail.map(printMail).join("\n\n") : "no new mail"),
  },
  "bead status": {
    usage: "[--bead <id>] [--json]",
    summary: "show a bead of this rig (default: your hooked bead, GT_BEAD)",
    tool: "gt_bead_status",
    options: ["bead"],
    args: (v) => ({ bead_id: v.bead }),
    print: printBead,
  },
  done: {
    usage: "[--branch <branch>] [--summary <text>]",
    summary: "hand in your hooked bead for review and merge (default branch: the current git branch)",
    tool: "gt_done",
    options: ["branch", "summary"],
    args: (v) => ({ branch: v.branch, summary: v.summary }),
    print: (done: DoneResult) => `bead ${done.bead_id} is ${done.status}`,
  },
  escalate: {
    usage: "--title <text> --severity <low|medium|high|critical> [--body <text>] [--bead <id>]",
    summary: "ask a person for help (default bead: your hooked bead)",
    tool: "gt_escalate",
    options: ["title", "severity", "body", "bead"],
    required: ["title", "severity"],
    args: (v) => ({ title: v.title, severity: v.severity, body: v.body, bead_id: v.bead }),
    print: (e: Escalation) => `escalated ${e.id} (${e.severity})`,
  },
  checkpoint: {
    usage: "[--data <text> | --data - | < notes]",
    summary: "save your working notes (replacing the last ones); gt prime shows them",
    tool: "gt_checkpoint",
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
};

/** Option names for the tool fields that differ (error messages name the option, not the field). */
const FLAG_OF_FIELD: Record<string, string> = { bead_id: "bead" };

const OTHER_COMMANDS = [
  ["mcp", "serve these tools over MCP on stdin/stdout (for an LLM agent)"],
  ["help [command]", "show this text"],
] as const;

function usage(): string {
  const lines = ["gt: the Gas Town agent CLI; acts in your rig room as yourself.", "", "Usage:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  gt ${name} ${c.usage}`, `      ${c.summary}`);
  for (const [name, summary] of OTHER_COMMANDS) lines.push(`  gt ${name}`, `      ${summary}`);
  lines.push(
    "",
    "Every command takes --json (print the raw result) and --help.",
    "Addresses: mayor, operator, <rig>/witness, <rig>/refinery, <rig>/polecats/<name>.",
    "",
    "Environment (set by the container):",
    "  GT_HOST (host:port), GT_TOWN, GT_RIG (rig id), GT_TOKEN (agent token): required",
    "  GT_AGENT (your identity), GT_BEAD (your hooked bead), GT_SECURE=1 (https; default http)",
    "",
    "Exit codes: 0 ok, 2 usage error, 3 the tool answered an error (gt: <CODE>: <message>),",
    "4 the server could not be reached (network failures are retried 3 times first).",
  );
  return lines.join("\n");
}

// ------------------------------------------------------------------------------------------------
// Running

type Outcome = { code: number; stdout?: string; stderr?: string };

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
  try {
    const options = Object.fromEntries((command.options ?? []).map((o) => [o, { type: "string" as const }]));
    values = parseArgs({ args: rest, options: { ...options, json: { type: "boolean" }, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: false })
      .values as typeof values;
  } catch (error) {
    return usageError((error as Error).message, name);
  }
  if (values.help) return { code: EXIT.ok, stdout: `gt ${name} ${command.usage}\n  ${command.summary}` };
  const missing = (command.required ?? []).filter((o) => values[o] === undefined);
  if (missing.length) return usageError(`missing ${missing.map((o) => `--${o}`).join(", ")}`, name);

  try {
    const env = readGtEnv();
    const args = Object.fromEntries(Object.entries((await command.args?.(values)) ?? {}).filter(([, v]) => v !== undefined));
    const value = await callAgentTool(env, command.tool, args);
    return { code: EXIT.ok, stdout: values.json ? JSON.stringify(value, null, 2) : command.print(value, env) };
  } catch (error) {
    if (error instanceof GtUsageError) return usageError(flagNames(error.message, command.tool), name);
    if (error instanceof ToolCallError) return { code: EXIT.toolError, stderr: `gt: ${error.message}` };
    if (error instanceof GtUnreachableError) return { code: EXIT.unreachable, stderr: `gt: ${error.message}` };
    throw error;
  }
}

function usageError(message: string, command?: string): Outcome {
  const usageLine = command && lookup(command) ? `usage: gt ${command} ${lookup(command)!.usage}` : "run gt help for the commands";
  return { code: EXIT.usage, stderr: `gt${command ? ` ${command}` : ""}: ${message}\n${usageLine}` };
}

/** `bead_id: must be a ULID; title: …` → `--bead: must be a ULID; --title: …`. */
function flagNames(message: string, tool: AgentToolName): string {
  const fields = AGENT_TOOLS[tool].input.shape as Record<string, unknown>;
  return message
    .split("; ")
    .map((part) => part.replace(/^(\w+):/, (whole, field: string) => (field in fields ? `--${FLAG_OF_FIELD[field] ?? field}:` : whole)))
    .join("; ");
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

// ------------------------------------------------------------------------------------------------

function write(stream: NodeJS.WriteStream, text: string | undefined): Promise<void> {
  if (!text) return Promise.resolve();
  return new Promise((resolve) => stream.write(text.endsWith("\n") ? text : `${text}\n`, () => resolve()));
}

run(process.argv.slice(2)).then(
  async (outcome) => {
    if (outcome.code < 0) return; // the MCP server runs on
    await write(process.stdout, outcome.stdout);
    await write(process.stderr, outcome.stderr);
    process.exit(outcome.code);
  },
  async (error: unknown) => {
    await write(process.stderr, `gt: internal error: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(1);
  },
);
