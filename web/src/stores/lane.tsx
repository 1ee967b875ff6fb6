/**
 * The attention lane's state for one open town, shared by the lane, the tab's title and
 * notifications so they never disagree: every rig's attention items (lib/attention.ts), minus the
 * ones snoozed in this browser (lib/snooze.ts).
 */
import { createContext, createMemo, useContext, type Accessor, type ParentProps } from "solid-js";
import { laneOf, occurrence, type Lane } from "../lib/attention.ts";
import { createSnoozes, splitSnoozed, type SnoozeStore } from "../lib/snooze.ts";
import { createNotifySetting, type NotifySetting } from "../lib/notify.ts";
import { TownProvider, useTown, type TownStore } from "./town.tsx";

export type LaneStore = {
  /** Every item, worst first. */
  all: Accessor<Lane[]>;
  /** The items shown and counted: not snoozed. */
  open: Accessor<Lane[]>;
  /** The items snoozed now. */
  snoozed: Accessor<Lane[]>;
  snoozes: SnoozeStore;
  notify: NotifySetting;
};

const LaneContext = createContext<LaneStore>();

/** The town's context and its lane's, for the town's frame. */
export function TownAndLaneProvider(props: ParentProps<{ store: TownStore }>) {
  return (
    <TownProvider store={props.store}>
      <LaneProvider>{props.children}</LaneProvider>
    </TownProvider>
  );
}

function LaneProvider(props: ParentProps) {
  const town = useTown();
  const base = `/t/${town.town}`;
  const snoozes = createSnoozes(town.town);
  const all = createMemo(() => laneOf(base, town.sortedRigs(), Object.values(town.convoys)));
  const split = createMemo(() => splitSnoozed(all(), occurrence, snoozes.snoozes(), snoozes.now()));
  const store: LaneStore = {
    all,
    open: () => split().open,
    snoozed: () => split().snoozed,
    snoozes,
    notify: createNotifySetting(town.town),
  };
  return <LaneContext.Provider value={store}>{props.children}</LaneContext.Provider>;
}

export function useLane(): LaneStore {
  const store = useContext(LaneContext);
  if (!store) throw new Error("useLane outside a LaneProvider");
  return store;
}
