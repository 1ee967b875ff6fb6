/**
 * `gt`'s command tree: every command of commands.ts (defined in its group's file: mail.ts, bead.ts,
 * …) built into a commander program, so each subcommand and group has `--help`/`-h` (exit 0), option
 * aliases (`-s`/`--subject`) and positional arguments. Beside Townhall's own forms it takes the forms
 * Gas Town's agents write (`gt mail send <address> -s … -m …`, `gt mail inbox`, `gt mail read <id>`,
 * `gt hook`, `gt escalate "<description>"`, `gt sling <bead> <rig>`, `gt convoy create <name> <bead…>`);
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
import { Command as Program, CommanderError, Option } from "commander";
import { ToolCallError } from "../../client/tool-http.ts";
import { plainJson } from "../../party/plain-text.ts";
import { acknowledgeMail, callAgentTool } from "./call.ts";
import { EXIT, type Command, type Lists, type Outcome, type Values } from "./command.ts";
import { COMMANDS, lookup } from "./commands.ts";
import { gtMode, readGtEnv } from "./env.ts";
import { GtUnreachableError, GtUsageError } from "./errors.ts";
import { namesOf, usage } from "./help.ts";
import { gtTool } from "./tools.ts";
import { nudgeText, takeNudges } from "./nudge.ts";

/** Option names for the tool fields that differ (error messages name the option, not the field). */
const FLAG_OF_FIELD: Record<string, string> = { bead_id: "bead", beads: "bead" };

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
  for (const c of COMMANDS) {
    const words = c.name.split(" ");
    let parent = root;
    for (const [i, word] of words.slice(0, -1).entries()) {
      const path = words.slice(0, i + 1).join(" ");
      let group = groups.get(path);
      if (!group) {
        const subs = COMMANDS.map((s) => s.name).filter((n) => n.startsWith(`${path} `));
        group = parent
          .command(word)
          .description(`${subs.map((n) => `gt ${n}`).join(", ")}`)
          .helpCommand(false);
        groups.set(path, group);
      }
      parent = group;
    }
    const command = parent.command(words.at(-1)!).description(c.summary).usage(c.usage);
    for (const [syntax, description] of c.arguments ?? []) command.argument(syntax, description);
    for (const [flags, description] of c.options ?? []) command.addOption(new Option(flags, description));
    for (const [flags, description] of c.repeatable ?? [])
      command.addOption(new Option(flags, description).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]));
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
      io.invoked = { name: c.name, values, lists };
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

/** A command's outcome, with any nudge of the witness that rode on its replies on stderr (the agent reads both). */
async function execute(invocation: Invocation): Promise<Outcome> {
  const outcome = await executeCommand(invocation);
  const nudges = takeNudges();
  if (!nudges.length) return outcome;
  return { ...outcome, stderr: [outcome.stderr, ...nudges.map(nudgeText)].filter(Boolean).join("\n") };
}

async function executeCommand({ name: asked, values: given, lists }: Invocation): Promise<Outcome> {
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
    // An operator's town command needs no rig; everything else in rig mode acts in GT_RIG_ID (or GT_RIG).
    const env = readGtEnv(process.env, gtTool({ mode }, command.tool)?.room !== "town");
    const streaming = command.stream?.(values, env);
    if (streaming) return { code: await streaming };
    const args = Object.fromEntries(Object.entries((await command.args?.(values, lists)) ?? {}).filter(([, v]) => v !== undefined));
    const value = command.call ? await command.call(env, args) : await callAgentTool(env, command.tool, args);
    const stdout = values.json ? plainJson(command.json ? command.json(value) : value) : command.print(value, env, values);
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
  const usageLine =
    command && lookup(command)
      ? `usage: gt ${command} ${lookup(command)!.usage}`
      : command
        ? `gt ${command} --help shows its commands`
        : "run gt help for the commands";
  return { code: EXIT.usage, stderr: `gt${command ? ` ${command}` : ""}: ${message}\n${usageLine}` };
}

/** `bead_id: must be a ULID; title: …` → `--bead: must be a ULID; --title: …` (`<id>:` for a positional argument). */
function flagNames({ message, fields }: GtUsageError, command: Command): string {
  const positionals = (command.arguments ?? []).map(([syntax]) => argName(syntax));
  const options = (command.options ?? []).map(([flags]) => new Option(flags).attributeName());
  const positionalOf = new Map(positionals.map((p) => [command.fieldOf?.[p] ?? p, p]));
  const label = (field: string) =>
    positionalOf.has(field) ? `<${positionalOf.get(field)}>` : `--${options.includes(field) ? field : (FLAG_OF_FIELD[field] ?? field)}`;
  return message
    .split("; ")
    .map((part) => part.replace(/^(\w+):/, (whole, field: string) => (fields.includes(field) ? `${label(field)}:` : whole)))
    .join("; ");
}
