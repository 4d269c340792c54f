// Consumer groups: the list; one group's backlog per queue with a live backlog chart, its subscriptions and whether
// its online clients agree on them, its clients, consumption mode, and an offset reset by time.
import { useMemo, useState } from "preact/hooks";
import { api, enc } from "../api";
import type { GroupClients, GroupProgress, GroupSummary } from "../api";
import { LineChart } from "../chart";
import { fmtTime } from "../format";
import { useApi, useSeries } from "../hooks";
import { ErrorBox, Link, Loading, Section, Stat } from "../ui";

export function Groups(props: { group: string | undefined }) {
  return props.group ? <GroupDetail group={props.group} /> : <GroupList />;
}

function GroupList() {
  const list = useApi<{ groups: GroupSummary[] }>("/admin/groups", 5000);
  return (
    <div>
      <h1>Consumer groups</h1>
      <ErrorBox error={list.error} />
      <Section title="All groups">
        <Loading when={list.data} />
        <table data-testid="groups-table">
          <thead>
            <tr>
              <th>Group</th>
              <th>Mode</th>
              <th>Consume type</th>
              <th class="num">Online clients</th>
              <th>Topics</th>
              <th class="num">Backlog</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.groups.map((g) => (
              <tr key={g.group} data-testid="group-row" data-group={g.group}>
                <td>
                  <Link to={`/groups/${enc(g.group)}`}>{g.group}</Link>
                </td>
                <td>
                  {g.messageModel}
                  {g.fifo ? " · FIFO" : ""}
                </td>
                <td>{g.consumeType || "-"}</td>
                <td class="num" data-testid="group-clients">
                  {g.onlineClients}
                </td>
                <td>{g.topics.join(", ")}</td>
                <td class="num" data-testid="group-backlog">
                  {g.backlog}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
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
    const d = progress.data;
    return [
      d.backlog,
      ...topics.map((t) => d.queues.filter((q) => q.topic === t).reduce((n, q) => n + q.backlog, 0)),
    ];
  }, [progress.data, topics]);
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
        <Stat testId="group-consume-type" label="Consume type" value={c ? c.consumeType || "-" : "…"} />
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
        <table>
          <thead>
            <tr>
              <th>Topic</th>
              <th class="num">Queue</th>
              <th class="num">Broker offset</th>
              <th class="num">Consumer offset</th>
              <th class="num">Backlog</th>
              <th>Last consumed message stored at</th>
            </tr>
          </thead>
          <tbody>
            {progress.data?.queues.map((q) => (
              <tr
                key={`${q.topic}/${q.queueId}`}
                data-testid="progress-row"
                data-topic={q.topic}
                data-queue={q.queueId}
              >
                <td>{q.topic}</td>
                <td class="num">{q.queueId}</td>
                <td class="num" data-testid="progress-broker-offset">
                  {q.brokerOffset}
                </td>
                <td class="num" data-testid="progress-consumer-offset">
                  {q.consumerOffset}
                </td>
                <td class="num" data-testid="progress-backlog">
                  {q.backlog}
                </td>
                <td>{fmtTime(q.lastConsumeTime)}</td>
              </tr>
            ))}
          </tbody>
        </table>
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
        <table>
          <thead>
            <tr>
              <th>Topic</th>
              <th>Type</th>
              <th>Expression</th>
            </tr>
          </thead>
          <tbody>
            {c?.subscriptions.map((s) => (
              <tr key={s.topic} data-testid="subscription-row">
                <td>{s.topic}</td>
                <td>{s.type}</td>
                <td>
                  <code>{s.expression}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Online clients" testId="group-client-list">
        <table>
          <thead>
            <tr>
              <th>Client id</th>
              <th>Language</th>
              <th class="num">Version</th>
              <th>Address</th>
              <th>Last heartbeat</th>
              <th>Subscriptions</th>
            </tr>
          </thead>
          <tbody>
            {c?.clients.map((x) => (
              <tr key={x.clientId} data-testid="client-row">
                <td>{x.clientId}</td>
                <td>{x.language}</td>
                <td class="num">{x.version}</td>
                <td>{x.remoteAddress}</td>
                <td>{fmtTime(x.lastHeartbeat)}</td>
                <td>
                  {x.subscriptions.map((s) => (
                    <div key={s}>
                      <code>{s}</code>
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <ResetOffsets group={props.group} topics={topics} onDone={progress.reload} />
    </div>
  );
}

function ResetOffsets(props: { group: string; topics: string[]; onDone: () => void }) {
  const [topic, setTopic] = useState("");
  const [when, setWhen] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [result, setResult] = useState<string | undefined>();
  // The group's own topics first, its retry topic after them.
  const options = [
    ...props.topics.filter((t) => !t.startsWith("%")),
    ...props.topics.filter((t) => t.startsWith("%")),
  ];
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setResult(undefined);
    try {
      const timestamp = when ? new Date(when).getTime() : Date.now();
      const r = await api<{ offsets: Record<string, number> }>(
        `/admin/groups/${enc(props.group)}/reset-offset`,
        {
          method: "POST",
          body: { topic: topic || options[0], timestamp },
        },
      );
      setResult(
        `offsets now ${Object.entries(r.offsets)
          .map(([q, o]) => `q${q}=${o}`)
          .join(", ")}`,
      );
      props.onDone();
    } catch (err) {
      setError((err as Error).message);
    }
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
          <input
            id="reset-time"
            type="datetime-local"
            step={1}
            value={when}
            onInput={(e) => setWhen((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" id="reset-submit">
          Reset
        </button>
      </form>
      <ErrorBox error={error} />
      {result && (
        <p class="ok" data-testid="reset-result">
          {result}
        </p>
      )}
    </Section>
  );
}
