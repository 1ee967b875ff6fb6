/**
 * The living demo: the work `npm start` slings after its first convoy lands, so that whoever opens
 * the dashboard a minute (or an hour) later finds agents at work and something to triage.
 *
 * Pure: which work comes next, how long until then, and when to hold back. scripts/start.ts calls
 * the tools. Every bead body is written in the scripted agent's language
 * (container/agents/scripted.ts): `say`, `sleep`, `write`, `mail`, `await-mail`, `exit <code>: <why>`,
 * `once`, `first <n>`, `hang`.
 *
 * What comes, in a shuffled deck so that every round has one of each:
 *   steady   a bead that works for a few seconds, reports what it does, commits
 *   release  a small convoy across the three rigs (now and then with a flaky bead in it)
 *   handoff  a backend bead that waits for mail, and a bead in another rig that sends it
 *   fails    a bead whose first three runs exit non-zero with a line on stderr: it fails, and
 *            passes once an operator retries it
 *   flaky    a bead whose first try exits non-zero: the rig runs it again and it passes
 *   hangs    a bead whose first run goes silent: the witness nudges it, stops it, and it passes
 * Bounds: no new work while DEMO_BOUNDS.activeBeads beads are open or in progress, nor while
 * DEMO_BOUNDS.failedBeads beads have failed and nobody dealt with them (retried, moved, closed), so
 * a demo left alone stops growing once it has enough to triage.
 */
import type { Priority } from "../party/protocol.ts";

export type DemoBead = { title: string; body: string; requires?: string[]; rig?: string; priority?: Priority };
export type PlacedBead = DemoBead & { rig: string };

export type DemoWork =
  | { kind: "convoy"; title: string; beads: DemoBead[] }
  | { kind: "bead"; bead: DemoBead }
  /** The waiter is slung first; once a polecat holds it, the sender is slung to mail that polecat. */
  | { kind: "handoff"; waiter: PlacedBead; senderRig: string; sender: (to: string) => PlacedBead };

export const DEMO_KINDS = ["steady", "release", "handoff", "fails", "flaky", "hangs"] as const;
export type DemoKind = (typeof DEMO_KINDS)[number];

/** Hold back new work at this many active (open, in progress, in review) or failed beads in the town. */
export const DEMO_BOUNDS = { activeBeads: 8, failedBeads: 4 } as const;

/** Seconds between two pieces of work (a random pick in the range each time). */
export const DEMO_EVERY_S: readonly [number, number] = [20, 40];

/** One pause of a working agent (ms): at most 12 s without a line, far from the witness's 30 s. */
const PAUSE_MS: [number, number] = [5000, 12000];

/** The run after which a failing demo bead passes: the rig gives up after its third (GT_MAX_RUNS). */
const FAILING_RUNS = 3;

export type TownLoad = { active: number; failed: number };

/**
 * Why the demo holds back new work now, or null when it may sling. `needs: "operator"` when only
 * someone dealing with failed beads lets it carry on; `"time"` when the town is just busy.
 */
export function demoHold(
  load: TownLoad,
  bounds: { activeBeads: number; failedBeads: number } = DEMO_BOUNDS,
): { needs: "operator" | "time"; why: string } | null {
  if (load.failed >= bounds.failedBeads)
    return { needs: "operator", why: `${load.failed} failed beads wait for you (retry, move or close them on the dashboard)` };
  if (load.active >= bounds.activeBeads) return { needs: "time", why: `${load.active} beads are open or in progress` };
  return null;
}

/** `--every`: "20-40" or "30" seconds, whole numbers from 1 to 3600. */
export function parseEvery(text: string): [number, number] | null {
  const m = text.match(/^(\d{1,4})(?:-(\d{1,4}))?$/);
  if (!m) return null;
  const min = Number(m[1]);
  const max = Number(m[2] ?? m[1]);
  if (min < 1 || max > 3600 || max < min) return null;
  return [min, max];
}

/** Milliseconds until the next piece of work: uniform in the range. */
export function nextDelayMs(every: readonly [number, number], random: () => number): number {
  return Math.round((every[0] + random() * (every[1] - every[0])) * 1000);
}

