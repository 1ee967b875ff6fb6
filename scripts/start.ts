/**
 * npm start [-- --runtime claude --model <m> --living --port 1999 --town demo --workspace <dir> --add-rig <name>=<git url or path> --every 20-40 --quiet]
 * (every option: npm start -- --help; scripts/start-options.ts)
 *
 * A living demo town on one machine: builds the dashboard, runs `partykit dev` serving it and the
 * town container, creates three rigs backed by local git repositories (with different
 * capabilities), slings a convoy across them whose scripted agents commit real work and mail each
 * other across rigs, and prints the dashboard URL. Once that convoy lands, the town is kept busy
 * (scripts/living-demo.ts): new work every 20–40 s, some of it crossing rigs by mail, some failing,
 * now and then a hang; `--quiet` makes none. The terminal says what changes: rigs, convoys, new
 * work, and every failed bead with why. A second run resumes the same town (state lives in
 * .townhall/, or GT_STATE_DIR). Ctrl-C stops everything.
 *
 * With `--runtime claude` (or codex, gemini, opencode) the rigs run that coding-agent CLI (in the
 * registry, per rig): the convoy is written as plain tasks, there is no new work unless --living,
 * the witness waits the preset's idle time, and each rig gets a default daily budget.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, createWriteStream, existsSync, mkdirSync, writeFileSync, type WriteStream } from "node:fs";
import { basename, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import WebSocket from "ws";
import { signToken, verifyToken } from "../party/auth.ts";
import { redactGitUrl, type Bead, type Convoy, type Rig, type ShareLink, type ShareResult, type SlingResult } from "../party/protocol.ts";
import { DocReplica } from "../client/doc-sync.ts";
import { plain } from "../party/plain-text.ts";
import { callHttp } from "../client/tools.ts";
import { TS_LOADER } from "../container/runtimes.ts";
import { closedToOthers } from "../container/agent-files.ts";
import { buildGtIfStale } from "./build-gt.ts";
import { STATE_DIR, ensureLocalState } from "../container/local-state.ts";
import { DemoPlanner, demoHold, nextDelayMs, type DemoWork, type TownLoad } from "./living-demo.ts";
import { DEFAULT_DAILY_BUDGET, START_HELP, StartOptionError, isPreset, parseStartOptions, type StartOptions } from "./start-options.ts";
import { convoyLine, failedBeadLine, rigLine, stoppedMessage, tail } from "./terminal.ts";
import { linkNote, operatorVerdict, readKeptLinks, shareVerdict, writeKeptLinks } from "./town-link.ts";
import { presetOf } from "../container/presets/index.ts";
import type { PresetName } from "../container/presets/types.ts";

const ROOT = resolve(import.meta.dirname, "..");

/** The demo rigs; the convoy below needs each one's capability. */
const DEMO_RIGS = [
  { name: "backend", capabilities: ["api", "go"], max_polecats: 2 },
  { name: "frontend", capabilities: ["ts", "web"], max_polecats: 2 },
  { name: "docs", capabilities: ["docs"], max_polecats: 1 },
];

/**
 * The demo convoy. The backend's first bead waits for mail from the frontend (its first polecat is
 * `toast`, the pool's first name), so the run shows cross-rig mail between working agents.
 */
const DEMO_CONVOY = {
  title: "Launch sign-in",
  beads: [
    {
      title: "Add the /login endpoint",
      requires: ["api"],
      priority: "high",
      body: "await-mail\nwrite api/login.go: // POST /login checks the password and sets a session cookie",
    },
    { title: "Rate-limit /login", requires: ["go"], body: "write api/ratelimit.go: // five attempts a minute per address" },
    {
      title: "Build the sign-in form",
      requires: ["web"],
      body: "write web/login.html: <form method=post action=/login>…</form>\nmail backend/polecats/toast: the form posts to /login",
    },
    { title: "Show sign-in errors", requires: ["ts"], body: "write web/errors.ts: export const loginFailed = 'Wrong email or password';" },
    {
      title: "Document sign-in",
      requires: ["docs"],
      body: "write guide/sign-in.md: # Signing in\nmail frontend/polecats/toast: docs for the form are written",
    },
    { title: "Changelog entry", requires: ["docs"], body: "append CHANGELOG.md: - Sign-in (login form, endpoint, rate limit)" },
  ],
};

