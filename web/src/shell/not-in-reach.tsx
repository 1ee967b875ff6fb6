/**
 * What a link (or a token scoped below the town) cannot show, said where that view would be: never
 * a skeleton that waits for ever, nor an empty state claiming there is nothing.
 */
import { Show } from "solid-js";
import { reachText, useTown } from "../stores/town.tsx";
import { Empty, Panel } from "../ui/kit.tsx";

/** A whole view the session cannot see ("The overview of the town"), with where it can go instead. */
export function NotInReach(props: { what: string; text?: string }) {
  const town = useTown();
  const text = () => props.text ?? reachText(town) ?? "";
  const home = () => {
    const reach = town.reach;
    if (reach.kind === "rig") {
      const name = town.rigs[reach.rigId]?.name;
      return name ? { href: `/t/${town.town}/rigs/${encodeURIComponent(name)}`, label: `Rig ${name}` } : null;
    }
    if (reach.kind === "scope" && reach.convoy) return { href: `/t/${town.town}/convoys/${reach.convoy}`, label: "The convoy" };
    if (reach.kind === "scope" && reach.rig) {
      const name = town.rigs[reach.rig]?.name;
      return name ? { href: `/t/${town.town}/rigs/${encodeURIComponent(name)}`, label: `Rig ${name}` } : null;
    }
    return null;
  };
  return (
    <Panel title={`${props.what}: not part of this ${town.session.view ? "link" : "token"}`} testid="not-in-reach">
      <Empty title={`${capital(text())}.`}>
        {props.what} is not shown to it.{" "}
        <Show when={home()}>
          {(h) => (
            <a class="underline" href={h().href} data-testid="reach-home">
              {h().label}
            </a>
          )}
        </Show>
      </Empty>
    </Panel>
  );
}

/** A line saying a part of a view is not part of this link ("Output is not part of this link."). */
export function NotInLink(props: { what: string; why?: string; testid?: string }) {
  const town = useTown();
  return (
    <p class="px-4 py-3 text-sm text-zinc-500" data-testid={props.testid ?? "not-in-link"}>
      {props.what} {town.session.view ? "is not part of this link" : "is not part of what this token shows"}
      {props.why ? `: ${props.why}` : ""}.
    </p>
  );
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
