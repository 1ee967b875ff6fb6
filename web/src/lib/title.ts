/** The tab's title: what is shown, then where, then the app ("backend · demo — Townhall"). */
export function setTitle(...parts: (string | null | undefined)[]): void {
  const named = parts.filter((p): p is string => !!p);
  document.title = named.length ? `${named.join(" · ")} — Townhall` : "Townhall";
}
