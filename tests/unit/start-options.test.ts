/** `npm start`'s options (scripts/start-options.ts): what each means, and one clear line for anything wrong. */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { TS_LOADER } from "../../container/runtimes.ts";
import { AGENT_RUNTIMES } from "../../party/protocol.ts";
import { START_HELP, StartOptionError, parseStartOptions } from "../../scripts/start-options.ts";

const problem = (args: string[]): string => {
  try {
    parseStartOptions(args);
  } catch (error) {
    expect(error).toBeInstanceOf(StartOptionError);
    return (error as Error).message;
  }
  throw new Error(`no problem with ${args.join(" ")}`);
};

describe("parseStartOptions", () => {
  it("takes the scripted demo by default: living unless --quiet, no model", () => {
    expect(parseStartOptions([])).toEqual({ port: 1999, extraRigs: [], every: [20, 40], runtime: "scripted", runtimeGiven: false, living: true });
    expect(parseStartOptions(["--quiet"])).toMatchObject({ living: false });
    expect(parseStartOptions(["--port", "2000", "--town", "t1", "--every", "30", "--add-rig", "x=https://h/r.git?a=b"])).toMatchObject({
      port: 2000,
      town: "t1",
      every: [30, 30],
      extraRigs: [{ name: "x", gitUrl: "https://h/r.git?a=b" }],
    });
  });

  it("gives real agents a runtime and model, with no new work unless --living", () => {
    expect(parseStartOptions(["--runtime", "claude", "--model", "claude-sonnet-4-5"])).toMatchObject({
      runtime: "claude",
      runtimeGiven: true,
      model: "claude-sonnet-4-5",
      living: false,
    });
    expect(parseStartOptions(["--runtime", "codex", "--living"])).toMatchObject({ runtime: "codex", living: true });
    expect(parseStartOptions(["--runtime", "command", "--command", "make agent"])).toMatchObject({ runtime: "command", command: "make agent", living: true });
    for (const runtime of AGENT_RUNTIMES) if (runtime !== "command") expect(parseStartOptions(["--runtime", runtime])).toMatchObject({ runtime });
  });

  it("answers --help (and -h) with the help, whatever else is given", () => {
    expect(parseStartOptions(["--help"])).toBe("help");
    expect(parseStartOptions(["-h", "--runtime", "nope"])).toBe("help");
  });

  it("says what is wrong with a bad option in one line", () => {
    expect(problem(["--runtime", "command"])).toBe('--runtime command needs --command "<shell command>"');
    expect(problem(["--bogus"])).toBe("unknown option --bogus (npm start -- --help lists them)");
    expect(problem(["--runtime", "gpt"])).toBe("--runtime must be one of scripted, command, claude, codex, gemini, opencode, got gpt");
    expect(problem(["--runtime"])).toBe("--runtime needs a value (npm start -- --help)");
    expect(problem(["--living=yes"])).toBe("--living takes no value (npm start -- --help)");
    expect(problem(["claude"])).toBe("unexpected argument claude: options start with -- (npm start -- --help)");
    expect(problem(["--model", "m"])).toMatch(/^--model is for a coding-agent CLI runtime/);
    expect(problem(["--runtime", "scripted", "--model", "m"])).toMatch(/^--model is for a coding-agent CLI runtime .*not scripted$/);
    expect(problem(["--runtime", "claude", "--model", "two words"])).toMatch(/^--model must be a model name/);
    expect(problem(["--command", "x"])).toBe("--command is for --runtime command");
    expect(problem(["--quiet", "--living"])).toMatch(/contradict/);
    expect(problem(["--port", "0"])).toMatch(/^--port must be a port number/);
    expect(problem(["--port", "80x"])).toMatch(/^--port must be a port number/);
    expect(problem(["--town", "Bad Town"])).toMatch(/^--town must be a slug/);
    expect(problem(["--every", "40-20"])).toMatch(/^--every takes seconds/);
    expect(problem(["--add-rig", "x"])).toMatch(/^--add-rig takes/);
    for (const args of [["--bogus"], ["--runtime", "command"], ["--runtime"]]) expect(problem(args)).not.toMatch(/\n/);
  });

  it("lists every option it parses in its help", () => {
    for (const option of ["runtime", "model", "command", "living", "quiet", "every", "port", "town", "workspace", "add-rig", "help"])
      expect(START_HELP).toContain(`--${option}`);
    for (const runtime of AGENT_RUNTIMES) expect(START_HELP).toContain(runtime);
  });
});

// The script itself, as `npm start -- …` runs it: it must answer before building or starting anything.
// Each run starts Node with the TypeScript loader: seconds on a busy machine.
describe("npm start's script", { timeout: 60_000 }, () => {
  const start = (args: string[]) =>
    spawnSync(process.execPath, ["--import", TS_LOADER, "scripts/start.ts", ...args], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, GT_STATE_DIR: "/nonexistent/townhall-start-options" },
    });

  it("prints its help and exits 0 on --help", () => {
    const run = start(["--help"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("--runtime <r>");
    expect(run.stdout).toContain("--living");
    expect(run.stderr).toBe("");
  });

  it("says a bad option in one line and exits 2, with no stack trace", () => {
    const run = start(["--runtime", "command"]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe('npm start: --runtime command needs --command "<shell command>"\n');
    const unknown = start(["--bogus"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe("npm start: unknown option --bogus (npm start -- --help lists them)\n");
  });
});