/**
 * The demo convoy for real coding agents (a CLI runtime): the same work written as plain tasks, as
 * a person would write them, since a real agent reads the bead as its task (the scripted agent's
 * directives above would be nonsense to it). No bead waits for mail: a model decides when to write.
 */
const PLAIN_CONVOY = {
  title: "Launch sign-in",
  beads: [
    {
      title: "Add the /login endpoint",
      requires: ["api"],
      priority: "high",
      body: "Create api/login.go with a Go HTTP handler for POST /login that checks a password and sets a session cookie. Keep it small; commit it.",
    },
    {
      title: "Rate-limit /login",
      requires: ["go"],
      body: "Create api/ratelimit.go: a small Go limiter allowing five attempts a minute per address. Commit it.",
    },
    {
      title: "Build the sign-in form",
      requires: ["web"],
      body: "Create web/login.html with a sign-in form (email, password) that posts to /login. Commit it.",
    },
    {
      title: "Show sign-in errors",
      requires: ["ts"],
      body: "Create web/errors.ts exporting a constant loginFailed with the text 'Wrong email or password'. Commit it.",
    },
    {
      title: "Document sign-in",
      requires: ["docs"],
      body: "Write guide/sign-in.md: a short page (a heading and a few sentences) on how to sign in. Commit it.",
    },
    { title: "Changelog entry", requires: ["docs"], body: "Add a line to CHANGELOG.md (create it if missing) saying sign-in was added. Commit it." },
  ],
};

let options: StartOptions;
try {
  const parsed = parseStartOptions(process.argv.slice(2));
  if (parsed === "help") {
    console.log(START_HELP);
    process.exit(0);
  }
  options = parsed;
} catch (error) {
  if (!(error instanceof StartOptionError)) throw error;
  fail(error.message);
}
const state = ensureLocalState({ town: options.town ?? "demo" });
const town = options.town ?? state.town;
const port = options.port;
const extraRigs = options.extraRigs;
const realAgents = isPreset(options.runtime);
/** The runtime's preset (container/presets/): its idle time and the variables its key may be given in. */
const preset = realAgents ? presetOf(options.runtime as PresetName) : undefined;
const presetIdleMs = preset?.idleMs;
/**
 * The preset's key variables set in this environment, named to the container (--agent-env): it
 * hands their values to the agents' environment only. Names on the command line, never values.
 */
const agentKeys = (preset?.keyVars ?? []).filter((name) => process.env[name]);
/**
 * Where the rigs' users must reach: the container's workspace (clones, worktrees) and the demo's
 * remotes. In the state directory, unless the clone is closed to other users (root's home is 0700)
 * and the container will run rigs as their own users: then in /var/lib/townhall, under a name made
 * from the state directory and the town's secret (a fresh .townhall/ starts a fresh one there).
 */
const SHARED_DIR = (() => {
  if (process.getuid?.() !== 0 || !closedToOthers(STATE_DIR)) return STATE_DIR;
  const dir = join("/var/lib/townhall", `${basename(ROOT)}-${createHash("sha256").update(`${STATE_DIR}\n${state.secret}`).digest("hex").slice(0, 10)}`);
  mkdirSync(dir, { recursive: true });
  for (const path of ["/var/lib/townhall", dir]) chmodSync(path, 0o711);
  return dir;
})();
const workspace = resolve(options.workspace ?? join(SHARED_DIR, "workspace"));
const every = options.every;

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(2);
}

/** Terminal lines hold rig names, bead and convoy titles: made plain (party/plain-text.ts). */
function step(text: string): void {
  console.log(plain(`• ${text}`));
}

/** Children in their own process groups, stopped as groups (partykit dev spawns workerd and esbuild). */
const children: { child: ChildProcess; name: string; detail?: string }[] = [];
let stopping = false;
/**
 * Stops every child (its process group), waits up to 10 s for each to exit (the container stops
 * its agents first), then says what was stopped and where the town is kept, and exits.
 */
