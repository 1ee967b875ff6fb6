/**
 * The soak: a town run for a while under a seeded chaos schedule, then checked for what must hold
 * over days. Real parts throughout: `partykit dev` (on a snapshot of party/), two town containers
 * (each serving every rig: one holds a rig's lease, the other stands by), scripted agents doing
 * real git work on local bare remotes, the operator's tools over HTTP.
 *
 * Work: convoys spread over the rigs, whose beads mostly succeed, some fail for good, some exit or
 * hang on their first try, some sleep, some mail another rig. Chaos: SIGKILL and SIGSTOP of
 * `partykit dev`, of a container (its supervisor alone, or its whole group) and of agents, and the
 * removal of a rig mid-convoy. Documents are rebuilt often (small GT_REBUILD_AFTER).
 *
 * At the end, once every convoy finished: every bead closed or failed with a reason; every closed
 * bead merged exactly once on its remote (and no failed one merged); every convoy landed (or stuck on a failed bead) with
 * counts that match its rigs; every acknowledged mail in its inbox exactly once; no clone deleted
 * but the removed rig's; no orphan process, worktree or `gt/` branch.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { ToolCallError } from "../../client/tools.ts";
import { DocReplica } from "../../client/doc-sync.ts";
import { TS_LOADER } from "../../container/runtimes.ts";
import { processesUnder } from "../../container/processes.ts";
import { buildGtIfStale } from "../../scripts/build-gt.ts";
import { newId } from "../../party/ids.ts";
import type { Agent, Bead, Convoy, Mail, Rig } from "../../party/protocol.ts";
import { freePort, startPartykit, type DevServer } from "../../tests/helpers/partykit.ts";
import { makeBareRepo } from "../../tests/helpers/git.ts";
import { deleteRigUsers } from "../../tests/helpers/container.ts";
import { makeTown, type TestTown } from "../../tests/helpers/town.ts";
import { Rng } from "../lib/rng.ts";
import { serverSnapshot } from "../lib/server.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The checks read clones and remotes that belong to the rigs' users (as root): git must not refuse them. */
const AS_ANY_OWNER = ["-c", "safe.directory=*"];
const SECRET = "soak-secret-0123456789abcdef";

export type SoakOptions = {
  /** How long work is added and chaos strikes; then the town settles. */
  minutes: number;
  /** Rigs that keep their work (one more, `scratch`, is removed mid-run). */
  rigs: number;
  /** Beads in all, over the convoys. */
  beads: number;
  seed: number;
  /** Seconds between chaos events, drawn between these. */
  chaosGapS: [number, number];
  /** How long the town may take to land every convoy once the chaos stops. */
  settleMinutes: number;
  log: (line: string) => void;
  /** Keep the run's directory (server storage, workspaces, remotes, logs) for a post-mortem. */
  keep?: boolean;
};

/** How long after the last convoy landed the containers may take to clean up what its runs left. */
const ORPHAN_BOUND_MS = 30_000;

export type Check = { name: string; ok: boolean; checked: number; detail: string };
/** `struck`: false when there was nothing to strike (no agent ran for 30 s). */
export type ChaosEvent = { atS: number; kind: ChaosKind; detail: string; struck: boolean };
export type SoakReport = {
  options: Omit<SoakOptions, "log">;
  server: { hash: string; git: string };
  durationS: number;
  settleS: number;
  checks: Check[];
  violations: number;
  chaos: ChaosEvent[];
  stats: Record<string, number>;
  dir: string;
};

const CHAOS_KINDS = ["server-kill", "server-freeze", "container-kill", "container-freeze", "agent-kill", "agent-freeze"] as const;
type ChaosKind = (typeof CHAOS_KINDS)[number] | "rig-remove";

/** Whether a process leads its process group (an agent's run does: spawned detached). */
function leadsGroup(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === pid;
  } catch {
    return false;
  }
}

