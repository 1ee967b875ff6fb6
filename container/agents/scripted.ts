/**
 * The built-in `scripted` agent runtime: deterministic, for the demo and the tests.
 * It reads its hooked bead, does what the bead's body says, commits a real change in its worktree,
 * and calls gt_done. Body lines it understands (everything else is prose):
 *
 *   write <path>: <text>          write the file (relative to the worktree) with this line
 *   append <path>: <text>         append the line to the file
 *   mail <address>: <subject>     send mail (body: the bead title)
 *   await-mail                    wait for a mail, then append "<from>: <subject>" to inbox.md
 *                                 (the witness's nudges are acknowledged and waited past)
 *   say <text>                    print the line on stdout (what an agent reports as it works)
 *   sleep <ms>                    work for a while (prints that it does)
 *   exit <code>                   exit now with this code, without gt_done (a failing agent)
 *   exit <code>: <text>           the same, printing the line on stderr first (why it failed)
 *   hang                          stay alive doing nothing: no output, no tool call (a hung agent)
 *   once <step>                   do <step> only on the bead's first try (while it has no failed runs)
 *   first <n> <step>              do <step> only in the bead's first n runs (a failure that an
 *                                 operator's retry, which resets attempts but not runs, gets past)
 *
 * With no write, append or await-mail line it writes notes/<bead8>.md from the bead's title and body.
 */
