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
