// Overview: the cluster's brokers, this broker's status, topic and group counts, and live produce and consume
// rates (polled from /admin/rates).
import { useMemo } from "preact/hooks";
import type { BrokerStatus, ClusterBroker, Rates } from "../api";
import { LineChart } from "../chart";
import { fmtBytes, fmtDuration, fmtRate, fmtTime } from "../format";
import { useApi, useSeries } from "../hooks";
import { ErrorBox, Link, Loading, Section, Stat, Table } from "../ui";

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function Overview() {
  const cluster = useApi<{ brokers: ClusterBroker[] }>("/admin/cluster", 15_000);
  const broker = useApi<BrokerStatus>("/admin/broker", 3000);
  const rates = useApi<Rates>("/admin/rates", 3000);
  const sample = useMemo(() => {
    if (!rates.data) return undefined;
    const produce = sum(Object.values(rates.data.produce));
    const consume = sum(Object.values(rates.data.consume).flatMap((m) => Object.values(m)));
    return { produce, consume };
  }, [rates.data]);
  const rows = useSeries(sample);
  const b = broker.data;
  const topicRates = Object.entries(rates.data?.produce ?? {}).sort((x, y) => y[1] - x[1]);
  const groupRates = Object.entries(rates.data?.consume ?? {})
    .map(([g, m]) => [g, sum(Object.values(m))] as const)
    .sort((x, y) => y[1] - x[1]);
  return (
    <div>
      <h1>Overview</h1>
      <ErrorBox error={broker.error ?? rates.error ?? cluster.error} />
      <div class="stats">
        <Stat testId="stat-topics" label="Topics" value={b?.topics ?? "…"} />
        <Stat testId="stat-groups" label="Groups" value={b?.groups ?? "…"} />
        <Stat testId="stat-produced" label="Messages produced" value={b?.produced ?? "…"} />
        <Stat testId="stat-consumed" label="Messages consumed" value={b?.consumed ?? "…"} />
        <Stat testId="stat-produce-tps" label="Produce TPS" value={sample ? fmtRate(sample.produce) : "…"} />
        <Stat testId="stat-consume-tps" label="Consume TPS" value={sample ? fmtRate(sample.consume) : "…"} />
      </div>
      <Section title="Message rates (live)">
        <LineChart
          testId="chart-rates"
          title="messages per second"
          labels={["produce", "consume"]}
          rows={rows}
        />
        <div class="two">
          <Table
            testId="produce-rates"
            rows={topicRates}
            rowKey={([t]) => t}
            columns={[
              { title: "Topic", cell: ([t]) => <Link to={`/topics/${encodeURIComponent(t)}`}>{t}</Link> },
              { title: "produce/s", num: true, cell: ([, v]) => fmtRate(v) },
            ]}
          />
          <Table
            testId="consume-rates"
            rows={groupRates}
            rowKey={([g]) => g}
            columns={[
              { title: "Group", cell: ([g]) => <Link to={`/groups/${encodeURIComponent(g)}`}>{g}</Link> },
              { title: "consume/s", num: true, cell: ([, v]) => fmtRate(v) },
            ]}
          />
        </div>
      </Section>
      <Section title="Broker" testId="broker-status">
        <Loading when={b} />
        {b && (
          <table class="kv">
            <tbody>
              <tr>
                <th>Name</th>
                <td data-testid="broker-name">{b.name}</td>
                <th>Cluster</th>
                <td>{b.cluster}</td>
              </tr>
              <tr>
                <th>Address</th>
                <td data-testid="broker-addr">{b.addr}</td>
                <th>Broker id</th>
                <td>{b.id}</td>
              </tr>
              <tr>
                <th>Started</th>
                <td>{fmtTime(b.startedAt)}</td>
                <th>Uptime</th>
                <td>{fmtDuration(b.uptimeMs)}</td>
              </tr>
              <tr>
                <th>Commit log</th>
                <td data-testid="broker-commitlog">{fmtBytes(b.store.commitLogBytes)}</td>
                <th>Disk used</th>
                <td>
                  {typeof b.store.diskUsedRatio === "number"
                    ? `${(b.store.diskUsedRatio * 100).toFixed(1)} %`
                    : "-"}
                </td>
              </tr>
              <tr>
                <th>Timers pending</th>
                <td>{b.timersPending}</td>
                <th>Half messages pending</th>
                <td>{b.halfMessagesPending}</td>
              </tr>
              <tr>
                <th>Role</th>
                <td data-testid="broker-role">{b.replication?.role ?? "-"}</td>
                <th>Replication</th>
                <td>{replicationText(b)}</td>
              </tr>
              <tr>
                <th>Connections</th>
                <td colSpan={3}>
                  {Object.entries(b.connections)
                    .map(([k, v]) => `${k} ${v}`)
                    .join(", ")}
                </td>
              </tr>
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Cluster" testId="cluster">
        <Loading when={cluster.data} />
        <Table
          rows={cluster.data?.brokers}
          rowKey={(x) => `${x.name}/${x.id}`}
          rowTestId="cluster-row"
          columns={[
            { title: "Cluster", cell: (x) => x.cluster },
            { title: "Broker", cell: (x) => x.name },
            { title: "Id", num: true, cell: (x) => x.id },
            { title: "Address", cell: (x) => x.addr },
          ]}
        />
      </Section>
    </div>
  );
}

/** "1 slave, 0 B behind" on a master, "from 10.0.0.1:10912, connected" on a slave. */
function replicationText(b: BrokerStatus): string {
  const r = b.replication;
  if (!r) return "-";
  if (r.role === "SLAVE") {
    return `from ${r.masterHaAddress ?? "(master not known yet)"}, ${r.connected ? "connected" : "not connected"}`;
  }
  const n = r.slaves ?? 0;
  if (n === 0) return "no slave connected";
  return `${n} slave${n === 1 ? "" : "s"}, ${fmtBytes(r.slaveLagBytes ?? 0)} behind`;
}
