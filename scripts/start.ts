/**
 * npm start [-- --port 1999 --town demo --workspace <dir> --add-rig <name>=<git url or path>]
 *
 * A living demo town on one machine: builds the dashboard, runs `partykit dev` serving it and the
 * town container, creates three rigs backed by local git repositories (with different
 * capabilities), slings a convoy across them whose scripted agents commit real work and mail each
 * other across rigs, and prints the dashboard URL. The terminal follows progress. A second run
 * resumes the same town (state lives in .townhall/, or GT_STATE_DIR). Ctrl-C stops everything.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, createWriteStream, existsSync, mkdirSync, writeFileSync, type WriteStream } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { signToken } from "../party/auth.ts";
import { SLUG_RE, redactGitUrl, type Convoy, type Rig, type ShareResult } from "../party/protocol.ts";
import { DocReplica } from "../client/doc-sync.ts";
import { plain } from "../client/plain-text.ts";
import { callHttp } from "../client/tools.ts";
import { TS_LOADER } from "../container/runtimes.ts";
import { STATE_DIR, ensureLocalState } from "./local-state.ts";

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
    { title: "Add the /login endpoint", requires: ["api"], priority: "high", body: "await-mail\nwrite api/login.go: // POST /login checks the password and sets a session cookie" },
    { title: "Rate-limit /login", requires: ["go"], body: "write api/ratelimit.go: // five attempts a minute per address" },
    { title: "Build the sign-in form", requires: ["web"], body: "write web/login.html: <form method=post action=/login>…</form>\nmail backend/polecats/toast: the form posts to /login" },
    { title: "Show sign-in errors", requires: ["ts"], body: "write web/errors.ts: export const loginFailed = 'Wrong email or password';" },
    { title: "Document sign-in", requires: ["docs"], body: "write guide/sign-in.md: # Signing in\nmail frontend/polecats/toast: docs for the form are written" },
    { title: "Changelog entry", requires: ["docs"], body: "append CHANGELOG.md: - Sign-in (login form, endpoint, rate limit)" },
  ],
};

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    town: { type: "string" },
    workspace: { type: "string" },
    "add-rig": { type: "string", multiple: true },
  },
  strict: true,
});
const state = ensureLocalState({ town: values.town ?? "demo" });
const town = values.town ?? state.town;
const port = Number(values.port ?? 1999);
if (!SLUG_RE.test(town)) fail(`--town must be a slug (a-z, 0-9, -): ${town}`);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port must be a port number: ${values.port}`);
const extraRigs = (values["add-rig"] ?? []).map((entry) => {
  const [name, ...url] = entry.split("=");
  if (!name || !SLUG_RE.test(name) || url.length === 0) fail(`--add-rig takes <name>=<git url or path>, got ${entry}`);
  return { name, gitUrl: url.join("=") };
});
const workspace = resolve(values.workspace ?? join(STATE_DIR, "workspace"));

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(2);
}

/** Terminal lines hold rig names, bead and convoy titles: made plain (client/plain-text.ts). */
function step(text: string): void {
  console.log(plain(`• ${text}`));
}

/** Children in their own process groups, stopped as groups (partykit dev spawns workerd and esbuild). */
const children: ChildProcess[] = [];
let stopping = false;
function stopAll(code = 0): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // already gone
    }
  }
  setTimeout(() => process.exit(code), 500).unref();
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