function stopAll(code = 0): void {
  if (stopping) return;
  stopping = true;
  const ended = children.map(
    ({ child }) =>
      new Promise<boolean>((resolveEnded) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveEnded(true);
        child.once("exit", () => resolveEnded(true));
        setTimeout(() => resolveEnded(false), 10_000).unref();
      }),
  );
  for (const { child } of children) {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // already gone
    }
  }
  void Promise.all(ended).then((exited) => {
    const stopped = children.map(({ child, name, detail }, i) => ({ name, pid: child.pid!, exited: exited[i]!, ...(detail ? { detail } : {}) })).reverse();
    console.log(`\n${stoppedMessage(stopped, { stateDir: STATE_DIR, ...(SHARED_DIR !== STATE_DIR ? { sharedDir: SHARED_DIR } : {}) })}`);
    process.exit(code);
  });
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

/**
 * Every child's output is kept, whole, in `.townhall/logs/<name>.log` (appended across runs). The
 * directory is ours alone (0700): the state directory is open for passing (0711) so that rig users
 * reach their worktrees in it, and the logs hold what agents of every rig printed.
 */
const LOG_DIR = join(STATE_DIR, "logs");
function logFile(name: string): WriteStream {
  mkdirSync(LOG_DIR, { recursive: true });
  chmodSync(LOG_DIR, 0o700);
  const log = createWriteStream(join(LOG_DIR, `${name}.log`), { flags: "a" });
  log.write(`\n===== npm start ${new Date().toISOString()} (pid ${process.pid}) =====\n`);
  return log;
}

function startChild(
  name: string,
  file: string,
  args: string[],
  ready: RegExp,
  logName: string,
  env: Record<string, string> = {},
  detail?: string,
): Promise<ChildProcess> {
  const child = spawn(file, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", ...env } });
  children.push({ child, name, ...(detail ? { detail } : {}) });
  const log = logFile(logName);
  // The last of what it said, for the terminal if it stops on its own (a real error, shown whole).
  let recent = "";
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    recent = (recent + chunk.toString()).slice(-8_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  child.on("exit", (code) => {
    if (stopping) return;
    console.error(plain(`${tail(recent)}\n${name} exited (${code}); stopping (its whole log: ${join(LOG_DIR, `${logName}.log`)})`));
    stopAll(1);
  });
  return new Promise((resolveReady, reject) => {
    let log = "";
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (ready.test(log)) {
        child.stdout!.off("data", onData);
        resolveReady(child);
      }
      if (/\bERROR\b/.test(log)) reject(new Error(`${name} failed:\n${log}`));
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => {
      if (!ready.test(log)) onData(chunk);
      else if (process.env.GT_VERBOSE) process.stderr.write(plain(chunk.toString()));
    });
  });
}

/** A local bare repository with one commit on main, standing in for a rig's git remote. */
function demoRemote(name: string): string {
  const reposDir = join(SHARED_DIR, "demo-repos");
  const bare = join(reposDir, `${name}.git`);
  if (existsSync(bare)) return bare;
  const seed = join(reposDir, `${name}-seed`);
  mkdirSync(seed, { recursive: true });
  const git = (args: string[], cwd = seed) =>
    execFileSync("git", ["-c", "user.name=Townhall", "-c", "user.email=demo@townhall.local", ...args], { cwd, stdio: "ignore" });
  git(["init", "-q", "-b", "main"]);
  writeFileSync(join(seed, "README.md"), `# ${name}\n\nA rig of the Townhall demo town.\n`);
  git(["add", "README.md"]);
  git(["commit", "-q", "-m", "Initial commit"]);
  git(["clone", "-q", "--bare", seed, bare], reposDir);
  return bare;
}

if (SHARED_DIR !== STATE_DIR)
  step(
    `${closedToOthers(STATE_DIR)} is closed to other users, so the rigs' workspace and demo repositories are in ${SHARED_DIR}, where the rigs' users reach them`,
  );

// What the town's agents run: gt and the scripted agent as JavaScript (container/dist), unless fresh.
step("building gt and the scripted agent");
await buildGtIfStale().catch((error: unknown) => fail(`building gt failed: ${(error as Error).message}`));

// The build's output (the bundler's warnings, its notes on how long plugins took) goes to its log;
// the terminal sees it only when the build fails.
step("building the dashboard");
const build = spawnSync(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], {
  cwd: ROOT,
  encoding: "utf8",
  env: { ...process.env, NO_COLOR: "1" },
});
const buildLog = logFile("build");
buildLog.end(`${build.stdout ?? ""}${build.stderr ?? ""}`);
if (build.status !== 0) {
  console.error(plain(`${build.stdout ?? ""}${build.stderr ?? ""}${build.error ? String(build.error) : ""}`.trimEnd()));
  fail(`building the dashboard failed (exit ${build.status ?? build.signal}); its output is above and in ${join(LOG_DIR, "build.log")}`);
}

