/** `gt done`: a rig agent hands in its hooked bead for review and merge. */
import type { DoneResult } from "../../party/protocol.ts";
import type { Command } from "./command.ts";

export const done: Command = {
  name: "done",
  usage: "[--branch <branch>] [--summary <text>]",
  summary: "hand in your hooked bead for review and merge (default branch: the current git branch)",
  tool: "gt_done",
  mode: "rig",
  options: [
    ["--branch <branch>", "the branch holding your commits (default: the current git branch)"],
    ["--summary <text>", "what you changed, for the reviewer"],
  ],
  args: (v) => ({ branch: v.branch, summary: v.summary }),
  print: (done: DoneResult) => `bead ${done.bead_id} is ${done.status}`,
};