function startChild(name: string, file: string, args: string[], ready: RegExp, logName: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(file, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", ...env } });
  children.push(child);
  const log = logFile(logName);
  child.stdout!.on("data", (chunk: Buffer) => log.write(chunk));
  child.stderr!.on("data", (chunk: Buffer) => log.write(chunk));
  child.on("exit", (code) => {
    if (stopping) return;
    console.error(`${name} exited (${code}); stopping`);
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
  const reposDir = join(STATE_DIR, "demo-repos");
  const bare = join(reposDir, `${name}.git`);
  if (existsSync(bare)) return bare;
  const seed = join(reposDir, `${name}-seed`);
  mkdirSync(seed, { recursive: true });
  const git = (args: string[], cwd = seed) => execFileSync("git", ["-c", "user.name=Townhall", "-c", "user.email=demo@townhall.local", ...args], { cwd, stdio: "ignore" });
  git(["init", "-q", "-b", "main"]);
  writeFileSync(join(seed, "README.md"), `# ${name}\n\nA rig of the Townhall demo town.\n`);
  git(["add", "README.md"]);
  git(["commit", "-q", "-m", "Initial commit"]);
  git(["clone", "-q", "--bare", seed, bare], reposDir);
  return bare;
}

step("building the dashboard");
execFileSync(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });

// partykit dev serves the built dashboard as a single-page app from the same origin as the rooms.
// The secret goes in its config file, never on a command line, which every local user can read
// (/proc/<pid>/cmdline); that file and partykit's storage (every room's data) are ours alone.
const config = join(STATE_DIR, "partykit.json");
writeFileSync(
  config,
  JSON.stringify({
    name: "townhall",
    main: join(ROOT, "party/town.ts"),
    parties: { rig: join(ROOT, "party/rig.ts") },
    compatibilityDate: "2024-07-18",
    serve: { path: join(ROOT, "dist"), singlePageApp: true },
    vars: { GT_SECRET: state.secret },
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
  [join(ROOT, "node_modules/partykit/dist/bin.mjs"), "dev", "-c", config, "--port", String(port), "--persist", storage, "--disable-request-cf-fetch", "--no-hotkeys"],
  /Ready on/,
  "partykit",
);

const host = `127.0.0.1:${port}`;
const exp = Math.floor(Date.now() / 1000) + 30 * 24 * 3600;
const operator = await signToken({ role: "operator", town, exp }, state.secret);
const containerToken = await signToken({ role: "container", town, exp }, state.secret);
const call = <T>(tool: string, args: unknown = {}) => callHttp<T>({ host, party: "main", room: town, token: operator }, tool, args);

const existing = await call<Rig[]>("gt_list_rigs");
const wanted = [
  ...DEMO_RIGS.map((r) => ({ name: r.name, git_url: demoRemote(r.name), capabilities: r.capabilities, max_polecats: r.max_polecats })),
  ...extraRigs.map((r) => ({ name: r.name, git_url: r.gitUrl })),
];
for (const rig of wanted) {
  if (existing.some((r) => r.name === rig.name)) continue;
  step(`adding rig ${rig.name} (${redactGitUrl(rig.git_url)})`);
  await call("gt_rig_add", rig);
}

step(`starting the town container (workspace ${workspace})`);
// The token in its environment, not on its command line (which every local user, agents included, can read).
// Its own temporary directory, ours alone: tsx keeps compiled code in <tmp>/tsx-<uid>, and a rig's
// user must not be able to make that directory in a shared /tmp before the container does.
const containerTmp = join(STATE_DIR, "tmp");
mkdirSync(containerTmp, { recursive: true, mode: 0o700 });
chmodSync(containerTmp, 0o700);
await startChild("the container", process.execPath, ["--import", TS_LOADER, join(ROOT, "container/main.ts"), "--host", host, "--town", town, "--workspace", workspace], /container: town/, "container", {
  GT_CONTAINER_TOKEN: containerToken,
  TMPDIR: containerTmp,
});
step(`logs: ${join(LOG_DIR, "container.log")} (agents, merges, leases) and ${join(LOG_DIR, "partykit.log")}`);

// Follow the town: rigs becoming ready, beads done per rig, convoy progress.
const replica = new DocReplica({ host, party: "main", room: town, doc: "town", token: containerToken, WebSocket });
await replica.whenSynced();
const said = new Map<string, string>();
const report = (key: string, line: string) => {
  if (said.get(key) === line) return;
  said.set(key, line);
  console.log(plain(`  ${line}`));
};
const follow = () => {
  for (const rig of replica.doc.getMap<Rig>("rigs").values()) {
    const b = rig.summary.beads;
    report(`rig:${rig.id}`, `${rig.name.padEnd(10)} ${rig.status.padEnd(8)} beads: ${b.closed} closed, ${b.in_progress + b.in_review} in progress, ${b.open} open${b.failed ? `, ${b.failed} failed` : ""}`);
  }
  for (const convoy of replica.doc.getMap<Convoy>("convoys").values()) {
    const done = convoy.beads.filter((x) => x.status === "closed" || x.status === "failed").length;
    report(`convoy:${convoy.id}`, `convoy "${convoy.title}": ${done}/${convoy.beads.length}${convoy.status === "landed" ? " — landed" : ""}`);
  }
};
const watch = () => {
  replica.doc.getMap("rigs").observe(follow);
  replica.doc.getMap("convoys").observe(follow);
};
watch();
replica.onChange((r) => r.status === "live" && (watch(), follow()));
follow();

// The demo convoy, once the rigs it needs are ready (first run only).
const rigsReady = () => DEMO_RIGS.every((d) => [...replica.doc.getMap<Rig>("rigs").values()].some((r) => r.name === d.name && r.status === "ready"));
if (replica.doc.getMap("convoys").size === 0) {
  await new Promise<void>((resolveReady) => {
    const check = () => rigsReady() && (replica.doc.getMap("rigs").unobserve(check), resolveReady());
    replica.doc.getMap("rigs").observe(check);
    check();
  });
  const convoy = await call<Convoy>("gt_convoy_create", DEMO_CONVOY);
  step(`slung convoy "${convoy.title}": ${convoy.beads.map((b) => `${b.title} → ${b.rigName}`).join("; ")}`);
}

const share = await call<ShareResult>("gt_share", { path: `/t/${town}`, ttl_s: 7 * 24 * 3600 });
console.log(`
Townhall is running: town "${town}".

  Dashboard (operator): http://${host}/t/${town}?token=${operator}
  Read-only link:       http://${host}${share.path}

  More tokens: npm run token -- --role <operator|viewer|agent|container> --town ${town}
  Stop with Ctrl-C; npm start again resumes this town. Delete ${STATE_DIR} to start over.
`);
