/**
 * The container's options (`npm run container -- …`), agents' keys (--agent-env, --agent-secrets),
 * the environment and files a preset's run gets, which runtime a rig's next run takes, and where a
 * preset's binary is found. Bad input is one clear line (exit 2 from the real process), nothing else.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AgentKeyError, keysFor, parseSecrets, readAgentEnv, readAgentSecrets } from "../../container/agent-keys.ts";
import { ContainerUsageError, OPTIONS, containerHelp, parseContainerArgs } from "../../container/main.ts";
import { agentEnvironment, modelOfRun, prepareRun, type AgentIdentity } from "../../container/preset-run.ts";
import { PresetBinaries } from "../../container/presets/binary.ts";
import { claude } from "../../container/presets/claude.ts";
import { runtimeOf, TS_LOADER, type RuntimeConfig } from "../../container/runtimes.ts";

const dir = mkdtempSync(join(tmpdir(), "townhall-options-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ROOT = join(import.meta.dirname, "../..");

const parse = (args: string[], env: Record<string, string | undefined> = {}) => parseContainerArgs(["--town", "t1", ...args], env);
const refusal = (args: string[], env: Record<string, string | undefined> = {}) => {
  try {
    parse(args, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ContainerUsageError);
    return (error as Error).message;
  }
  throw new Error(`accepted: ${args.join(" ")}`);
};

describe("npm run container's options", () => {
  it("--help lists every option", () => {
    const help = containerHelp();
    for (const name of Object.keys(OPTIONS).filter((n) => n !== "token")) expect(help).toContain(`--${name}`);
    expect(parse(["--help"])).toEqual({ help: true });
  });

  it("takes a preset as the default runtime, keys by name, binaries and prices", () => {
    const prices = join(dir, "prices.json");
    writeFileSync(prices, JSON.stringify({ "claude-sonnet-4-5": { input: 3, output: 15 } }));
    const args = parse(
      [
        "--runtime",
        "claude",
        "--agent-env",
        "ANTHROPIC_API_KEY",
        "--agent-env",
        "beta=OPENAI_API_KEY",
        "--agent-bin",
        "claude=/opt/claude",
        "--prices",
        prices,
      ],
      { ANTHROPIC_API_KEY: "sk-ant-1234567890", OPENAI_API_KEY: "sk-openai-1234567890" },
    );
    if (args.help) throw new Error("help");
    expect(args.runtime.town).toEqual({ kind: "preset", name: "claude" });
    expect(args.agentKeys).toEqual({ town: { ANTHROPIC_API_KEY: "sk-ant-1234567890" }, rigs: { beta: { OPENAI_API_KEY: "sk-openai-1234567890" } } });
    expect([...args.agentKeyNames].sort()).toEqual(["ANTHROPIC_API_KEY", "OPENAI_API_KEY"]);
    expect(args.agentBin).toEqual({ claude: "/opt/claude" });
    expect(args.prices).toEqual({ "claude-sonnet-4-5": { input: 3, output: 15 } });
  });

  it("refuses bad options with one line each", () => {
    expect(refusal(["--bogus"])).toBe("unknown option --bogus: npm run container -- --help lists them");
    expect(refusal(["--runtime"])).toBe("--runtime needs a value");
    expect(refusal(["stray"])).toMatch(/^unexpected argument stray/);
    expect(refusal(["--runtime", "cursor"])).toBe("--runtime must be one of scripted, command, claude, codex, gemini, opencode, got cursor");
    expect(refusal(["--agent-bin", "claude=relative/claude"])).toMatch(/^--agent-bin takes <runtime>=<absolute path>/);
    expect(refusal(["--agent-bin", "vim=/usr/bin/vim"])).toMatch(/^--agent-bin takes/);
    expect(refusal(["--agent-env", "ANTHROPIC_API_KEY"])).toBe("--agent-env names ANTHROPIC_API_KEY, which is not set in the container's environment");
    expect(refusal(["--agent-env", "GT_TOKEN"], { GT_TOKEN: "x" })).toMatch(/GT_TOKEN is set by the container itself/);
    expect(refusal(["--agent-env", "Bad Rig=X"])).toMatch(/^--agent-env takes VAR/);
    expect(refusal(["--prices", join(dir, "none.json")])).toMatch(/^--prices .*none\.json: ENOENT/);
    expect(refusal(["--token", "x"])).toMatch(/GT_CONTAINER_TOKEN/);
    for (const message of [refusal(["--bogus"]), refusal(["--runtime", "cursor"])]) expect(message).not.toContain("\n");
  });

  it("the real process: a bad option is one line on stderr and exit 2, no stack; --help exits 0", () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ["--import", TS_LOADER, "container/main.ts", ...args], { cwd: ROOT, encoding: "utf8", env: { PATH: process.env.PATH } });
    const bad = run(["--town", "t1", "--runtime", "command", "--bogus"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toEqual(["container: unknown option --bogus: npm run container -- --help lists them"]);
    const help = run(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--agent-secrets <rig>=<file>");
  }, 30_000);
});

describe("agents' keys", () => {
  it("--agent-secrets: a KEY=VALUE file of mode 0600 is read; a looser one is refused in one line that shows no value", () => {
    const file = join(dir, "beta.env");
    writeFileSync(file, "# keys\nOPENAI_API_KEY=sk-secret-value-1\nexport GEMINI_API_KEY='quoted value'\n\n");
    chmodSync(file, 0o644);
    const keys = { town: {}, rigs: {} };
    let error: unknown;
    try {
      readAgentSecrets([`beta=${file}`], keys);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AgentKeyError);
    expect((error as Error).message).toBe(
      `--agent-secrets beta=${file}: its mode is 0644; a secrets file must be readable by its owner only (chmod 600 ${file})`,
    );
    expect(keys).toEqual({ town: {}, rigs: {} });
    chmodSync(file, 0o600);
    readAgentSecrets([`beta=${file}`], keys);
    expect(keys).toEqual({ town: {}, rigs: { beta: { OPENAI_API_KEY: "sk-secret-value-1", GEMINI_API_KEY: "quoted value" } } });
  });

  it("a secrets file's bad line is named by its number, never quoted", () => {
    expect(() => parseSecrets("A=1\nsk-bare-secret\n", "f")).toThrow(/^f: line 2 is not KEY=VALUE$/);
    expect(() => parseSecrets("PATH=/evil\n", "f")).toThrow(/PATH is set by the container itself/);
  });

  it("a rig's keys are the town's with its own over them", () => {
    const { keys } = readAgentEnv(["A,B", "beta=B"], { A: "town-a-value", B: "town-b-value" });
    keys.rigs.beta!.B = "beta-b-value";
    expect(keysFor(keys, "beta")).toEqual({ A: "town-a-value", B: "beta-b-value" });
    expect(keysFor(keys, "alpha")).toEqual({ A: "town-a-value", B: "town-b-value" });
  });
});

describe("a preset run's environment and files", () => {
  const who: AgentIdentity = {
    host: "127.0.0.1:1999",
    secure: false,
    town: "t1",
    rig: { id: "01J00000000000000000000000", name: "alpha", defaultBranch: "main" },
    identity: "alpha/polecats/toast",
    name: "toast",
    token: "eyJ.agent-token-value.sig",
    beadId: "01J00000000000000000000001",
  };
  const places = { path: "/usr/bin:/bin", home: "/w/home", tmpDir: "/w/tmp" };

  it("Gas Town's variables: GT_ROLE=polecat, GT_RIG the rig's name, GT_POLECAT, GT_RIG_ID the id; the keys; nothing of this process", () => {
    const env = agentEnvironment(who, places, { ANTHROPIC_API_KEY: "sk-ant-key-value" }, { DISABLE_AUTOUPDATER: "1" });
    expect(env).toMatchObject({
      GT_ROLE: "polecat",
      GT_RIG: "alpha",
      GT_RIG_ID: who.rig.id,
      GT_POLECAT: "toast",
      GT_AGENT: "alpha/polecats/toast",
      GT_TOKEN: who.token,
      ANTHROPIC_API_KEY: "sk-ant-key-value",
      DISABLE_AUTOUPDATER: "1",
      HOME: "/w/home",
    });
    expect(Object.keys(env).filter((k) => !(k in process.env) || k === "PATH" || k === "HOME" || k === "LANG")).toEqual(Object.keys(env));
  });

  it("prepareRun writes the preset's files into a fresh run directory (0700, files 0600); no key and no token in them or in the arguments", () => {
    const runDir = join(dir, "rig", "runs", "toast");
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, "left-over"), "x");
    const launch = prepareRun(
      claude,
      { cwd: "/w/wt", home: "/w/home", tmpDir: "/w/tmp", runDir, prompt: "do it", model: null, gt: "/opt/gt", gtEnv: { GT_TOKEN: who.token } },
      "/opt/claude",
      null,
    );
    expect(statSync(runDir).mode & 0o777).toBe(0o700);
    for (const name of ["mcp.json", "settings.json"]) {
      expect(statSync(join(runDir, name)).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(runDir, name), "utf8")).not.toContain("agent-token-value");
    }
    expect(() => statSync(join(runDir, "left-over"))).toThrow();
    expect(launch.args.join(" ")).not.toContain("agent-token-value");
  });
});

describe("a rig's runtime for its next run", () => {
  const config: RuntimeConfig = { town: { kind: "scripted" }, rigs: { beta: { kind: "command", command: "beta-agent" } }, command: "town-agent" };

  it("the registry's runtime wins; without one the rig's --rig-command, then the container's default", () => {
    expect(runtimeOf(config, { name: "alpha" })).toEqual({ kind: "scripted" });
    expect(runtimeOf(config, { name: "beta" })).toEqual({ kind: "command", command: "beta-agent" });
    expect(runtimeOf(config, { name: "beta", runtime: "claude" })).toEqual({ kind: "preset", name: "claude" });
    expect(runtimeOf(config, { name: "beta", runtime: "scripted" })).toEqual({ kind: "scripted" });
    expect(runtimeOf(config, { name: "alpha", runtime: "command" })).toEqual({ kind: "command", command: "town-agent" });
    expect(runtimeOf({ ...config, command: undefined }, { name: "alpha", runtime: "command" })).toMatchObject({ kind: "unavailable" });
  });
});

describe("a run's model", () => {
  it("the start command's (the bead's), else the bead's, else the rig's, else none (the CLI's default)", () => {
    expect(modelOfRun({ model: "m-cmd", bead: { model: "m-bead" } }, { model: "m-rig" })).toBe("m-cmd");
    expect(modelOfRun({ bead: { model: "m-bead" } }, { model: "m-rig" })).toBe("m-bead");
    expect(modelOfRun({ bead: {} }, { model: "m-rig" })).toBe("m-rig");
    expect(modelOfRun({ bead: {} }, {})).toBeNull();
  });
});

describe("where a preset's binary is", () => {
  const bin = (path: string) => {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, "#!/bin/sh\n", { mode: 0o755 });
    return path;
  };

  it("--agent-bin as given; else the PATH; else npm's global prefix; else why not, in one line", async () => {
    const onPath = bin(join(dir, "path-bin", "claude"));
    const inPrefix = bin(join(dir, "prefix", "bin", "claude"));
    expect(await new PresetBinaries({ overrides: { claude: onPath } }).resolve(claude)).toEqual({ path: onPath });
    expect(await new PresetBinaries({ overrides: { claude: join(dir, "missing") } }).resolve(claude)).toMatchObject({
      problem: expect.stringMatching(/no executable file there/),
    });
    expect(await new PresetBinaries({ searchPath: join(dir, "path-bin"), npmPrefix: async () => null }).resolve(claude)).toEqual({ path: onPath });
    expect(await new PresetBinaries({ searchPath: join(dir, "empty"), npmPrefix: async () => join(dir, "prefix") }).resolve(claude)).toEqual({
      path: inPrefix,
    });
    const none = await new PresetBinaries({ searchPath: join(dir, "empty"), npmPrefix: async () => null }).resolve(claude);
    expect(none).toMatchObject({ problem: expect.stringMatching(/^claude not found in the container's PATH .*--agent-bin claude=<path>$/) });
  });
});