// partykit dev serves the built dashboard as a single-page app from the same origin as the rooms.
// The secret goes in its config file, never on a command line, which every local user can read
// (/proc/<pid>/cmdline); that file and partykit's storage (every room's data) are ours alone.
const config = join(STATE_DIR, "partykit.json");
writeFileSync(
  config,
  JSON.stringify({
    name: "townhall",
    main: join(ROOT, "party/town/room.ts"),
    parties: { rig: join(ROOT, "party/rig/room.ts") },
    compatibilityDate: "2024-07-18",
    serve: { path: join(ROOT, "dist"), singlePageApp: true },
    // The scripted demo: the witness finds a hung agent after 30 s of silence (not 10 min), so the
    // demo's hangs show. Real agents think for minutes in silence: their preset's idle time.
    vars: { GT_SECRET: state.secret, ...idleVar() },
  }),
  { mode: 0o600 },
);
chmodSync(config, 0o600); // a file from an earlier run keeps its mode otherwise
const storage = join(STATE_DIR, "partykit-state");
mkdirSync(storage, { recursive: true });
chmodSync(storage, 0o700);
step(`starting partykit dev on port ${port}`);
await startChild(
  "partykit dev",
  process.execPath,
  [
    join(ROOT, "node_modules/partykit/dist/bin.mjs"),
    "dev",
    "-c",
    config,
    "--port",
    String(port),
    "--persist",
    storage,
    "--disable-request-cf-fetch",
    "--no-hotkeys",
  ],
  /Ready on/,
  "partykit",
  {},
  `on port ${port}`,
);

const host = `127.0.0.1:${port}`;
const exp = Math.floor(Date.now() / 1000) + 30 * 24 * 3600;
// The links printed by an earlier start are printed again while they are good (scripts/town-link.ts).
const keptLinks = readKeptLinks(STATE_DIR);
const keptOperator = keptLinks?.town === town ? keptLinks.operator : undefined;
const keptCheck = keptOperator ? await verifyToken(keptOperator.token, state.secret) : null;
const operatorReuse = operatorVerdict(
  keptLinks,
  town,
  keptCheck?.ok === true && keptCheck.payload.role === "operator" && keptCheck.payload.town === town,
  Date.now(),
);
const operator = operatorReuse.reuse ? keptOperator!.token : await signToken({ role: "operator", town, exp }, state.secret);
const operatorUntil = operatorReuse.reuse ? keptOperator!.expiresAt : exp * 1000;
const containerToken = await signToken({ role: "container", town, exp }, state.secret);
const call = <T>(tool: string, args: unknown = {}) => callHttp<T>({ host, party: "main", room: town, token: operator }, tool, args);

const existing = await call<Rig[]>("gt_list_rigs");
const wanted = [
  ...DEMO_RIGS.map((r) => ({ name: r.name, git_url: demoRemote(r.name), capabilities: r.capabilities, max_polecats: r.max_polecats })),
  ...extraRigs.map((r) => ({ name: r.name, git_url: r.gitUrl })),
];
// How the demo's rigs run their agents: in the registry, per rig (a change applies to the next run).
// A town resumed without --runtime keeps what its rigs have.
const runsWith = { runtime: options.runtime, model: options.model ?? null };
for (const rig of wanted) {
  const had = existing.find((r) => r.name === rig.name);
  if (!had) {
    step(`adding rig ${rig.name} (${redactGitUrl(rig.git_url)})`);
    await call("gt_rig_add", { ...rig, runtime: runsWith.runtime, ...(runsWith.model ? { model: runsWith.model } : {}) });
  } else if (options.runtimeGiven && ((had.runtime ?? "scripted") !== runsWith.runtime || (had.model ?? null) !== runsWith.model)) {
    step(`rig ${rig.name} now runs ${runsWith.runtime}${runsWith.model ? ` (model ${runsWith.model})` : ""} from its next run`);
    await call("gt_rig_update", { name: rig.name, runtime: runsWith.runtime, model: runsWith.model });
  }
}
if (realAgents) await defaultBudgets(wanted.map((r) => r.name));