// ---------------------------------------------------------------------------------------------
// What the work is about: small tasks of the three demo rigs (backend: api, go; frontend: ts, web; docs).

type Task = { title: string; requires: string[]; file: string; says: [string, string] };
type Failing = Task & { rig: Rig; exit: number; why: string };
type Rig = "backend" | "frontend" | "docs";

const TASKS: Record<Rig, Task[]> = {
  backend: [
    {
      title: "Add the /logout endpoint",
      requires: ["api"],
      file: "api/logout.go",
      says: ["reading api/login.go for the session cookie", "go test ./api/... ok (14 tests)"],
    },
    { title: "Expire idle sessions", requires: ["go"], file: "api/sessions.go", says: ["adding a 30-minute idle timeout", "go test ./api/... ok (16 tests)"] },
    { title: "Health check at /healthz", requires: ["api"], file: "api/health.go", says: ["the check pings the database", "curl /healthz: 200 ok"] },
    { title: "Paginate GET /users", requires: ["api"], file: "api/users.go", says: ["cursor pagination, 50 users a page", "go test ./api/... ok (15 tests)"] },
  ],
  frontend: [
    {
      title: "Spinner on the sign-in button",
      requires: ["web"],
      file: "web/spinner.ts",
      says: ["the button shows a spinner while /login answers", "vitest: 9 passed"],
    },
    { title: "Remember-me checkbox", requires: ["web"], file: "web/remember.ts", says: ["a checkbox under the password field", "vitest: 11 passed"] },
    { title: "Dark mode toggle", requires: ["ts"], file: "web/theme.ts", says: ["following the system theme by default", "vitest: 10 passed"] },
    { title: "Focus the email field first", requires: ["web"], file: "web/focus.ts", says: ["autofocus on the sign-in form", "vitest: 9 passed"] },
  ],
  docs: [
    { title: "Document /logout", requires: ["docs"], file: "guide/logout.md", says: ["describing what signing out clears", "markdownlint: no problems"] },
    {
      title: "FAQ: resetting a password",
      requires: ["docs"],
      file: "guide/faq.md",
      says: ["answering the three most asked questions", "markdownlint: no problems"],
    },
    {
      title: "Explain the rate limit",
      requires: ["docs"],
      file: "guide/rate-limit.md",
      says: ["five attempts a minute per address", "markdownlint: no problems"],
    },
  ],
};

/** Failing on every run until an operator retries them (each says why on stderr). */
const FAILURES: Failing[] = [
  {
    rig: "backend",
    title: "Migrate the sessions table",
    requires: ["go"],
    file: "api/migrations/0007_sessions.sql",
    says: ["running the migrations against the test database", "migrations applied: 7 of 7"],
    exit: 4,
    why: 'migrate: relation "sessions" already exists (migrations/0007_sessions.sql, line 3)',
  },
  {
    rig: "backend",
    title: "Upgrade the Go toolchain",
    requires: ["go"],
    file: "api/toolchain.txt",
    says: ["go mod tidy", "go 1.24 in go.mod, go test ok"],
    exit: 2,
    why: "go: go.mod requires go >= 1.24 (running go 1.22; GOTOOLCHAIN=local)",
  },
  {
    rig: "frontend",
    title: "Keep the bundle under budget",
    requires: ["web"],
    file: "web/budget.json",
    says: ["building the production bundle", "web/main.js: 188 kB gzip, within budget"],
    exit: 1,
    why: "size-limit: web/main.js is 212 kB gzip, over its 200 kB budget",
  },
  {
    rig: "docs",
    title: "Check the guide's links",
    requires: ["docs"],
    file: "guide/links.md",
    says: ["checking every link in guide/", "every link resolves"],
    exit: 3,
    why: "link check: guide/sign-in.md links to ./reset-password.md, which does not exist",
  },
];

