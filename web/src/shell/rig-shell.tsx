/**
 * Resolves a rig by name from the town doc and holds its rig doc open while any view of that rig is
 * shown; leaving the rig (or the rig being removed) closes the socket.
 */
import { Show, createMemo, type ParentProps } from "solid-js";
import { useParams } from "@solidjs/router";
import { useTown } from "../stores/town.tsx";
import { RigProvider, createRigStore } from "../stores/rig.tsx";
import { Empty, Loading, Panel } from "../ui/kit.tsx";

export function RigShell(props: ParentProps) {
  const town = useTown();
  const params = useParams<{ rig: string }>();
  const rigId = createMemo(() => town.rigByName(params.rig)?.id);
  return (
    <Show when={town.sync.loaded()} fallback={<Loading what="the town" />}>
      <Show
        when={rigId()}
        keyed
        fallback={
          <Panel title="Rig not found">
            <Empty title={`This town has no rig named “${params.rig}”.`}>
              It may have been removed. <a class="underline" href={`/t/${town.town}`}>Back to the overview</a>
            </Empty>
          </Panel>
        }
      >
        {(id) => <RigScope id={id}>{props.children}</RigScope>}
      </Show>
    </Show>
  );
}

function RigScope(props: ParentProps<{ id: string }>) {
  const town = useTown();
  const store = createRigStore(town.town, town.rigs[props.id]!, town.session.token);
  return <RigProvider store={store}>{props.children}</RigProvider>;
}
