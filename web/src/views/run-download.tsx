/** A download of one run's whole kept output as a text file (read again whole, not the tail on screen). */
import { createSignal, Show } from "solid-js";
import type { RunInfo } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { useRig } from "../stores/rig.tsx";
import { LogReadError, readAgentLog } from "../lib/agent-log.ts";
import { runFileName, runText } from "../lib/run-text.ts";
import { LIMITS } from "../../../party/protocol/limits.ts";
import { btn } from "../ui/kit.tsx";

export function RunDownload(props: { run: RunInfo; testid?: string }) {
  const town = useTown();
  const rig = useRig();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  async function download() {
    setBusy(true);
    setError(null);
    try {
      // A ring holds at most LIMITS.outputRingLines lines: one read from the start is the whole run.
      const log = await readAgentLog(
        { town: town.town, rigId: rig.rig.id, token: town.session.token },
        { run: props.run.run, after: 0, limit: LIMITS.outputRingLines },
      );
      const url = URL.createObjectURL(new Blob([runText(log.run ?? props.run, log.lines)], { type: "text/plain;charset=utf-8" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = runFileName(props.run);
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e instanceof LogReadError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <button
        class={btn}
        data-testid={props.testid ?? "run-download"}
        disabled={busy()}
        onClick={() => void download()}
        title="This run's whole kept output as a text file"
      >
        {busy() ? "Preparing…" : "Download"}
      </button>
      <Show when={error()}>
        <span class="text-xs text-rose-700 dark:text-rose-300">{error()}</span>
      </Show>
    </>
  );
}
