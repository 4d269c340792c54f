// Shared bits of the pages: a notice for errors, a stat tile, a section, and a hash-route link.
import type { ComponentChildren } from "preact";

export function ErrorBox(props: { error: string | undefined }) {
  if (!props.error) return null;
  return (
    <div class="error" role="alert" data-testid="error">
      {props.error}
    </div>
  );
}

export function Stat(props: { testId: string; label: string; value: ComponentChildren }) {
  return (
    <div class="stat">
      <div class="stat-label">{props.label}</div>
      <div class="stat-value" data-testid={props.testId}>
        {props.value}
      </div>
    </div>
  );
}

export function Section(props: { title: string; children: ComponentChildren; testId?: string }) {
  return (
    <section class="card" data-testid={props.testId}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}

export function Link(props: { to: string; children: ComponentChildren; testId?: string }) {
  return (
    <a href={`#${props.to}`} data-testid={props.testId}>
      {props.children}
    </a>
  );
}

export function Loading(props: { when: unknown }) {
  return props.when === undefined ? <p class="muted">Loading…</p> : null;
}

export function navigate(to: string): void {
  location.hash = to;
}

/** The outcome of an action: its error, or its success message under `testId`. */
export function Outcome(props: {
  action: { error: string | undefined; result: string | undefined };
  testId: string;
}) {
  return (
    <>
      <ErrorBox error={props.action.error} />
      {props.action.result && (
        <p class="ok" data-testid={props.testId}>
          {props.action.result}
        </p>
      )}
    </>
  );
}

/** An onInput handler that stores the input's value. */
export function bind(setter: (v: string) => void) {
  return (e: Event) => setter((e.target as HTMLInputElement).value);
}

export interface Column<T> {
  title: string;
  /** Right-aligned, tabular figures. */
  num?: boolean;
  /** data-testid of the column's cells, for tests to read. */
  testId?: string;
  cell: (row: T) => ComponentChildren;
}

/** A table of rows; each row can carry a data-testid and data-* attributes so tests can find it. */
export function Table<T>(props: {
  testId?: string;
  columns: Column<T>[];
  rows: T[] | undefined;
  rowKey: (row: T) => string | number;
  rowTestId?: string;
  rowData?: (row: T) => Record<string, string | number>;
  rowClass?: (row: T) => string;
  onRowClick?: (row: T) => void;
  footer?: ComponentChildren;
}) {
  return (
    <table data-testid={props.testId}>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th key={c.title} class={c.num ? "num" : undefined}>
              {c.title}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows?.map((r) => {
          const data = Object.fromEntries(
            Object.entries(props.rowData?.(r) ?? {}).map(([k, v]) => [`data-${k}`, String(v)]),
          );
          const onClick = props.onRowClick;
          return (
            <tr
              key={props.rowKey(r)}
              data-testid={props.rowTestId}
              {...data}
              class={[props.rowClass?.(r) ?? "", onClick ? "clickable" : ""].join(" ").trim() || undefined}
              onClick={onClick ? () => onClick(r) : undefined}
            >
              {props.columns.map((c) => (
                <td key={c.title} class={c.num ? "num" : undefined} data-testid={c.testId}>
                  {c.cell(r)}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
      {props.footer && <tfoot>{props.footer}</tfoot>}
    </table>
  );
}