step(`starting the town container (workspace ${workspace})`);
if (realAgents && preset?.keyVars?.length && !agentKeys.length)
  step(`none of ${preset.keyVars.join(", ")} is set: ${options.runtime} agents get no key from here (their CLI's own login, if any; docs/agents.md)`);
else if (agentKeys.length) step(`agents get ${agentKeys.join(", ")} from this environment (by name; the values never reach a command line)`);
// The token in its environment, not on its command line (which every local user, agents included, can read).
// Its own temporary directory, ours alone: tsx keeps compiled code in <tmp>/tsx-<uid>, and a rig's
// user must not be able to make that directory in a shared /tmp before the container does.
const containerTmp = join(STATE_DIR, "tmp");
mkdirSync(containerTmp, { recursive: true, mode: 0o700 });
chmodSync(containerTmp, 0o700);
await startChild(
  "the container",
  process.execPath,
  [
    "--import",
    TS_LOADER,
    join(ROOT, "container/main.ts"),
    "--host",
    host,
    "--town",
    town,
    "--workspace",
    workspace,
    // A rig's runtime is the registry's; a command's shell line is the container's to know.
    ...(options.command !== undefined ? ["--runtime", "command", "--command", options.command] : []),
    ...(agentKeys.length ? ["--agent-env", agentKeys.join(",")] : []),
  ],
  /container: town/,
  "container",
  {
    GT_CONTAINER_TOKEN: containerToken,
    TMPDIR: containerTmp,
  },
  "and the agents it ran",
);
step(`logs: ${join(LOG_DIR, "container.log")} (agents' output, merges, leases); partykit.log and build.log beside it`);

// Follow the town on the terminal: rigs changing state, convoy progress, each failed bead and why.
const replica = new DocReplica({ host, party: "main", room: town, doc: "town", token: containerToken, WebSocket });
await replica.whenSynced();
const rigs = () => [...replica.doc.getMap<Rig>("rigs").values()];
const convoys = () => [...replica.doc.getMap<Convoy>("convoys").values()];
const said = new Map<string, string>();
const report = (key: string, line: string) => {
  if (said.get(key) === line) return;
  said.set(key, line);
  console.log(plain(`  ${line}`));
};

/** Each rig's document (operators read them), for its beads: what failed and why. */
const rigDocs = new Map<string, DocReplica>();
/** Called on every change of a rig's beads (the living demo waits on them). */
const beadWatchers = new Set<() => void>();
const followRig = (rig: Rig, doc: DocReplica) => {
  for (const bead of doc.doc.getMap<Bead>("beads").values()) {
    if (bead.status === "failed") report(`failed:${bead.id}`, `✗ ${failedBeadLine(bead, rig.name)}`);
    else said.delete(`failed:${bead.id}`); // retried: say it again if it fails again
  }
  for (const watcher of beadWatchers) watcher();
};
const watchRig = (rig: Rig) => {
  if (rigDocs.has(rig.id)) return;
  const doc = new DocReplica({ host, party: "rig", room: `${town}.${rig.id}`, doc: "rig", token: operator, WebSocket });
  rigDocs.set(rig.id, doc);
  const observe = () => {
    doc.doc.getMap("beads").observe(() => followRig(rig, doc));
    followRig(rig, doc);
  };
  doc.onChange((r) => r.status === "live" && observe()); // each connection syncs a fresh document
};
const followTown = () => {
  const present = new Set<string>();
  for (const rig of rigs()) {
    present.add(rig.id);
    if (rig.status !== "cloning" || said.has(`rig:${rig.id}`)) report(`rig:${rig.id}`, rigLine(rig)); // "adding rig" said cloning
    if (rig.status === "ready") watchRig(rig);
  }
  for (const [id, doc] of rigDocs) if (!present.has(id)) (doc.close(), rigDocs.delete(id));
  for (const convoy of convoys()) {
    const line = convoyLine(convoy);
    if (line) report(`convoy:${convoy.id}`, line);
  }
};
const townWatchers = new Set<() => void>([followTown]);
const onTown = () => townWatchers.forEach((watcher) => watcher());
const watch = () => {
  replica.doc.getMap("rigs").observe(onTown);
  replica.doc.getMap("convoys").observe(onTown);
};
watch();
replica.onChange((r) => r.status === "live" && (watch(), onTown()));
onTown();

