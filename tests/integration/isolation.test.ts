/**
 * Agents hold no secret but their own token (and keys an operator gives them): every agent is taken as possibly hostile. On a real container
 * process run as root (as here and in CI), an agent is its rig's own unprivileged user, reads no
 * other rig's files, cannot read the supervisor's environment (which holds the container token),
 * finds no token on the supervisor's command line, and is given nothing of its environment. The
 * agent is a shell command that writes down what it can and cannot do, commits it and hands it in;
 * the test reads what got merged into the rig's remote.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import type { Bead, Rig } from "../../party/protocol.ts";
import { isolating, rigUserName } from "../../container/rig-user.ts";
import { spawnContainer, type ContainerProcess } from "../helpers/container.ts";
import { makeBareRepo, showFile } from "../helpers/git.ts";
import { makeTown, type TestTown, untilReplica } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;
let dir: string;
let containers: ContainerProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "townhall-isolation-"));
});
afterEach(async () => {
  await Promise.all(containers.splice(0).map((c) => c.stop()));
  town?.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

/** The agent: each line `<fact>=<what it found>`, then its environment, all committed and handed in. */
function agentScript(workspace: string, own: Rig, other: Rig, otherRemote: string): string {
  const can = (what: string, command: string) => `if ${command} >/dev/null 2>&1; then echo ${what}=yes; else echo ${what}=no; fi`;
  return [
    "{",
    'echo "uid=$(id -u)"',
    'echo "user=$(id -un)"',
    can("list-other-rig", `ls ${join(workspace, "rigs", other.id)}`),
    can("read-other-clone", `cat ${join(workspace, "rigs", other.id, "repo", "README.md")}`),
    can("read-other-remote", `cat ${join(otherRemote, "HEAD")}`),
    can("list-rigs", `ls ${join(workspace, "rigs")}`),
    // Every process it can see (its own run's only: a PID namespace of its own), none the supervisor.
    can("read-supervisor-env", "cat /proc/[0-9]*/environ | tr '\\0' '\\n' | grep -q '^GT_CONTAINER_TOKEN='"),
    `echo "own-rig-dir=$(stat -c '%U %a' ${join(workspace, "rigs", own.id)})"`,
    // Its temporary files (tsx's compiled-code cache among them) in a directory of its own, not the shared /tmp.
    'echo "tmpdir=$TMPDIR"',
    `echo "tmpdir-owner=$(stat -c '%U %a' "$TMPDIR")"`,
    "} > facts.txt",
    // The command lines it can see, arguments space-separated: its own run's (the supervisor's is not among them).
    "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done > cmdline.txt",
    "env | sort > env.txt",
    'git add -A && git commit -q -m "what the agent could see" && gt done',
  ].join("\n");
}

/** The variables an agent is given (rig-worker.ts), and what its shell adds itself. */
const AGENT_ENV = [
  "PATH",
  "HOME",
  "TMPDIR",
  "LANG",
  "GT_HOST",
  "GT_SECURE",
  "GT_TOWN",
  "GT_ROLE",
  "GT_RIG",
  "GT_RIG_ID",
  "GT_POLECAT",
  "GT_AGENT",
  "GT_TOKEN",
  "GT_BEAD",
  "GT_DEFAULT_BRANCH",
];
const GIT_IDENTITY = ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"];
const SHELL_ENV = ["PWD", "OLDPWD", "SHLVL", "_"];

describe.runIf(isolating())("agents as their rig's own user (the container runs as root)", () => {
  it("an agent cannot read another rig, the supervisor's environment or a token on its command line, and holds no secret", async () => {
    town = await makeTown(host, secret, "iso");
    const alphaRemote = makeBareRepo(dir, "alpha");
    const betaRemote = makeBareRepo(dir, "beta");
    const alpha = await town.addRig("alpha", { git_url: alphaRemote });
    const beta = await town.addRig("beta", { git_url: betaRemote });
    const workspace = join(dir, "workspace");
    // The supervisor's environment holds the container token (spawnContainer) and, here, the secret too.
    process.env.GT_SECRET = secret;
    let container: ContainerProcess;
    try {
      container = spawnContainer({
        host,
        town: town.town,
        token: town.container,
        workspace,
        extra: ["--rig-command", `alpha=${agentScript(workspace, alpha, beta, betaRemote)}`],
      });
    } finally {
      delete process.env.GT_SECRET;
    }
    containers.push(container);
    await container.waitFor(/\[beta\] ready/); // beta's clone is there to be read, or not

    const replica = town.replica("rig", town.rigRoom(alpha));
    await replica.whenSynced();
    const task = await town.rigCall<Bead>(alpha, "gt_bead_create", { title: "look around", body: "whatever the command does" });
    const beads = () => [...replica.doc.getMap<Bead>("beads").values()];
    await untilReplica(replica, () => beads().find((b) => b.id === task.id)?.status === "closed", 45_000, "the agent's bead closed");

    const userName = rigUserName(alpha.id);
    const uid = Number(execFileSync("id", ["-u", userName], { encoding: "utf8" }).trim());
    const facts = Object.fromEntries(
      showFile(alphaRemote, "facts.txt")!
        .split("\n")
        .map((line) => line.split("=") as [string, string]),
    );
    expect(uid).toBeGreaterThan(0);
    expect(facts).toEqual({
      uid: String(uid),
      user: userName,
      "list-other-rig": "no",
      "read-other-clone": "no",
      "read-other-remote": "no",
      "list-rigs": "no",
      "read-supervisor-env": "no",
      "own-rig-dir": `${userName} 700`,
      tmpdir: join(workspace, "rigs", alpha.id, "tmp"),
      "tmpdir-owner": `${userName} 700`,
    });
    // What the agent could not read is there: root can.
    expect(existsSync(join(workspace, "rigs", beta.id, "repo", "README.md"))).toBe(true);
    expect(existsSync(join(betaRemote, "HEAD"))).toBe(true);
    const rigDir = statSync(join(workspace, "rigs", alpha.id));
    expect([rigDir.uid, rigDir.mode & 0o777]).toEqual([uid, 0o700]);
    expect(statSync(join(workspace, "rigs", beta.id)).uid).not.toBe(uid);

    // The command lines the agent could read: its own run's, not the supervisor's; no token on any.
    const cmdline = showFile(alphaRemote, "cmdline.txt")!;
    expect(cmdline).toContain("git add -A");
    expect(cmdline).not.toContain("container/main.ts");
    expect(cmdline).not.toContain(town.container);

    const env = showFile(alphaRemote, "env.txt")!;
    const names = env.split("\n").map((line) => line.split("=")[0]!);
    expect(names.filter((n) => !SHELL_ENV.includes(n)).sort()).toEqual([...AGENT_ENV, ...GIT_IDENTITY].sort());
    expect(env).not.toContain(town.container);
    expect(env).not.toContain(secret);
    expect(env).toContain(`HOME=${join(workspace, "rigs", alpha.id, "home")}\n`);
  });
});
