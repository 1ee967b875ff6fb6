/**
 * Resolves a rig by name from the town doc and holds its rig doc open while any view of that rig is
 * shown; leaving the rig (or the rig being removed) closes the socket. It also names the tab for
 * every rig view ("backend · demo", "bead Fix the login · backend").
 */
import { Show, createEffect, createMemo, onCleanup, type ParentProps } from "solid-js";
import { useParams } from "@solidjs/router";
import { reachText, useTown } from "../stores/town.tsx";
import { RigProvider, createRigStore, openRig, setOpenRig } from "../stores/rig.tsx";
import { Empty, Panel } from "../ui/kit.tsx";
import { NotInReach } from "./not-in-reach.tsx";
import { shortId } from "../lib/time.ts";
import { setTitle } from "../lib/title.ts";
import { ViewSkeleton } from "./skeleton.tsx";

export function RigShell(props: ParentProps) {
  const town = useTown();
  const params = useParams<{ rig: string }>();
  const rigId = createMemo(() => town.rigByName(params.rig)?.id);
  createEffect(() => {
    if (!town.sync.loaded()) setTitle(params.rig, town.town);
    else if (!rigId()) setTitle("rig not found", town.town);
  });
  return (
    <Show when={town.sync.loaded()} fallback={<ViewSkeleton what="the town" />}>
      <Show
        when={rigId()}
        keyed
        fallback={
          <Show
            when={reachText(town)}
            fallback={
              <Panel title="Rig not found">
                <Empty title={`This town has no rig named “${params.rig}”.`}>
                  It may have been removed.{" "}
                  <a class="underline" href={`/t/${town.town}`}>
                    Back to the overview
                  </a>
                </Empty>
              </Panel>
            }
          >
            {(text) => <NotInReach what={`Rig ${params.rig}`} text={text()} />}
          </Show>
        }
      >
        {(id) => <RigScope id={id}>{props.children}</RigScope>}
      </Show>
    </Show>
  );
}

function RigScope(props: ParentProps<{ id: string }>) {
  const town = useTown();
  const params = useParams<{ rig: string; bead?: string; name?: string }>();
  // A session that reads this rig's document alone has it open already (its only socket).
  const store = town.rigStore ?? createRigStore(town.town, props.id, town.session.token, town.rigs[props.id]!);
  setOpenRig(store);
  onCleanup(() => openRig() === store && setOpenRig(null));
  createEffect(() => {
    const rig = store.rig.name;
    if (params.bead) setTitle(`bead ${store.beads[params.bead]?.title ?? shortId(params.bead)}`, rig);
    else if (params.name) setTitle(`agent ${params.name}`, rig);
    else setTitle(rig, town.town);
  });
  return <RigProvider store={store}>{props.children}</RigProvider>;
}