/** Resolves once `ready()` holds, checked on every change of the town document. */
const townWhen = (ready: () => boolean) =>
  new Promise<void>((resolveReady) => {
    const check = () => ready() && (townWatchers.delete(check), resolveReady());
    townWatchers.add(check);
    check();
  });

// The demo convoy, once the rigs it needs are ready (first run only).
const rigsReady = () => DEMO_RIGS.every((d) => rigs().some((r) => r.name === d.name && r.status === "ready"));
if (convoys().length === 0) {
  await townWhen(rigsReady);
  const convoy = await call<Convoy>("gt_convoy_create", realAgents ? PLAIN_CONVOY : DEMO_CONVOY);
  step(`slung convoy "${convoy.title}": ${convoy.beads.map((b) => `${b.title} → ${b.rigName}`).join("; ")}`);
}

// The read-only link: the earlier start's while the town still lists it unrevoked, else a new one.
const listed = await call<ShareLink[]>("gt_share_list");
const shareReuse = shareVerdict(keptLinks, town, listed, Date.now());
const share = shareReuse.reuse
  ? keptLinks!.share!
  : await call<ShareResult>("gt_share", { path: `/t/${town}`, ttl_s: 7 * 24 * 3600 }).then((r) => ({ id: r.id, path: r.path, expiresAt: r.expiresAt }));
writeKeptLinks(STATE_DIR, { town, operator: { token: operator, expiresAt: operatorUntil }, share });
const until = (ms: number) => new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
const pace = every[0] === every[1] ? `${every[0]} s` : `${every[0]}–${every[1]} s`;
console.log(`
Townhall is running: town "${town}".

  Dashboard (operator): http://${host}/t/${town}?token=${operator}
    (${linkNote(operatorReuse, operatorUntil, until)})
  Read-only link:       http://${host}${share.path}
    (${linkNote(shareReuse, share.expiresAt, until)})

  ${livingLine(pace)}
  More tokens: npm run token -- --role <operator|viewer|agent|container> --town ${town}
  Ctrl-C stops; npm start again resumes this town with these links; delete ${STATE_DIR}${SHARED_DIR !== STATE_DIR ? ` (and ${SHARED_DIR})` : ""} to start over.
`);

if (options.living) void livingDemo();

function livingLine(pace: string): string {
  if (options.living)
    return `After the first convoy lands, new work every ${pace}: some crosses rigs by mail, some fails, now and then an agent hangs (${realAgents ? "--living" : "--quiet: none"}).`;
  return realAgents
    ? `Agents: ${options.runtime}${options.model ? ` (model ${options.model})` : ""}. No new work after the first convoy (--living brings more).`
    : "Quiet (--quiet): no new work after the first convoy.";
}

/**
 * The witness's idle time for the town: GT_AGENT_IDLE_MS when the operator sets it; 30 s for the
 * scripted demo; for a CLI, its preset's (asked of the container's presets, when this checkout has
 * them), else the rooms' own default, which lets a model think for minutes.
 */
function idleVar(): Record<string, string> {
  if (process.env.GT_AGENT_IDLE_MS) return { GT_AGENT_IDLE_MS: process.env.GT_AGENT_IDLE_MS };
  if (!realAgents) return { GT_AGENT_IDLE_MS: "30000" };
  return presetIdleMs ? { GT_AGENT_IDLE_MS: String(presetIdleMs) } : {};
}

/**
 * A default daily budget (DEFAULT_DAILY_BUDGET) for each of these rigs that has none: real agents
 * spend money. An operator's own budget is kept; the dashboard raises or clears it.
 */
async function defaultBudgets(names: string[]): Promise<void> {
  const rigsNow = await call<Rig[]>("gt_list_rigs");
  const without = names.filter((name) => !rigsNow.find((r) => r.name === name)?.summary.usage?.budget);
  for (const rig of without) {
    try {
      await call("gt_budget_set", { rig, budget: DEFAULT_DAILY_BUDGET });
    } catch (error) {
      step(`no daily budget is set: the rooms refused gt_budget_set (${error instanceof Error ? error.message : String(error)})`);
      return;
    }
  }
  if (without.length) step(`daily budget: USD ${DEFAULT_DAILY_BUDGET.daily} per rig (${without.join(", ")}); raise or clear it on the dashboard`);
}

