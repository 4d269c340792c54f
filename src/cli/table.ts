// Plain-text tables for the admin commands: columns padded to their widest cell, numbers right-aligned.

export function table(rows: Record<string, unknown>[], columns?: string[]): string {
  if (rows.length === 0) return "(none)";
  const cols = columns ?? Object.keys(rows[0]!);
  const cell = (v: unknown): string => {
    if (v === undefined || v === null) return "";
    if (Array.isArray(v)) return v.join(",");
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  };
  const cells = rows.map((r) => cols.map((c) => cell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const numeric = cols.map((_, i) => cells.every((r) => r[i] === "" || /^-?\d+(\.\d+)?$/.test(r[i]!)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(cols), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** A time for people: ISO in UTC, or "-" for 0. */
export function when(ms: unknown): string {
  return typeof ms === "number" && ms > 0 ? new Date(ms).toISOString() : "-";
}
