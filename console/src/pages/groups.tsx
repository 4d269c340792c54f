// Consumer groups: the list; one group's backlog per queue with a live backlog chart, its subscriptions and whether
// its online clients agree on them, its clients, consumption mode, and an offset reset by time.
import { useMemo, useState } from "preact/hooks";
import { api, enc } from "../api";
import type { GroupClients, GroupProgress, GroupSummary } from "../api";
import { LineChart } from "../chart";
import { fmtTime } from "../format";
import { useAction, useApi, useSeries } from "../hooks";
import { ErrorBox, Link, Loading, Outcome, Section, Stat, Table, bind } from "../ui";

export function Groups(props: { group: string | undefined }) {
  return props.group ? <GroupDetail key={props.group} group={props.group} /> : <GroupList />;
}

/** RocketMQ's consume types as operators say them. */
function consumeTypeText(t: string): string {
  const names: Record<string, string> = {
    CONSUME_PASSIVELY: "push",
    CONSUME_ACTIVELY: "pull",
    CONSUME_POP: "pop",
  };
  return names[t] ?? (t || "-");
}

function GroupList() {
  const list = useApi<{ groups: GroupSummary[] }>("/admin/groups", 5000);
  return (
    <div>
      <h1>Consumer groups</h1>
      <ErrorBox error={list.error} />
      <Section title="All groups">
        <Loading when={list.data} />
        <Table
          testId="groups-table"
          rows={list.data?.groups}
          rowKey={(g) => g.group}
          rowTestId="group-row"
          rowData={(g) => ({ group: g.group })}
          columns={[
            { title: "Group", cell: (g) => <Link to={`/groups/${enc(g.group)}`}>{g.group}</Link> },
            { title: "Mode", cell: (g) => g.messageModel + (g.fifo ? " · FIFO" : "") },
            { title: "Consume type", cell: (g) => consumeTypeText(g.consumeType) },
            { title: "Online clients", num: true, testId: "group-clients", cell: (g) => g.onlineClients },
            { title: "Topics", cell: (g) => g.topics.join(", ") },
            { title: "Backlog", num: true, testId: "group-backlog", cell: (g) => g.backlog },
          ]}
        />
      </Section>
    </div>
  );
}