/** Failing on the first try only: the rig runs them again and they pass. */
const FLAKES: Failing[] = [
  {
    rig: "backend",
    title: "Run the API tests",
    requires: ["api"],
    file: "api/login_test.go",
    says: ["go test ./api/...", "go test ./api/... ok (17 tests)"],
    exit: 1,
    why: "FAIL TestLoginRateLimit: dial tcp 127.0.0.1:5432: connection refused (the test database was still starting)",
  },
  {
    rig: "frontend",
    title: "Update the form snapshots",
    requires: ["web"],
    file: "web/login.snap",
    says: ["vitest --run web/", "vitest: 12 passed"],
    exit: 1,
    why: "1 snapshot failed: the sign-in form now renders its error under the button",
  },
];

/** Silent on their first run (the witness finds them); they pass when run again. */
const HANGS: Task[] = [
  {
    title: "Warm the session cache",
    requires: ["go"],
    file: "api/cache.go",
    says: ["warming the session cache from the database", "cache warm: 1,204 sessions"],
  },
  { title: "Regenerate the API client", requires: ["ts"], file: "web/api-client.ts", says: ["waiting for the API schema", "generated 12 endpoints"] },
];

const HANDOFFS: { waiter: Task; sender: Task & { rig: Exclude<Rig, "backend">; subject: string } }[] = [
  {
    waiter: {
      title: "Accept sign-ups at /signup",
      requires: ["api"],
      file: "api/signup.go",
      says: ["waiting for the frontend to say what the form sends", "go test ./api/... ok (18 tests)"],
    },
    sender: {
      rig: "frontend",
      title: "Build the sign-up form",
      requires: ["web"],
      file: "web/signup.html",
      says: ["three fields: name, email, password", "vitest: 13 passed"],
      subject: "the sign-up form posts name, email and password to /signup",
    },
  },
  {
    waiter: {
      title: "Send the welcome email",
      requires: ["api"],
      file: "api/welcome.go",
      says: ["waiting for the docs to settle what the email says", "go test ./api/... ok (18 tests)"],
    },
    sender: {
      rig: "docs",
      title: "Write the welcome email",
      requires: ["docs"],
      file: "guide/welcome-email.md",
      says: ["two short paragraphs and a link to the guide", "markdownlint: no problems"],
      subject: "the welcome email text is in guide/welcome-email.md",
    },
  },
];

const RELEASES = ["Ship sessions that expire", "Ship the accounts page", "Ship password reset", "Ship sign-up", "Ship faster sign-in"];

export class DemoPlanner {
  private deck: DemoKind[] = [];
  private last: DemoKind | null = null;
  private releases = 0;
  private count = 0;
  private readonly recent: string[] = [];

