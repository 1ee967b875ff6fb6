/** The overview's operator controls: add a rig, sling a bead, create a convoy, send mail. */
import { createSignal } from "solid-js";
import { useTown } from "../stores/town.tsx";
import { btn, btnPrimary } from "../ui/kit.tsx";
import { AddRigDialog } from "./add-rig.tsx";
import { SlingDialog } from "./sling.tsx";
import { ConvoyDialog } from "./convoy-create.tsx";
import SendMail from "./send-mail.tsx";

export default function OverviewActions() {
  const town = useTown();
  const [dialog, setDialog] = createSignal<"rig" | "sling" | "convoy" | null>(null);
  const close = () => setDialog(null);
  return (
    <div class="flex flex-wrap gap-2" data-testid="operator-actions">
      <button class={btnPrimary} data-testid="open-sling" onClick={() => setDialog("sling")}>
        Sling a bead
      </button>
      <button class={btn} data-testid="open-convoy" onClick={() => setDialog("convoy")}>
        New convoy
      </button>
      <button class={btn} data-testid="open-add-rig" onClick={() => setDialog("rig")}>
        Add rig
      </button>
      <SendMail />
      <AddRigDialog town={town} open={dialog() === "rig"} onClose={close} />
      <SlingDialog town={town} open={dialog() === "sling"} onClose={close} />
      <ConvoyDialog town={town} open={dialog() === "convoy"} onClose={close} />
    </div>
  );
}
