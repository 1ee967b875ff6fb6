/** `gt convoy`: the Mayor creates a convoy of new beads across rigs, follows one, lists them. */
import { readFile } from "node:fs/promises";
import { ULID_RE } from "../../party/protocol/patterns.ts";
import type { ConvoyProgress } from "../../party/protocol.ts";
import type { Command } from "./command.ts";
import { GtUsageError } from "./errors.ts";
import { one, readStdin, splitList } from "./input.ts";
import { when } from "./output.ts";

export const convoyCreate: Command = {
  name: "convoy create",
  usage: '<name> <bead>…   or   --title <text> (--bead "<title>[|requires=a,b][|rig=<name>][|priority=<p>]"… | --file <beads.json | ->)',
  summary:
    "create a convoy of new beads placed across rigs (each <bead> or --bead a title, with |requires=…|rig=…|priority=… if wanted; --file: a JSON array of {title, body?, rig?, requires?, priority?}); prints its id and each bead's rig and reason",
  tool: "gt_convoy_create",
  mode: "mayor",
  arguments: [
    ["[name]", "the convoy's name (or --title)"],
    ["[beads...]", "its beads, each as --bead takes it"],
  ],
  options: [
    ["--title <text>", "the convoy's name"],
    ["--file <path>", "the beads as a JSON array (- reads stdin)"],
  ],
  repeatable: [["--bead <spec>", '"<title>[|requires=a,b][|rig=<name>][|priority=<p>]", once per bead']],
  args: async (v, lists) => {
    const title = one(v, ["name", "title"], "missing the convoy's name: gt convoy create <name> <bead>… (or --title <text>)");
    const specs = [...(lists.bead ?? []), ...(lists.beads ?? [])];
    const existing = specs.find((spec) => ULID_RE.test(spec.trim()));
    if (existing)
      throw new GtUsageError(`${existing} is a bead id: a convoy creates its beads, so give each one's title (moving an existing bead: gt sling <bead> <rig>)`);
    return { title, beads: await convoyBeads(specs, v.file) };
  },
  print: (convoy: ConvoyProgress) => printConvoy(convoy),
};

export const convoyStatus: Command = {
  name: "convoy status",
  usage: "<id>",
  summary: "a convoy's beads, their rigs and reasons, and its progress (done and failed of the total, overall and per rig)",
  tool: "gt_convoy_status",
  mode: "mayor",
  arguments: [["<id>", "the convoy's id"]],
  args: (v) => ({ id: v.id }),
  print: (convoy: ConvoyProgress) => printConvoy(convoy),
};

export const convoyList: Command = {
  name: "convoy list",
  usage: "[--status <open|landed|stuck|closed>]",
  summary: "the town's convoys, newest first, with their progress",
  tool: "gt_list_convoys",
  mode: "mayor",
  options: [["--status <status>", "only convoys open, landed, stuck or closed"]],
  args: (v) => ({ status: v.status }),
  print: (convoys: ConvoyProgress[]) => (convoys.length ? convoys.map(printConvoyLine).join("\n") : "no convoys"),
};

const BEAD_FIELDS = ["requires", "rig", "priority"] as const;

/**
 * The convoy's bead specs: from `--bead "<title>|requires=a,b|rig=<name>|priority=<p>"` options, or
 * from `--file` (a JSON array of {title, body?, rig?, requires?, priority?}; `-` reads stdin).
 * The tool's schema checks the values.
 */
async function convoyBeads(specs: string[], file: string | undefined): Promise<unknown[]> {
  if (specs.length && file !== undefined) throw new GtUsageError("give --bead options or --file, not both");
  if (file !== undefined) {
    let text: string;
    try {
      text = file === "-" ? await readStdin("--file - reads the beads from stdin, which is a terminal: pipe the JSON in") : await readFile(file, "utf8");
    } catch (error) {
      if (error instanceof GtUsageError) throw error;
      throw new GtUsageError(`--file ${file}: ${(error as Error).message}`);
    }
    let beads: unknown;
    try {
      beads = JSON.parse(text);
    } catch (error) {
      throw new GtUsageError(`--file ${file}: not JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(beads)) throw new GtUsageError(`--file ${file}: must hold a JSON array of beads, {title, body?, rig?, requires?, priority?} each`);
    return beads;
  }
  if (!specs.length) throw new GtUsageError('missing --bead "<title>" (one per bead) or --file <beads.json>');
  return specs.map((spec) => {
    const [title = "", ...fields] = spec.split("|");
    const bead: Record<string, unknown> = { title: title.trim() };
    for (const field of fields) {
      const eq = field.indexOf("=");
      const key = field.slice(0, eq).trim();
      const value = field.slice(eq + 1).trim();
      if (eq < 0 || !(BEAD_FIELDS as readonly string[]).includes(key)) {
        throw new GtUsageError(
          `--bead ${JSON.stringify(spec)}: unknown field ${JSON.stringify(field)} (fields: ${BEAD_FIELDS.map((f) => `${f}=`).join(", ")})`,
        );
      }
      bead[key] = key === "requires" ? splitList(value) : value;
    }
    return bead;
  });
}

/** "2/3 done", or "2 done, 1 failed of 3": a failed bead is never counted as done (an older town sends no `failed`). */
const doneOf = (p: { done: number; failed?: number; total: number }) =>
  p.failed ? `${p.done} done, ${p.failed} failed of ${p.total}` : `${p.done}/${p.total} done`;

function printConvoyLine(convoy: ConvoyProgress): string {
  const byRig = Object.entries(convoy.progress.byRig).map(([rig, p]) => `${rig} ${p.done}/${p.total}${p.failed ? ` (${p.failed} failed)` : ""}`);
  return `${convoy.id} ${convoy.status} ${doneOf(convoy.progress)} ${JSON.stringify(convoy.title)}${byRig.length ? ` (${byRig.join(", ")})` : ""}`;
}

function printConvoy(convoy: ConvoyProgress): string {
  const out = [
    `Convoy ${convoy.id}: ${convoy.title}`,
    `status: ${convoy.status}, ${doneOf(convoy.progress)}; created ${when(convoy.createdAt)}${convoy.landedAt ? `, ${convoy.status} ${when(convoy.landedAt)}` : ""}`,
  ];
  // Stuck: every bead finished, some failed; say which, so the operator knows what to retry, move or close.
  if (convoy.status === "stuck")
    out.push(
      `stuck on: ${convoy.beads
        .filter((b) => b.status === "failed")
        .map((b) => `${b.beadId} (${b.failure ?? b.note ?? "failed"})`)
        .join(", ")}`,
    );
  for (const [rig, p] of Object.entries(convoy.progress.byRig)) {
    out.push("", `${rig}: ${doneOf(p)}`);
    for (const bead of convoy.beads.filter((b) => b.rigName === rig)) {
      out.push(`  ${bead.beadId} [${bead.status}] ${bead.title}${bead.assignee ? ` (${bead.assignee})` : ""}${bead.note ? `: ${bead.note}` : ""}`);
      out.push(`    placed: ${bead.reason}`);
    }
  }
  return out.join("\n");
}
