/**
 * What tells the operator they are needed while they look elsewhere: the tab's title carries the
 * lane's count (snoozed items left out) or that the town's connection is down, and, if they opted
 * in, a browser notification per new attention item while the tab is hidden.
 */
import { createEffect, onCleanup } from "solid-js";
import { useNavigate } from "@solidjs/router";
import { occurrence, type Lane } from "../lib/attention.ts";
import { freshRows } from "../lib/notify.ts";
import { setTitleState } from "../lib/title.ts";
import { useLane } from "../stores/lane.tsx";
import { useTown } from "../stores/town.tsx";

export function LaneSignals() {
  const town = useTown();
  const lane = useLane();
  const navigate = useNavigate();
  createEffect(() => setTitleState({ sync: town.sync.status(), loaded: town.sync.loaded(), count: lane.open().length }));
  onCleanup(() => setTitleState(null));

  // Everything present when the town first loaded is seen: only what arrives later is new.
  let seen: Set<string> | null = null;
  const shown: Notification[] = [];
  createEffect(() => {
    if (!town.sync.loaded()) return;
    const open = lane.open();
    const snoozed = lane.snoozed();
    if (seen === null) {
      seen = new Set([...open, ...snoozed].map(occurrence));
      return;
    }
    const fresh = freshRows(seen, open, occurrence);
    for (const row of [...open, ...snoozed]) seen.add(occurrence(row));
    // While the tab is shown, the lane and the title say it; a notification would only repeat it.
    if (lane.notify.state() !== "on" || document.visibilityState !== "hidden") return;
    for (const row of fresh) notify(row);
  });
  const notify = (row: Lane) => {
    try {
      const n = new Notification(`Townhall · ${town.town}: ${row.item.title}`, {
        body: `${row.rig.name} · ${row.item.detail}`,
        tag: occurrence(row),
      });
      n.onclick = () => {
        window.focus();
        navigate(row.href);
        n.close();
      };
      shown.push(n);
    } catch {
      // A browser that only notifies from a service worker throws here: the title still says it.
    }
  };
  onCleanup(() => shown.forEach((n) => n.close()));
  return null;
}
