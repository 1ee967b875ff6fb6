/**
 * One run's kept output as a text file: a header saying what run it is and what of it is kept,
 * then each line as the dashboard shows it (redacted by the rig room before it was stored).
 */
import type { OutputLine, RunInfo } from "../../../party/protocol.ts";

/** The file's name: the run's id (`<bead>.<n>`), safe on every file system. */
export function runFileName(run: Pick<RunInfo, "run">): string {
  return `run-${run.run.replace(/[^A-Za-z0-9._-]/g, "_")}.txt`;
}

/** The file's text: a header, then `time stream text` per line, oldest first. */
export function runText(run: RunInfo, lines: readonly OutputLine[]): string {
  const header = [
    `# run ${run.run} of ${run.identity}, bead ${run.beadId}`,
    `# started ${new Date(run.startedAt).toISOString()}${run.endedAt !== undefined ? `, ended ${new Date(run.endedAt).toISOString()} (${run.exit ?? "no exit status"})` : ", still running"}`,
    `# ${lines.length} lines kept${run.dropped ? `; the ${run.dropped} oldest were dropped (a run keeps its last 2,000 lines or 256 KB)` : ""}; secrets redacted`,
  ];
  const body = lines.map((l) => `${new Date(l.at).toISOString()} ${l.stream} ${l.text}`);
  return [...header, ...body].join("\n") + "\n";
}
