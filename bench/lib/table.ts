/** Markdown tables and number formatting for the reports. */

export type Cell = string | number | boolean | null | undefined;

export function fmt(value: Cell, digits = 2): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "boolean") return value ? "yes" : "**no**";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "–";
    if (Number.isInteger(value) && Math.abs(value) >= 1000) return value.toLocaleString("en-US");
    if (Number.isInteger(value)) return String(value);
    const abs = Math.abs(value);
    return value.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : digits);
  }
  return value;
}

export function mdTable(headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map((c) => fmt(c).replace(/\|/g, "\\|")));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...text.map(line)].join("\n");
}

/** A ratio as "2.5×", or "1/420×" when far below 1. */
export function fmtRatio(r: number | null | undefined): string {
  if (r == null || !Number.isFinite(r)) return "–";
  if (r > 0 && r < 0.1) return `1/${fmt(Math.round(1 / r))}×`;
  return `${fmt(r)}×`;
}

export function mb(bytes: number | null | undefined): number | null {
  return bytes == null ? null : bytes / (1024 * 1024);
}

export function kb(bytes: number | null | undefined): number | null {
  return bytes == null ? null : bytes / 1024;
}
