/** `gt checkpoint`: a rig agent saves its working notes, which gt prime shows again. */
import type { Command } from "./command.ts";
import { GtUsageError } from "./errors.ts";
import { readStdin } from "./input.ts";

export const checkpoint: Command = {
  name: "checkpoint",
  usage: "[--data <text> | --data - | < notes]",
  summary: "save your working notes (replacing the last ones); gt prime shows them",
  tool: "gt_checkpoint",
  mode: "rig",
  options: [["--data <text>", "the notes (- or none: read them from stdin)"]],
  args: async (v) => {
    if (v.data !== undefined && v.data !== "-") return { data: v.data };
    const data = await readStdin("give --data <text> or pipe the notes on stdin");
    // Saving nothing by accident (stdin was /dev/null) would wipe the notes: clearing takes --data "".
    if (v.data === undefined && data === "") throw new GtUsageError('no notes on stdin: give --data <text>, or --data "" to clear them');
    return { data };
  },
  print: () => "checkpoint saved",
};