import { mkdir, appendFile, lstat, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { simpleGit } from "simple-git";
import WebSocket from "ws";
import type { EventFrame, Mail, PrimeResult } from "../../party/protocol.ts";
import { ToolSocket } from "../../client/tools.ts";

type Step = (
  | { kind: "write" | "append"; path: string; text: string }
  | { kind: "mail"; to: string; subject: string }
  | { kind: "await-mail" }
  | { kind: "say"; text: string }
  | { kind: "sleep"; ms: number }
  | { kind: "exit"; code: number; text?: string }
  | { kind: "hang" }
) & { once?: boolean; firstRuns?: number };

export function parseSteps(body: string): Step[] {
  const steps: Step[] = [];
  for (const raw of body.split("\n")) {
    let line = raw.trim();
    const once = /^once\s+/.test(line);
    if (once) line = line.replace(/^once\s+/, "");
    const first = line.match(/^first\s+(\d{1,3})\s+/);
    if (first) line = line.slice(first[0].length);
    const step = parseStep(line);
    if (step) steps.push({ ...step, ...(once ? { once } : {}), ...(first ? { firstRuns: Number(first[1]) } : {}) });
  }
  return steps;
}

/** The steps this run does: `once` steps on the bead's first try only, `first <n>` ones in its first n runs. */
export function stepsForRun(steps: Step[], bead: { attempts?: number; runs?: number }): Step[] {
  const firstTry = (bead.attempts ?? 0) === 0;
  const run = bead.runs ?? 1; // the room counts this run already
  return steps.filter((s) => (!s.once || firstTry) && (s.firstRuns === undefined || run <= s.firstRuns));
}

function parseStep(line: string): Step | null {
  let m: RegExpMatchArray | null;
  if ((m = line.match(/^(write|append)\s+([^:]+):\s?(.*)$/))) return { kind: m[1] as "write" | "append", path: m[2]!.trim(), text: m[3]! };
  if ((m = line.match(/^mail\s+([^:\s]+):\s?(.*)$/))) return { kind: "mail", to: m[1]!, subject: m[2]! || "(no subject)" };
  if (line === "await-mail") return { kind: "await-mail" };
  if ((m = line.match(/^say\s+(.+)$/))) return { kind: "say", text: m[1]! };
  if ((m = line.match(/^sleep\s+(\d{1,7})$/))) return { kind: "sleep", ms: Number(m[1]) };
  if ((m = line.match(/^exit\s+(\d{1,3})(?::\s?(.*))?$/))) return { kind: "exit", code: Number(m[1]), ...(m[2] ? { text: m[2] } : {}) };
  if (line === "hang") return { kind: "hang" };
  return null;
}

/** The witness's nudge to a silent agent: not the mail an `await-mail` step waits for. */
function isNudge(mail: Mail): boolean {
  return mail.from.endsWith("/witness") && mail.subject.startsWith("nudge:");
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/**
 * A path inside the worktree, or an error: an agent never writes outside its worktree, not through
 * `..`, not through a symlink the repository holds, and never into git's own files.
 */
export async function inside(root: string, path: string): Promise<string> {
  const full = resolve(root, path);
  const rel = relative(root, full);
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw new Error(`path outside the worktree: ${path}`);
  if (rel.split(sep).includes(".git")) throw new Error(`path inside git's files: ${path}`);
  // Every part that exists, the file included, must be what it says: a symlink (to a directory or a
  // file) could lead anywhere. Checked before mkdir, which would itself follow a linked directory.
  let at = root;
  for (const part of rel.split(sep)) {
    at = join(at, part);
    const stat = await lstat(at).catch(() => null);
    if (!stat) break; // the rest is created below, inside what was checked
    if (stat.isSymbolicLink()) throw new Error(`path goes through a link: ${path}`);
  }
  await mkdir(dirname(full), { recursive: true });
  return full;
}

async function main(): Promise<number> {
  const root = process.cwd();
  // An agent does not outlive its supervisor: reparented means the supervisor died. Its parent at
  // start is the supervisor (which spawns it directly); the agent is not told the supervisor's pid.
  const supervisor = process.ppid;
  setInterval(() => process.ppid !== supervisor && process.exit(1), 250).unref();
  const socket = new ToolSocket({
    host: env("GT_HOST"),
    secure: process.env.GT_SECURE === "1",
    party: "rig",
    // GT_RIG is the rig's name (as Gas Town sets it); its room is named by the id beside it.
    room: `${env("GT_TOWN")}.${process.env.GT_RIG_ID || env("GT_RIG")}`,
    token: env("GT_TOKEN"),
    WebSocket,
  });
  const arrivals: Mail[] = [];
  let wake: (() => void) | null = null;
  socket.onEvent((event: EventFrame) => {
    if (event.event === "mail") wake?.();
  });
  try {
    await socket.ready;
    const { hook, mail } = await socket.call<PrimeResult>("gt_prime");
    if (!hook) {
      console.log("no hooked bead; nothing to do");
      return 0;
    }
    arrivals.push(...mail.filter((m) => !isNudge(m)));
    const steps = stepsForRun(parseSteps(hook.body), hook);
    const changesFiles = steps.some((s) => s.kind === "write" || s.kind === "append" || s.kind === "await-mail");
    for (const step of steps) {
      switch (step.kind) {
        case "write":
        case "append": {
          const file = await inside(root, step.path);
          await (step.kind === "write" ? writeFile : appendFile)(file, `${step.text}\n`);
          break;
        }
        case "mail":
          await socket.call("gt_mail_send", { to: step.to, subject: step.subject, body: hook.title });
          break;
        case "await-mail": {
          for (;;) {
            const arrived = new Promise<void>((resolve) => (wake = resolve));
            const unread = await socket.call<Mail[]>("gt_mail_check");
            const nudges = unread.filter(isNudge);
            if (nudges.length) await socket.call("gt_mail_ack", { ids: nudges.map((m) => m.id) });
            arrivals.push(...unread.filter((m) => !isNudge(m) && !arrivals.some((a) => a.id === m.id)));
            if (arrivals.length) break;
            await arrived; // the room pushes a mail event when one lands
          }
          const got = arrivals.shift()!;
          await appendFile(await inside(root, "inbox.md"), `${got.from}: ${got.subject}\n`);
          await socket.call("gt_mail_ack", { ids: [got.id] }); // handed over: it is in the work now
          break;
        }
        case "say":
          console.log(step.text);
          break;
        case "sleep":
          console.log(`working for ${step.ms} ms`);
          await new Promise((resolve) => setTimeout(resolve, step.ms));
          break;
        case "exit":
          if (step.text) console.error(step.text);
          return step.code;
        case "hang":
          socket.close();
          setInterval(() => {}, 60_000); // keeps the process alive (the orphan check's timer does not)
          await new Promise(() => {}); // alive, silent, until stopped
          break;
      }
    }
    if (!changesFiles) {
      const file = await inside(root, `notes/${hook.id.slice(-8).toLowerCase()}.md`);
      await writeFile(file, `# ${hook.title}\n\n${hook.body}\n`);
    }
    // Answers read once git's pipes close, not 50 ms after it exits (simple-git's default loses late output under load).
    const git = simpleGit({ baseDir: root, completion: { onClose: true, onExit: false } });
    await git.add(["-A"]);
    await git.commit(`${hook.title}\n\nBead: ${hook.id}\nAgent: ${env("GT_AGENT")}`);
    const branch = (await git.revparse(["--abbrev-ref", "HEAD"])).trim();
    await socket.call("gt_done", { branch, summary: `committed ${steps.length} step(s)` });
    console.log(`done: ${hook.id} on ${branch}`);
    return 0;
  } finally {
    socket.close();
  }
}

// Run as a program: the source (through tsx) or its bundle, container/dist/scripted.js.
if (/scripted\.[jt]s$/.test(process.argv[1] ?? "")) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`scripted agent failed: ${error instanceof Error ? error.message : error}`);
      process.exit(1);
    },
  );
}