// ---------------------------------------------------------------------------------------------
// The living demo (scripts/living-demo.ts decides what and when; this slings it).

async function livingDemo(): Promise<void> {
  const first = () => convoys().sort((a, b) => a.createdAt - b.createdAt)[0];
  await townWhen(() => rigsReady() && (first()?.status ?? "open") !== "open");
  const planner = new DemoPlanner();
  let handoffPending = false;
  let waiting = false;
  const load = (): TownLoad => {
    let active = 0;
    let failed = 0;
    for (const rig of rigs()) {
      const b = rig.summary.beads;
      active += b.open + b.in_progress + b.in_review;
      failed += b.failed;
    }
    return { active, failed };
  };
  const next = async (work: () => DemoWork) => {
    const hold = rigsReady() ? demoHold(load()) : { needs: "time", why: "a demo rig is not ready" };
    // Only a hold that needs the operator is said, once; a busy town just waits for the next turn.
    const needsOperator = hold?.needs === "operator";
    if (needsOperator && !waiting) step(`the demo waits: ${hold!.why}`);
    if (!hold && waiting) step("the demo carries on");
    waiting = needsOperator;
    if (hold) return;
    const planned = work();
    try {
      handoffPending ||= planned.kind === "handoff";
      await sling(planned, () => (handoffPending = false));
    } catch (error) {
      if (planned.kind === "handoff") handoffPending = false;
      step(`the demo could not sling its work: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  await next(() => planner.opener());
  for (;;) {
    await new Promise((resolveLater) => setTimeout(resolveLater, nextDelayMs(every!, Math.random)));
    await next(() => planner.next({ handoffPending }));
  }
}

async function sling(work: DemoWork, handoffDone: () => void): Promise<void> {
  switch (work.kind) {
    case "convoy": {
      const convoy = await call<Convoy>("gt_convoy_create", { title: work.title, beads: work.beads });
      step(`new work: convoy "${convoy.title}": ${convoy.beads.map((b) => `${b.title} → ${b.rigName}`).join("; ")}`);
      return;
    }
    case "bead": {
      const placed = await call<SlingResult>("gt_sling", work.bead);
      step(`new work: bead "${work.bead.title}" → ${placed.rig}`);
      return;
    }
    case "handoff": {
      // The sender mails the polecat that holds the waiter, so it is slung once one does.
      const waiter = await call<SlingResult>("gt_sling", work.waiter);
      step(`new work: bead "${work.waiter.title}" → ${waiter.rig}, waiting for mail from ${work.senderRig}`);
      void beadWhen(waiter.rig, waiter.bead_id, (bead) =>
        bead.status === "in_progress" && bead.assignee ? bead.assignee : bead.status === "open" ? undefined : null,
      )
        .then(async (assignee) => {
          if (!assignee) return; // it ended without a polecat waiting (closed or failed by someone)
          const sender = work.sender(assignee);
          const placed = await call<SlingResult>("gt_sling", sender);
          step(`new work: bead "${sender.title}" → ${placed.rig}, mailing ${assignee}`);
        })
        .catch((error) => step(`the demo could not sling its work: ${error instanceof Error ? error.message : String(error)}`))
        .finally(handoffDone);
      return;
    }
  }
}

/**
 * Resolves with what `pick` finds in a bead of a rig's document (undefined: not yet; null: never),
 * checked on every change of that document.
 */
function beadWhen<T>(rigName: string, beadId: string, pick: (bead: Bead) => T | undefined | null): Promise<T | null> {
  return new Promise((resolveFound) => {
    const check = () => {
      const rig = rigs().find((r) => r.name === rigName);
      const bead = rig && rigDocs.get(rig.id)?.doc.getMap<Bead>("beads").get(beadId);
      const found = rig ? (bead ? pick(bead) : undefined) : null;
      if (found === undefined) return;
      beadWatchers.delete(check);
      resolveFound(found);
    };
    beadWatchers.add(check);
    check();
  });
}
