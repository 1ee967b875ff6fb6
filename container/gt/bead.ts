/** `gt bead`: a rig agent reads a bead (status); an operator retries one or moves it to another rig. */
import type { Bead, BeadHistoryPage, BeadMoveResult, BeadStatusResult } from "../../party/protocol.ts";
import type { Command } from "./command.ts";
import { when } from "./output.ts";

export const beadStatus: Command = {
  name: "bead status",
  usage: "[--bead <id>] [--json]",
  summary: "show a bead of this rig (default: your hooked bead, GT_BEAD)",
  tool: "gt_bead_status",
  mode: "rig",
  options: [["--bead <id>", "the bead (default: GT_BEAD)"]],
  args: (v) => ({ bead_id: v.bead }),
  print: printBead,
};

export const beadHistory: Command = {
  name: "bead history",
  usage: "[--bead <id>] [--before <n>] [--limit <n>] [--json]",
  summary: "a bead's whole status history, newest page first (default: your hooked bead); --before for older entries",
  tool: "gt_bead_history",
  mode: "rig",
  options: [
    ["--bead <id>", "the bead (default: GT_BEAD)"],
    ["--before <n>", "entries before number n (the 'older' line of the page printed last)"],
    ["--limit <n>", "entries per page, 1 to 100 (default 20)"],
  ],
  args: (v) => ({ bead_id: v.bead, before: v.before === undefined ? undefined : Number(v.before), limit: v.limit === undefined ? undefined : Number(v.limit) }),
  print: (page: BeadHistoryPage) =>
    [
      `Bead ${page.bead_id}: ${page.total} status change${page.total === 1 ? "" : "s"}`,
      ...page.entries.map((e) => `${String(e.seq).padStart(4)}  ${when(e.at)}  ${e.status}${e.note ? ` — ${e.note}` : ""}`),
      page.before !== null
        ? `older: gt bead history --bead ${page.bead_id} --before ${page.before}`
        : (page.entries[0]?.seq ?? 0) > 0
          ? `entries before ${page.entries[0]!.seq} are no longer kept`
          : "",
    ]
      .filter(Boolean)
      .join("\n"),
};

export const beadRetry: Command = {
  name: "bead retry",
  usage: "<id> [--note <text>]",
  summary: "open a failed bead again with its attempts reset; the note goes into its history",
  tool: "gt_bead_retry",
  operator: true,
  arguments: [["<id>", "the bead's id"]],
  fieldOf: { id: "bead_id" },
  options: [["--note <text>", "why, for the bead's history"]],
  args: (v) => ({ bead_id: v.id, note: v.note }),
  print: (bead: Bead) => `bead ${bead.id} is ${bead.status} again (attempts ${bead.attempts ?? 0})`,
};

export const beadMove: Command = {
  name: "bead move",
  usage: "<id> <rig> [--from <rig>]",
  summary:
    "move an unfinished bead to another rig (by name): a new bead there, the old one closed as moved; --from names its rig when the town did not place it",
  tool: "gt_bead_move",
  operator: true,
  arguments: [
    ["<id>", "the bead's id"],
    ["<rig>", "the rig to move it to"],
  ],
  fieldOf: { id: "bead_id" },
  options: [["--from <rig>", "the bead's rig, when the town did not place it"]],
  args: (v) => ({ bead_id: v.id, rig: v.rig, from: v.from }),
  print: (moved: BeadMoveResult) => `moved bead ${moved.moved_from.bead_id} from ${moved.moved_from.rig} to ${moved.rig} as bead ${moved.bead_id}`,
};

function printBead(bead: BeadStatusResult): string {
  const lines = [
    `Bead ${bead.id}: ${bead.title}`,
    `status: ${bead.status}, priority: ${bead.priority}`,
    // Why an open bead waits (W22), and what its runs used.
    ...(bead.hold ? [`waiting: no new run starts: ${bead.hold.reason}`] : []),
    ...(bead.model ? [`model: ${bead.model}`] : []),
    ...(bead.usage ? [`used: $${bead.usage.costUsd.toFixed(2)}, ${bead.usage.runs} run${bead.usage.runs === 1 ? "" : "s"}`] : []),
    ...(bead.assignee ? [`assignee: ${bead.assignee}`] : []),
    ...(bead.branch ? [`branch: ${bead.branch}`] : []),
    ...(bead.requires.length ? [`requires: ${bead.requires.join(", ")}`] : []),
    ...(bead.mergeCommit ? [`merged as: ${bead.mergeCommit}`] : []),
    `created: ${when(bead.createdAt)}, updated: ${when(bead.updatedAt)}`,
  ];
  if (bead.body.trim()) lines.push("", bead.body.trimEnd());
  return lines.join("\n");
}