function GroupDetail(props: { group: string }) {
  const g = enc(props.group);
  const progress = useApi<GroupProgress>(`/admin/groups/${g}/progress`, 3000);
  const clients = useApi<GroupClients>(`/admin/groups/${g}/clients`, 5000);
  const summary = useApi<{ groups: GroupSummary[] }>("/admin/groups", 10_000);
  const info = summary.data?.groups.find((x) => x.group === props.group);
  const topics = useMemo(
    () => [...new Set(progress.data?.queues.map((q) => q.topic) ?? [])].sort(),
    [progress.data],
  );
  const sample = useMemo(() => {
    if (!progress.data) return undefined;
    const values: Record<string, number> = { total: progress.data.backlog };
    for (const q of progress.data.queues) values[q.topic] = (values[q.topic] ?? 0) + q.backlog;
    return values;
  }, [progress.data]);
  const rows = useSeries(sample);
  const c = clients.data;
  return (
    <div>
      <p>
        <Link to="/groups">← Groups</Link>
      </p>
      <h1 data-testid="group-name">{props.group}</h1>
      <ErrorBox error={progress.error ?? clients.error} />
      <div class="stats">
        <Stat testId="group-total-backlog" label="Backlog" value={progress.data?.backlog ?? "…"} />
        <Stat testId="group-mode" label="Consumption mode" value={c?.messageModel ?? "…"} />
        <Stat
          testId="group-consume-type"
          label="Consume type"
          value={c ? consumeTypeText(c.consumeType) : "…"}
        />
        <Stat testId="group-online" label="Online clients" value={c?.clients.length ?? "…"} />
        <Stat testId="group-fifo" label="Orderly (FIFO)" value={info ? (info.fifo ? "yes" : "no") : "…"} />
        <Stat testId="group-retries" label="Max retries" value={info?.retryMaxTimes ?? "…"} />
      </div>
      <Section title="Backlog over time (live)">
        <LineChart
          testId="chart-backlog"
          title="messages not yet consumed"
          labels={["total", ...topics]}
          rows={rows}
        />
      </Section>
      <Section title="Backlog per queue" testId="group-progress">
        <Loading when={progress.data} />
        <Table
          rows={progress.data?.queues}
          rowKey={(q) => `${q.topic}/${q.queueId}`}
          rowTestId="progress-row"
          rowData={(q) => ({ topic: q.topic, queue: q.queueId })}
          columns={[
            { title: "Topic", cell: (q) => q.topic },
            { title: "Queue", num: true, cell: (q) => q.queueId },
            {
              title: "Broker offset",
              num: true,
              testId: "progress-broker-offset",
              cell: (q) => q.brokerOffset,
            },
            {
              title: "Consumer offset",
              num: true,
              testId: "progress-consumer-offset",
              cell: (q) => q.consumerOffset,
            },
            { title: "Backlog", num: true, testId: "progress-backlog", cell: (q) => q.backlog },
            { title: "Last consumed message stored at", cell: (q) => fmtTime(q.lastConsumeTime) },
          ]}
        />
      </Section>
      <Section title="Subscriptions" testId="group-subscriptions">
        {c && (
          <p
            class={c.consistent ? "ok" : "warn"}
            data-testid="subscription-consistency"
            data-consistent={String(c.consistent)}
          >
            {c.clients.length === 0
              ? "No client online."
              : c.consistent
                ? "Consistent: every online client subscribes to the same topics and expressions."
                : "Inconsistent: the online clients subscribe differently (see the clients below)."}
          </p>
        )}
        <Table
          rows={c?.subscriptions}
          rowKey={(x) => x.topic}
          rowTestId="subscription-row"
          columns={[
            { title: "Topic", cell: (x) => x.topic },
            { title: "Type", cell: (x) => x.type },
            { title: "Expression", cell: (x) => <code>{x.expression}</code> },
          ]}
        />
      </Section>
      <Section title="Online clients" testId="group-client-list">
        <Table
          rows={c?.clients}
          rowKey={(x) => x.clientId}
          rowTestId="client-row"
          columns={[
            { title: "Client id", cell: (x) => x.clientId },
            { title: "Language", cell: (x) => x.language },
            { title: "Version", num: true, cell: (x) => x.version },
            { title: "Address", cell: (x) => x.remoteAddress },
            { title: "Last heartbeat", cell: (x) => fmtTime(x.lastHeartbeat) },
            {
              title: "Subscriptions",
              cell: (x) =>
                x.subscriptions.map((sub) => (
                  <div key={sub}>
                    <code>{sub}</code>
                  </div>
                )),
            },
          ]}
        />
      </Section>
      <ResetOffsets group={props.group} topics={topics} onDone={progress.reload} />
    </div>
  );
}

function ResetOffsets(props: { group: string; topics: string[]; onDone: () => void }) {
  const [topic, setTopic] = useState("");
  const [when, setWhen] = useState("");
  const action = useAction();
  // The group's own topics first, its retry topic after them.
  const options = [
    ...props.topics.filter((t) => !t.startsWith("%")),
    ...props.topics.filter((t) => t.startsWith("%")),
  ];
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const timestamp = when ? new Date(when).getTime() : Date.now();
      const r = await api<{ offsets: Record<string, number> }>(
        `/admin/groups/${enc(props.group)}/reset-offset`,
        {
          method: "POST",
          body: { topic: topic || options[0], timestamp },
        },
      );
      props.onDone();
      return `offsets now ${Object.entries(r.offsets)
        .map(([q, o]) => `q${q}=${o}`)
        .join(", ")}`;
    });
  };
  return (
    <Section title="Reset offsets by time">
      <form class="row" onSubmit={submit} data-testid="reset-offset">
        <label>
          Topic
          <select
            id="reset-topic"
            value={topic || options[0]}
            onChange={(e) => setTopic((e.target as HTMLSelectElement).value)}
          >
            {options.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Time (empty: now)
          <input id="reset-time" type="datetime-local" step={1} value={when} onInput={bind(setWhen)} />
        </label>
        <button type="submit" id="reset-submit">
          Reset
        </button>
      </form>
      <Outcome action={action} testId="reset-result" />
    </Section>
  );
}
