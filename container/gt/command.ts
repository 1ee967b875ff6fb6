/**
 * What one gt command is: its usage and help, the tool it calls, how its options become the tool's
 * arguments and how its result prints; and what running one comes to (an exit code, what to print).
 * Each group's file (mail.ts, bead.ts, …) defines its commands with this type; commands.ts lists
 * them in order, program.ts builds them into the command tree and runs them.
 */
import type { GtEnv, GtMode } from "./env.ts";
import type { AgentToolName } from "./tools.ts";

/** 0 ok; 2 usage error (command, option or environment); 3 the tool answered an error; 4 the server could not be reached. */
export const EXIT = { ok: 0, usage: 2, toolError: 3, unreachable: 4 } as const;

/** `after`: runs once stdout was written (e.g. acknowledging the mail it printed); returns a warning or null. */
export type Outcome = { code: number; stdout?: string; stderr?: string; after?: () => Promise<string | null> };

/** Option values by name (commander's: strings, or true for a flag) and positional arguments by name. */
export type Values = Record<string, any>;
/** The values of repeatable options and variadic arguments, e.g. `--bead a --bead b`. */
export type Lists = Record<string, string[]>;

export type Command = {
  /** Its words after `gt`, e.g. `mail send`. */
  name: string;
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
  /** The result for a person or an LLM (`--json` prints the raw value instead); `values`: the options given. */
  print: (value: any, env: GtEnv, values: Values) => string;
};
