/**
 * Compact rows, for towns with many rigs and agents: the `compact` class on <html> (set before first
 * paint by index.html, like the theme), remembered per browser. Views style it with `compact:`.
 */
import { createSignal } from "solid-js";

const [compact, setSignal] = createSignal(document.documentElement.classList.contains("compact"));

export { compact };

export function setCompact(on: boolean): void {
  document.documentElement.classList.toggle("compact", on);
  setSignal(on);
  try {
    localStorage.setItem("townhall.density", on ? "compact" : "comfortable");
  } catch {
    // storage disabled: the choice lasts for this page only
  }
}