/** Deadlines for a loaded two-core machine: short enough that the chaos is felt within minutes. */
const VARS = {
  GT_SECRET: SECRET,
  GT_LEASE_TTL_MS: "4000",
  GT_WITNESS_TIMEOUT_MS: "9000",
  GT_AGENT_IDLE_MS: "6000",
  GT_MERGE_TIMEOUT_MS: "20000",
  GT_STOP_TIMEOUT_MS: "15000",
  GT_RECONCILE_MS: "3000",
  GT_REBUILD_AFTER: "150",
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Container = { name: string; workspace: string; child: ChildProcess; log: WriteStream; lines: string[]; killed?: boolean };

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { log } = options;
  if (await buildGtIfStale()) log("built gt and the scripted agent (container/dist): what the agents run");
  const rng = new Rng(options.seed);
  const dir = mkdtempSync(join(tmpdir(), "townhall-soak-"));
  // As root the containers run each rig as its own user, who must pass through this directory.
  chmodSync(dir, 0o711);
  const began = Date.now();
  const at = () => Math.round((Date.now() - began) / 1000);
  const stats: Record<string, number> = {};
  const count = (what: string, n = 1) => (stats[what] = (stats[what] ?? 0) + n);
  const chaos: ChaosEvent[] = [];
  const snapshot = serverSnapshot();
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const persistDir = join(dir, "partykit");
  let server: DevServer | null = null;
  const containers: Container[] = [];
  const replicas: DocReplica[] = [];
  let stopping = false;

  const startServer = async () => {
    server = await startPartykit({ persistDir, port, vars: VARS, config: snapshot.config });
  };
  const spawnContainer = (name: string, lines: string[] = []): Container => {
    const workspace = join(dir, `workspace-${name}`);
    const logFile = createWriteStream(join(dir, `container-${name}.log`), { flags: "a" });
    const child = spawn(
      process.execPath,
      ["--import", TS_LOADER, join(ROOT, "container/main.ts"), "--host", host, "--town", town.town, "--workspace", workspace, "--heartbeat-ms", "1000"],
      { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, GT_CONTAINER_TOKEN: town.container } },
    );
    const entry: Container = { name, workspace, child, log: logFile, lines };
    let partial = "";
    const onData = (chunk: Buffer) => {
      logFile.write(chunk);
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop()!;
      for (const line of lines) if (/removed from the town|lease lost|serving the rig|standing by|killed/.test(line)) entry.lines.push(`${at()}s ${line}`);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code, signal) => {
      logFile.write(`\n=== exited (${signal ?? code}) ===\n`);
      if (!stopping && !entry.killed) log(`container ${name} exited on its own (${signal ?? code})`);
    });
    return entry;
  };
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
      return true;
    } catch {
      return false;
    }
  };
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once("exit", () => r()));

  let town!: TestTown;
  try {
    await startServer();
    town = await makeTown(host, SECRET, "soak");
    log(`server on ${host} (party/ ${snapshot.hash}), town ${town.town}, run directory ${dir}`);

    // ------------------------------------------------------------------ the town
    const reposDir = join(dir, "remotes");
    execFileSync("mkdir", ["-p", reposDir]);
    const rigNames = [...Array.from({ length: options.rigs }, (_, i) => `rig-${i + 1}`), "scratch"];
    const rigs = new Map<string, { rig: Rig; remote: string }>();
    for (const name of rigNames) {
      const remote = makeBareRepo(reposDir, name);
      rigs.set(name, { rig: await town.addRig(name, { git_url: remote, max_polecats: 2 }), remote });
    }
    containers.push(spawnContainer("a"), spawnContainer("b"));
    const townReplica = new DocReplica({ host, party: "main", room: town.town, doc: "town", token: town.viewer, WebSocket });
    replicas.push(townReplica);
    await townReplica.whenSynced();
    const rigsOf = () => [...townReplica.doc.getMap<Rig>("rigs").values()];
    await until(() => rigNames.every((n) => rigsOf().find((r) => r.name === n)?.status === "ready"), 120_000, "every rig ready");
    log(`${rigNames.length} rigs ready; containers a and b share them (one holds each lease, the other stands by)`);

    // A marker in every clone made so far: a clone deleted (or made again) by mistake loses it.
    const markers: { rig: string; path: string }[] = [];
    for (const c of containers) {
      for (const { rig } of rigs.values()) {
        const git = join(c.workspace, "rigs", rig.id, "repo", ".git");
        if (!existsSync(git)) continue;
        const path = join(git, "soak-marker");
        writeFileSync(path, rig.name);
        markers.push({ rig: rig.name, path });
      }
    }

    // ------------------------------------------------------------------ work
    const convoys: string[] = [];
    const beadSpecs = new Map<string, { rig: string; kind: string }>();
    const workRigs = rigNames.filter((n) => n !== "scratch");
    const bodyFor = (rig: string, i: number): { body: string; kind: string } => {
      const file = `work/${rig}-${i}.txt`;
      const roll = rng.next();
      const write = `write ${file}: bead ${i} of the soak`;
      if (roll < 0.35) return { body: write, kind: "plain" };
      if (roll < 0.68) return { body: `sleep ${rng.int(1500, 4000)}\n${write}`, kind: "slow" };
      if (roll < 0.76) return { body: `once exit 3\n${write}`, kind: "exits once" };
      if (roll < 0.82) return { body: `once hang\n${write}`, kind: "hangs once" };
      if (roll < 0.87) return { body: "exit 1", kind: "always fails" };
      const other = rng.pick(workRigs.filter((n) => n !== rig));
      return { body: `mail ${other}/witness: hello from ${rig}\n${write}`, kind: "mails a rig" };
    };
    const workEnds = began + options.minutes * 60_000;
    let beadCount = 0;
    const work = (async () => {
      const convoyCount = Math.max(1, Math.ceil(options.beads / 8));
      for (let c = 0; c < convoyCount && !stopping; c++) {
        const size = Math.min(options.beads - beadCount, c === convoyCount - 1 ? options.beads - beadCount : rng.int(5, 11));
        if (size <= 0) break;
        const beads = Array.from({ length: size }, () => {
          // One bead in six goes to the rig that will be removed, while it still exists.
          const rig = !chaos.some((e) => e.kind === "rig-remove") && rng.next() < 1 / 6 ? "scratch" : rng.pick(workRigs);
          const { body, kind } = bodyFor(rig, ++beadCount);
          count(`beads: ${kind}`);
          return { title: `soak bead ${beadCount}`, body, rig, kind };
        });
        const id = newId();
        const convoy = await retry(
          () => town.townCall<Convoy>("gt_convoy_create", { id, title: `soak convoy ${c + 1}`, beads: beads.map(({ kind: _k, ...b }) => b) }),
          () => stopping,
        );
        if (!convoy) break;
        convoys.push(convoy.id);
        convoy.beads.forEach((b, i) => beadSpecs.set(b.beadId, { rig: b.rigName, kind: beads[i]!.kind }));
        // Spread the convoys over the working time.
        const left = convoyCount - c - 1;
        if (left > 0) await sleep(Math.max(0, (workEnds - Date.now()) / (left + 1)) * (0.5 + rng.next()));
      }
    })();

    // ------------------------------------------------------------------ mail the harness sends (acknowledged or not)
    const acked = new Map<string, { to: string; room: "town" | string }>();
    const mail = (async () => {
      let n = 0;
      while (!stopping && Date.now() < workEnds) {
        await sleep(rng.int(500, 2500));
        const id = newId();
        const toRig = rng.pick(workRigs);
        const fromRig = rng.pick(workRigs);
        const to = rng.pick([`${toRig}/witness`, `${toRig}/refinery`, "mayor", "operator"]);
        const viaRig = rng.next() < 0.5;
        const send = viaRig
          ? () => town.rigCall(rigs.get(fromRig)!.rig, "gt_mail_send", { id, to, subject: `soak mail ${++n}`, body: "", as: `${fromRig}/witness` })
          : () => town.townCall("gt_mail_send", { id, to, subject: `soak mail ${++n}`, body: "" });
        // Retried with the same id until acknowledged: a retry stores nothing twice.
        if (await retry(send, () => stopping, 5)) acked.set(id, { to, room: to === "mayor" || to === "operator" ? "town" : to.split("/")[0]! });
        else count("mail: never acknowledged");
      }
    })();

    // ------------------------------------------------------------------ chaos
    const frozen = new Set<number>();
    /**
     * Agents' runs: the process each was started as (it leads its process group; the launcher of
     * container/sandbox.ts is its first process, the agent runs inside its PID namespace), so a
     * strike to the group reaches the agent itself whatever wraps it.
     */
    const agentPids = () => containers.flatMap((c) => processesUnder(join(c.workspace, "rigs"), /\/worktrees\//).filter(leadsGroup));
    /** An agent process to strike, waiting up to 30 s for one to run. */
    const someAgent = async (): Promise<number | null> => {
      let slung = false;
      for (const started = Date.now(); Date.now() < started + 30_000 && !stopping; await sleep(250)) {
        const pids = agentPids().filter((p) => !frozen.has(p));
        if (pids.length) return rng.pick(pids);
        if (!slung && Date.now() > started + 3000) {
          // The town's work is done (a short soak): give an agent something slow to strike.
          slung = true;
          const rig = rng.pick(workRigs);
          const { body, kind } = { body: `sleep 15000\nwrite work/${rig}-${++beadCount}.txt: a target for the chaos`, kind: "slow" };
          count(`beads: ${kind}`);
          const convoy = await retry(
            () =>
              town.townCall<Convoy>("gt_convoy_create", {
                id: newId(),
                title: `soak target ${beadCount}`,
                beads: [{ title: `soak bead ${beadCount}`, body, rig }],
              }),
            () => stopping,
          );
          if (convoy) {
            convoys.push(convoy.id);
            beadSpecs.set(convoy.beads[0]!.beadId, { rig, kind });
          }
        }
      }
      return null;
    };
    const schedule: ChaosKind[] = [];
    const nextKind = (): ChaosKind => {
      if (!schedule.length) schedule.push(...shuffle(rng, [...CHAOS_KINDS]));
      return schedule.shift()!;
    };
    const strike = async (kind: ChaosKind) => {
      const event = (detail: string, struck = true) => {
        chaos.push({ atS: at(), kind, detail, struck });
        log(`${at()}s chaos: ${kind}: ${detail}`);
      };
      switch (kind) {
        case "server-kill": {
          await server!.kill();
          event("partykit dev SIGKILLed; restarted on the same storage");
          await startServer();
          return;
        }
        case "server-freeze": {
          const ms = rng.int(3000, 8000);
          signal(-server!.process.pid!, "SIGSTOP");
          event(`partykit dev SIGSTOPped for ${ms} ms`);
          await sleep(ms);
          signal(-server!.process.pid!, "SIGCONT");
          return;
        }
        case "container-kill": {
          const c = rng.pick(containers);
          const old = c.child;
          c.killed = true;
          signal(old.pid!, "SIGKILL"); // the supervisor alone: its agents live on, orphaned
          await exited(old);
          const ms = rng.int(500, 3000);
          event(`container ${c.name}'s supervisor SIGKILLed; restarted on its workspace after ${ms} ms`);
          await sleep(ms);
          const next = spawnContainer(c.name, c.lines);
          containers[containers.indexOf(c)] = next;
          return;
        }
        case "container-freeze": {
          const c = rng.pick(containers);
          const ms = rng.int(Number(VARS.GT_LEASE_TTL_MS) + 1000, 3 * Number(VARS.GT_LEASE_TTL_MS));
          // Agents run in process groups of their own: the supervisor's group is not enough.
          const agents = processesUnder(c.workspace, /./);
          signal(-c.child.pid!, "SIGSTOP");
          for (const pid of agents) signal(pid, "SIGSTOP");
          event(`container ${c.name} and its agents SIGSTOPped for ${ms} ms`);
          await sleep(ms);
          signal(-c.child.pid!, "SIGCONT");
          for (const pid of agents) if (!frozen.has(pid)) signal(pid, "SIGCONT");
          return;
        }
        case "agent-kill": {
          const pid = await someAgent();
          if (!pid) return event("no agent was running for 30 s", false);
          signal(-pid, "SIGKILL");
          return event(`agent run ${pid} SIGKILLed (its process group)`);
        }
        case "agent-freeze": {
          const pid = await someAgent();
          if (!pid) return event("no agent was running for 30 s", false);
          signal(-pid, "SIGSTOP"); // never continued: alive and silent, a hung agent
          frozen.add(pid);
          return event(`agent run ${pid} SIGSTOPped for good (its process group)`);
        }
        case "rig-remove": {
          await retry(
            () => town.townCall("gt_rig_remove", { name: "scratch" }),
            () => false,
            20,
          );
          return event("rig scratch removed mid-convoy");
        }
      }
    };
    // Chaos strikes until the time is up and every kind has struck at least once.
    const unstruck = () => CHAOS_KINDS.filter((k) => !chaos.some((e) => e.kind === k && e.struck));
    const chaosLoop = (async () => {
      const removeAt = began + options.minutes * 60_000 * (0.3 + 0.3 * rng.next());
      while (!stopping && (Date.now() < workEnds || (unstruck().length && Date.now() < workEnds + 5 * 60_000))) {
        await sleep(1000 * rng.int(options.chaosGapS[0], options.chaosGapS[1]));
        const kind = Date.now() < workEnds ? nextKind() : unstruck()[0];
        if (!kind) break;
        await strike(!chaos.some((e) => e.kind === "rig-remove") && Date.now() >= removeAt ? "rig-remove" : kind);
      }
      if (!chaos.some((e) => e.kind === "rig-remove")) await strike("rig-remove");
    })();

    await Promise.all([work, mail, chaosLoop]);
    // Everything runs again: no process stays frozen but the agents meant to hang.
    signal(-server!.process.pid!, "SIGCONT");
    for (const c of containers) signal(-c.child.pid!, "SIGCONT");
    const chaosEnded = Date.now();
    log(`${at()}s chaos over: ${chaos.length} events, ${beadCount} beads in ${convoys.length} convoys; waiting for every convoy to land`);

    // ------------------------------------------------------------------ settle
    const landed = async () => {
      try {
        const list = await town.townCall<Convoy[]>("gt_list_convoys", {});
        // Finished: landed (every bead closed) or stuck (every bead finished, some failed).
        return convoys.every((id) => ["landed", "stuck"].includes(list.find((c) => c.id === id)?.status ?? ""));
      } catch {
        return false;
      }
    };
    const settleBy = Date.now() + options.settleMinutes * 60_000;
    while (!(await landed()) && Date.now() < settleBy) await sleep(2000);
    // And quiet: no run left anywhere, the processes gone, the worktrees removed.
    const quiet = async () => {
      for (const name of workRigs) {
        const agents = await town.rigCall<Agent[]>(rigs.get(name)!.rig, "gt_list_agents", {}).catch(() => null);
        if (!agents || agents.some((a) => a.run)) return false;
      }
      return agentPids().length === 0;
    };
    const quietBy = Date.now() + 60_000;
    while (!(await quiet()) && Date.now() < quietBy) await sleep(1000);
    const settleS = Math.round((Date.now() - chaosEnded) / 1000);
    log(`${at()}s settled after ${settleS} s; checking`);

    // ------------------------------------------------------------------ checks
    const checks: Check[] = [];
    const check = (name: string, checked: number, problems: string[]) =>
      checks.push({
        name,
        ok: problems.length === 0,
        checked,
        detail: problems.length ? problems.slice(0, 5).join("; ") + (problems.length > 5 ? `; … ${problems.length - 5} more` : "") : "",
      });

    const list = await town.townCall<Convoy[]>("gt_list_convoys", {});
    const ours = convoys.map((id) => list.find((c) => c.id === id)!).filter(Boolean);
    const rigBeads = new Map<string, Bead>();
    for (const name of workRigs) for (const b of await town.rigCall<Bead[]>(rigs.get(name)!.rig, "gt_list_beads", {})) rigBeads.set(b.id, b);
    const removed = new Set(["scratch"]);

    // 1. Every bead closed or failed with a reason.
    {
      const problems: string[] = [];
      let n = 0;
      for (const convoy of ours) {
        for (const cb of convoy.beads) {
          n++;
          if (removed.has(cb.rigName)) {
            if (cb.status !== "failed" && cb.status !== "closed") problems.push(`${cb.beadId} (removed rig) is ${cb.status}`);
            else if (cb.status === "failed" && !cb.note && !cb.failure) problems.push(`${cb.beadId} (removed rig) failed, and its convoy does not say why`);
            continue;
          }
          const bead = rigBeads.get(cb.beadId);
          if (!bead) problems.push(`${cb.beadId} missing from ${cb.rigName}`);
          else if (bead.status !== "closed" && bead.status !== "failed") problems.push(`${bead.id} in ${cb.rigName} is ${bead.status}`);
          else if (bead.status === "failed" && !bead.failure) problems.push(`${bead.id} failed with no reason`);
          if (bead) count(`beads ${bead.status}`);
        }
      }
      check("every bead closed, or failed with a reason", n, problems);
    }

    // 2. Every closed bead merged exactly once on its remote; no failed bead merged.
    {
      const problems: string[] = [];
      const merges = new Map<string, number>();
      for (const name of workRigs) for (const [bead, n] of mergesByBead(rigs.get(name)!.remote)) merges.set(bead, n);
      let n = 0;
      for (const bead of rigBeads.values()) {
        n++;
        const m = merges.get(bead.id) ?? 0;
        if (bead.status === "closed" && m !== 1) problems.push(`closed ${bead.id} merged ${m} times`);
        if (bead.status === "failed" && m !== 0) problems.push(`failed ${bead.id} merged ${m} times`);
      }
      for (const id of merges.keys()) if (!rigBeads.has(id)) problems.push(`a merge of unknown bead ${id}`);
      count(
        "merges on the remotes",
        [...merges.values()].reduce((a, b) => a + b, 0),
      );
      check("every closed bead merged exactly once on its remote (no failed one merged)", n, problems);
    }

    // 3. Every convoy landed with the right counts.
    {
      const problems: string[] = [];
      for (const convoy of ours) {
        // The state its beads say: landed only when every bead closed, stuck when one failed.
        const expected = convoy.beads.some((b) => b.status === "failed") ? "stuck" : "landed";
        if (convoy.status !== expected) problems.push(`convoy ${convoy.title} is ${convoy.status}, its beads say ${expected}`);
        for (const cb of convoy.beads) {
          if (removed.has(cb.rigName)) continue;
          const bead = rigBeads.get(cb.beadId);
          if (bead && bead.status !== cb.status) problems.push(`convoy ${convoy.title} says ${cb.beadId} is ${cb.status}, its rig says ${bead.status}`);
        }
        const done = convoy.beads.filter((b) => b.status === "closed" || b.status === "failed").length;
        if (done !== convoy.beads.length) problems.push(`convoy ${convoy.title} counts ${done}/${convoy.beads.length}`);
      }
      check("every convoy finished (landed, or stuck on a failed bead), its counts matching its rigs", ours.length, problems);
    }

    // 4. Every acknowledged mail in its inbox exactly once.
    {
      const problems: string[] = [];
      const inboxes = new Map<string, Map<string, Mail>>();
      const inbox = async (room: string) => {
        if (!inboxes.has(room)) {
          // The town's mail is its own document, read by town-wide operators.
          const replica =
            room === "town"
              ? new DocReplica({ host, party: "main", room: town.town, doc: "mail", token: town.operator, WebSocket })
              : new DocReplica({ host, party: "rig", room: town.rigRoom(rigs.get(room)!.rig), doc: "rig", token: town.viewer, WebSocket });
          replicas.push(replica);
          const doc = await replica.whenSynced();
          inboxes.set(room, new Map(doc.getMap<Mail>("mail").entries()));
          replica.close();
        }
        return inboxes.get(room)!;
      };
      // A mailbox keeps its last LIMITS.mailboxKept mails in the document and moves older ones to the
      // room's storage: a mail not in the document is asked for by id (gt_mail_read reads both, as
      // its recipient), so an archived mail counts and a lost one does not.
      const archived = async (id: string, to: string, room: string): Promise<Mail | null> => {
        try {
          if (room === "town") return await town.townCall<Mail>("gt_mail_read", { id, as: to });
          const rig = rigs.get(room)!.rig;
          return await town.rigCall<Mail>(rig, "gt_mail_read", { id }, await town.token({ role: "agent", rig: rig.id, agent: to }));
        } catch (error) {
          if (error instanceof ToolCallError && error.code === "INVALID_ARGS") return null;
          throw error;
        }
      };
      for (const [id, { to, room }] of acked) {
        const box = await inbox(room);
        const found = [...box.values()].filter((m) => m.id === id && m.to === to);
        if (found.length === 0) {
          const stored = await archived(id, to, room);
          if (stored?.to === to) found.push(stored);
        }
        if (found.length !== 1) problems.push(`mail ${id} to ${to}: ${found.length} in its inbox`);
        else if (found[0]!.state !== "delivered" && found[0]!.state !== "read") problems.push(`mail ${id} to ${to} is ${found[0]!.state}`);
      }
      count("mail acknowledged", acked.size);
      check("every acknowledged mail in its inbox exactly once", acked.size, problems);
    }

    // 5. No clone deleted but the removed rig's.
    {
      const problems: string[] = [];
      for (const marker of markers) {
        if (removed.has(marker.rig)) continue;
        if (!existsSync(marker.path)) problems.push(`${marker.rig}'s clone lost its marker (${marker.path})`);
      }
      for (const c of containers) {
        for (const line of c.lines)
          if (/removed from the town/.test(line) && ![...removed].some((r) => line.includes(`[${r}]`))) problems.push(`container ${c.name}: ${line}`);
        const scratch = rigs.get("scratch")!.rig;
        if (existsSync(join(c.workspace, "rigs", scratch.id))) problems.push(`container ${c.name} still has the removed rig's clone`);
      }
      check("no clone deleted but the removed rig's (which is gone)", markers.length, problems);
    }

    // 6. No orphan process, worktree or gt/ branch. Cleaning up is the containers' own work and runs
    // on their reconcile ticks, so an orphan must be gone within a bound, not at the very instant the
    // last convoy landed: looked at again until clean, for at most ORPHAN_BOUND_MS.
    {
      let problems: string[] = [];
      let n = 0;
      for (const by = Date.now() + ORPHAN_BOUND_MS; ; await sleep(500)) {
        problems = [];
        n = 0;
        const strays = processesUnder(dir, /\/worktrees\//);
        if (strays.length) problems.push(`agent processes still running: ${strays.join(", ")}`);
        for (const c of containers) {
          for (const id of readdirSafe(join(c.workspace, "rigs"))) {
            n++;
            const worktrees = readdirSafe(join(c.workspace, "rigs", id, "worktrees"));
            if (worktrees.length) problems.push(`container ${c.name}, rig ${id}: worktrees ${worktrees.join(", ")}`);
            const repo = join(c.workspace, "rigs", id, "repo");
            if (existsSync(repo)) {
              const branches = execFileSync("git", [...AS_ANY_OWNER, "-C", repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/gt/"], {
                encoding: "utf8",
              }).trim();
              if (branches) problems.push(`container ${c.name}, rig ${id}: branches ${branches.split("\n").join(", ")}`);
            }
          }
        }
        for (const name of workRigs) {
          const remoteBranches = execFileSync(
            "git",
            [...AS_ANY_OWNER, "--git-dir", rigs.get(name)!.remote, "for-each-ref", "--format=%(refname:short)", "refs/heads/gt/"],
            { encoding: "utf8" },
          ).trim();
          if (remoteBranches) problems.push(`remote of ${name}: branches ${remoteBranches}`);
        }
        if (!problems.length || Date.now() >= by) break;
      }
      check("no orphan process, worktree or gt/ branch", n, problems);
    }

    for (const b of rigBeads.values()) count("attempts counted", b.attempts ?? 0);
    for (const c of containers) count(`container ${c.name}: lease changes seen`, c.lines.filter((l) => /serving the rig|lease lost/.test(l)).length);
    count("convoys", ours.length);
    const report: SoakReport = {
      options: {
        minutes: options.minutes,
        rigs: options.rigs,
        beads: options.beads,
        seed: options.seed,
        chaosGapS: options.chaosGapS,
        settleMinutes: options.settleMinutes,
      },
      server: { hash: snapshot.hash, git: snapshot.git },
      durationS: at(),
      settleS,
      checks,
      violations: checks.filter((c) => !c.ok).length,
      chaos,
      stats,
      dir,
    };
    return report;
  } finally {
    stopping = true;
    for (const r of replicas) r.close();
    town?.closeAll();
    for (const c of containers) {
      signal(-c.child.pid!, "SIGCONT");
      signal(-c.child.pid!, "SIGTERM");
    }
    await Promise.race([Promise.all(containers.map((c) => exited(c.child))), sleep(10_000)]);
    for (const c of containers) {
      signal(-c.child.pid!, "SIGKILL");
      c.log.end();
    }
    for (const pid of processesUnder(dir, /./)) signal(pid, "SIGKILL");
    for (const c of containers) await deleteRigUsers(c.workspace);
    if (server) {
      signal(-(server as DevServer).process.pid!, "SIGCONT");
      await (server as DevServer).stop();
    }
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** Merge commits on the remote's main, per bead (their `Bead: <id>` trailer). */
function mergesByBead(remote: string): Map<string, number> {
  const out = execFileSync("git", [...AS_ANY_OWNER, "--git-dir", remote, "log", "--merges", "--format=%B%x01", "main"], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const counts = new Map<string, number>();
  for (const message of out.split("\x01")) {
    const bead = message.match(/^Bead: ([0-9A-HJKMNP-TV-Z]{26})$/m)?.[1];
    if (bead) counts.set(bead, (counts.get(bead) ?? 0) + 1);
  }
  return counts;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Calls until it answers (a server down for a moment is retried); null once `stop()` or after `tries`. */
async function retry<T>(call: () => Promise<T>, stop: () => boolean, tries = 120): Promise<T | null> {
  for (let i = 0; i < tries && !stop(); i++) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ToolCallError && error.status !== undefined && error.status < 500 && error.status !== 429) throw error;
      await sleep(500 + 250 * i);
    }
  }
  return null;
}

async function until(predicate: () => boolean, timeoutMs: number, label: string): Promise<void> {
  const by = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > by) throw new Error(`${label}: not reached in ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** The report as markdown: the run, the checks table, the chaos it survived, the counts. */
export function renderSoak(report: SoakReport): string {
  const o = report.options;
  const lines = [
    `# Soak: ${report.violations === 0 ? "0 violations" : `${report.violations} violation${report.violations === 1 ? "" : "s"}`}`,
    "",
    `${o.minutes} min of work and chaos, then ${report.settleS} s to settle (${report.durationS} s in all); ${o.rigs} rigs plus one removed mid-run, two containers, ${o.beads} beads in convoys, seed ${o.seed}, chaos every ${o.chaosGapS[0]}–${o.chaosGapS[1]} s. Server code ${report.server.hash} (${report.server.git}). Deadlines: ${Object.entries(
      VARS,
    )
      .filter(([k]) => k !== "GT_SECRET")
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}.`,
    "",
    "| check | checked | result | detail |",
    "| --- | ---: | --- | --- |",
    ...report.checks.map((c) => `| ${c.name} | ${c.checked} | ${c.ok ? "ok" : "**VIOLATED**"} | ${c.detail.replace(/\|/g, "\\|")} |`),
    "",
    "## Chaos",
    "",
    "| kind | times |",
    "| --- | ---: |",
    ...Object.entries(report.chaos.filter((e) => e.struck).reduce<Record<string, number>>((acc, e) => ((acc[e.kind] = (acc[e.kind] ?? 0) + 1), acc), {})).map(
      ([k, n]) => `| ${k} | ${n} |`,
    ),
    "",
    "<details><summary>every event</summary>",
    "",
    ...report.chaos.map((e) => `- ${e.atS} s: ${e.kind}: ${e.detail}`),
    "",
    "</details>",
    "",
    "## Counts",
    "",
    "| what | n |",
    "| --- | ---: |",
    ...Object.entries(report.stats)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `| ${k} | ${v} |`),
    "",
  ];
  return lines.join("\n");
}

/** Several seeds' reports as one record: a line per seed, then each report (its headings one level down). */
export function renderSoakSeeds(reports: SoakReport[]): string {
  const violations = reports.reduce((n, r) => n + r.violations, 0);
  const summary = [
    `# Soak, ${reports.length} seeds: ${violations === 0 ? "0 violations" : `${violations} violation${violations === 1 ? "" : "s"}`}`,
    "",
    "| seed | beads closed | beads failed | merges | convoys | mail acknowledged | chaos struck | settled in | violations |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...reports.map((r) => {
      const failed = r.checks.filter((c) => !c.ok).map((c) => c.name);
      return `| ${r.options.seed} | ${r.stats["beads closed"] ?? 0} | ${r.stats["beads failed"] ?? 0} | ${r.stats["merges on the remotes"] ?? 0} | ${r.stats.convoys ?? 0} | ${r.stats["mail acknowledged"] ?? 0} | ${r.chaos.filter((e) => e.struck).length} | ${r.settleS} s | ${failed.length ? failed.join("; ") : "0"} |`;
    }),
    "",
  ];
  return [...summary, ...reports.map((r) => renderSoak(r).replace(/^#/gm, "##"))].join("\n");
}
