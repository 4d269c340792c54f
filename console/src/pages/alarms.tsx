// Backlog alarms: every rule with its state (firing or ok, the value seen, since when), a form to add one, and a
// button to remove one. The broker evaluates the rules; this page only shows and edits them.
import { useState } from "preact/hooks";
import { api, enc } from "../api";
import type { AlarmStatus, GroupSummary } from "../api";
import { fmtDuration, fmtTime } from "../format";
import { useApi } from "../hooks";
import { ErrorBox, Link, Loading, Section } from "../ui";

export function Alarms() {
  const list = useApi<{ alarms: AlarmStatus[] }>("/admin/alarms", 2000);
  const [error, setError] = useState<string | undefined>();
  const remove = async (id: string) => {
    setError(undefined);
    try {
      await api(`/admin/alarms/${enc(id)}`, { method: "DELETE" });
      list.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const firing = list.data?.alarms.filter((a) => a.firing).length ?? 0;
  return (
    <div>
      <h1>Alarms</h1>
      <ErrorBox error={list.error ?? error} />
      <AddRule onAdded={list.reload} />
      <Section title="Rules" testId="alarm-rules">
        <Loading when={list.data} />
        {list.data && (
          <p class={firing ? "warn" : "ok"} data-testid="alarms-firing" data-count={firing}>
            {firing ? `${firing} firing` : "nothing firing"}
          </p>
        )}
        <table>
          <thead>
            <tr>
              <th>State</th>
              <th>Group</th>
              <th>Topic</th>
              <th>Condition</th>
              <th class="num">Backlog</th>
              <th>Oldest un-consumed</th>
              <th>Since</th>
              <th>Reason</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data?.alarms.map((a) => (
              <tr
                key={a.rule.id}
                data-testid="alarm-row"
                data-id={a.rule.id}
                data-group={a.rule.group}
                data-state={a.firing ? "firing" : "ok"}
                class={a.firing ? "firing" : ""}
              >
                <td>
                  <span class={`badge ${a.firing ? "firing" : "ok"}`} data-testid="alarm-state">
                    {a.firing ? "FIRING" : "ok"}
                  </span>
                </td>
                <td>
                  <Link to={`/groups/${enc(a.rule.group)}`}>{a.rule.group}</Link>
                </td>
                <td>{a.rule.topic ?? "all"}</td>
                <td>
                  {[
                    a.rule.maxBacklog !== undefined ? `backlog > ${a.rule.maxBacklog}` : "",
                    a.rule.maxLagMs !== undefined ? `lag > ${fmtDuration(a.rule.maxLagMs)}` : "",
                  ]
                    .filter(Boolean)
                    .join(" or ")}
                </td>
                <td class="num" data-testid="alarm-backlog">
                  {a.value.backlog}
                </td>
                <td>{a.value.lagMs ? fmtDuration(a.value.lagMs) : "-"}</td>
                <td>{fmtTime(a.since)}</td>
                <td>{a.reason}</td>
                <td>
                  <button class="danger" data-testid="alarm-remove" onClick={() => void remove(a.rule.id)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </div>
  );
}

function AddRule(props: { onAdded: () => void }) {
  const groups = useApi<{ groups: GroupSummary[] }>("/admin/groups");
  const [group, setGroup] = useState("");
  const [topic, setTopic] = useState("");
  const [maxBacklog, setMaxBacklog] = useState("1000");
  const [maxLagSec, setMaxLagSec] = useState("");
  const [error, setError] = useState<string | undefined>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      await api("/admin/alarms", {
        method: "POST",
        body: {
          group: group.trim(),
          ...(topic.trim() ? { topic: topic.trim() } : {}),
          ...(maxBacklog !== "" ? { maxBacklog: Number(maxBacklog) } : {}),
          ...(maxLagSec !== "" ? { maxLagMs: Number(maxLagSec) * 1000 } : {}),
        },
      });
      props.onAdded();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const input = (setter: (v: string) => void) => (e: Event) => setter((e.target as HTMLInputElement).value);
  return (
    <Section title="Add a rule">
      <form class="row" onSubmit={submit} data-testid="add-alarm">
        <label>
          Group
          <input id="alarm-group" list="alarm-group-names" required value={group} onInput={input(setGroup)} />
          <datalist id="alarm-group-names">
            {groups.data?.groups.map((g) => (
              <option key={g.group} value={g.group} />
            ))}
          </datalist>
        </label>
        <label>
          Topic (empty: all)
          <input id="alarm-topic" value={topic} onInput={input(setTopic)} />
        </label>
        <label>
          Backlog over (messages)
          <input
            id="alarm-max-backlog"
            type="number"
            min={0}
            value={maxBacklog}
            onInput={input(setMaxBacklog)}
          />
        </label>
        <label>
          Or oldest older than (s)
          <input id="alarm-max-lag" type="number" min={0} value={maxLagSec} onInput={input(setMaxLagSec)} />
        </label>
        <button type="submit" id="alarm-add">
          Add rule
        </button>
      </form>
      <ErrorBox error={error} />
    </Section>
  );
}