  constructor(
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {}

  /** The first work after the first convoy: a small convoy with agents at work and one bead that fails. */
  opener(): DemoWork {
    return {
      kind: "convoy",
      title: "Polish sign-in",
      beads: [this.steady(TASKS.frontend[0]!), this.failing(FAILURES[0]!), this.steady(TASKS.docs[2]!)],
    };
  }

  /** The next piece of work. A handoff waits for the one in flight (`handoffPending`) and comes later. */
  next(options: { handoffPending: boolean }): DemoWork {
    if (this.deck.length === 0) {
      this.deck = this.shuffle([...DEMO_KINDS]);
      if (this.deck[0] === this.last) this.deck.push(this.deck.shift()!); // no kind twice in a row across rounds
    }
    let kind = this.deck.shift()!;
    if (kind === "handoff" && options.handoffPending) {
      this.deck.push(kind);
      kind = this.deck.shift()!;
      if (kind === "handoff") kind = "steady"; // the deck held nothing else
    }
    this.last = kind;
    return this.make(kind);
  }

  /** The work of one kind (for tests and `next`). */
  make(kind: DemoKind): DemoWork {
    switch (kind) {
      case "steady":
        return { kind: "bead", bead: this.steady(this.pickTask([...TASKS.backend, ...TASKS.frontend, ...TASKS.docs])) };
      case "release": {
        const flaky = this.random() < 0.5 ? this.pick(FLAKES) : null;
        const beads = (["backend", "frontend", "docs"] as const).map((rig) =>
          flaky?.rig === rig ? this.flaky(flaky) : this.steady(this.pickTask(TASKS[rig])),
        );
        return { kind: "convoy", title: RELEASES[this.releases++ % RELEASES.length]!, beads };
      }
      case "handoff": {
        const { waiter, sender } = this.pick(HANDOFFS);
        const sending = [`say ${sender.says[0]}`, ...this.working(sender), `say ${sender.says[1]}`];
        return {
          kind: "handoff",
          waiter: {
            ...this.bead(waiter, [`say ${waiter.says[0]}`, "await-mail", "say the mail is in; carrying on", ...this.working(waiter), `say ${waiter.says[1]}`]),
            rig: "backend",
          },
          senderRig: sender.rig,
          sender: (to) => ({ ...this.bead(sender, [...sending, `mail ${to}: ${sender.subject}`]), rig: sender.rig }),
        };
      }
      case "fails":
        return { kind: "bead", bead: this.failing(this.pick(FAILURES)) };
      case "flaky":
        return { kind: "bead", bead: this.flaky(this.pick(FLAKES)) };
      case "hangs": {
        const task = this.pick(HANGS);
        return { kind: "bead", bead: this.bead(task, [`say ${task.says[0]}`, "once hang", ...this.working(task), `say ${task.says[1]}`]) };
      }
    }
  }

  private steady(task: Task): DemoBead {
    return this.bead(task, [`say ${task.says[0]}`, `sleep ${this.ms(...PAUSE_MS)}`, ...this.working(task), `say ${task.says[1]}`]);
  }

  /** Fails fast (a few seconds a run), so it is `failed` within a minute; passes, working, once retried. */
  private failing(task: Failing): DemoBead {
    return this.bead(task, [
      `say ${task.says[0]}`,
      `sleep ${this.ms(1000, 2500)}`,
      `first ${FAILING_RUNS} exit ${task.exit}: ${task.why}`,
      ...this.working(task),
      `say ${task.says[1]}`,
    ]);
  }

  private flaky(task: Failing): DemoBead {
    return this.bead(task, [
      `say ${task.says[0]}`,
      `sleep ${this.ms(1000, 2500)}`,
      `once exit ${task.exit}: ${task.why}`,
      ...this.working(task),
      `say ${task.says[1]}`,
    ]);
  }

  /**
   * Half a minute of work or so, saying what it does between pauses: long enough that whoever
   * opens the dashboard finds agents at work, each pause well under the witness's 30 s of silence.
   */
  private working(task: Task): string[] {
    return [`say editing ${task.file}`, `sleep ${this.ms(...PAUSE_MS)}`, "say running the checks", `sleep ${this.ms(...PAUSE_MS)}`];
  }

  /**
   * A bead doing `steps`, then writing its own file: a path of its own (the task's file with a
   * unique suffix), so two beads never change one file and no merge of the demo conflicts.
   */
  private bead(task: Task, steps: string[]): DemoBead {
    const tag = this.tag();
    const dot = task.file.lastIndexOf(".");
    const path = dot > task.file.lastIndexOf("/") ? `${task.file.slice(0, dot)}-${tag}${task.file.slice(dot)}` : `${task.file}-${tag}`;
    return { title: task.title, requires: task.requires, body: [...steps, `write ${path}: ${task.title} (demo work ${tag})`].join("\n") };
  }

  /** Unique across runs of npm start too: the time, then a counter. */
  private tag(): string {
    return `${this.now().toString(36)}${(++this.count).toString(36)}`;
  }

  private ms(min: number, max: number): number {
    return Math.round((min + this.random() * (max - min)) / 100) * 100;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  /** A task not among the last few picked, so the same title rarely runs twice at once. */
  private pickTask(tasks: Task[]): Task {
    const fresh = tasks.filter((t) => !this.recent.includes(t.title));
    const task = this.pick(fresh.length ? fresh : tasks);
    this.recent.push(task.title);
    if (this.recent.length > 4) this.recent.shift();
    return task;
  }

  private shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}
