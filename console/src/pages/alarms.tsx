// Backlog alarms: every rule with its state (firing or ok, the value seen, since when), a form to add one, and a
// button to remove one. The broker evaluates the rules; this page only shows and edits them.
import { useState } from "preact/hooks";
import { api, enc } from "../api";
import type { AlarmRule, AlarmStatus, GroupSummary } from "../api";
import { fmtDuration, fmtTime } from "../format";
import { useAction, useApi } from "../hooks";
import { ErrorBox, Link, Loading, Outcome, Section, Table, bind } from "../ui";

export function Alarms() {
  const list = useApi<{ alarms: AlarmStatus[] }>("/admin/alarms", 2000);
  const removal = useAction();
  const remove = (id: string) =>
    void removal.run(async () => {
      await api(`/admin/alarms/${enc(id)}`, { method: "DELETE" });
      list.reload();
      return `removed rule ${id}`;
    });
  const firing = list.data?.alarms.filter((a) => a.firing).length ?? 0;
  return (
    <div>
      <h1>Alarms</h1>
      <ErrorBox error={list.error} />
      <Outcome action={removal} testId="alarm-removed" />
      <AddRule onAdded={list.reload} />
      <Section title="Rules" testId="alarm-rules">
        <Loading when={list.data} />
        {list.data && (
          <p class={firing ? "warn" : "ok"} data-testid="alarms-firing" data-count={firing}>
            {firing ? `${firing} firing` : "nothing firing"}
          </p>
        )}
        <Table
          rows={list.data?.alarms}
          rowKey={(a) => a.rule.id}
          rowTestId="alarm-row"
          rowData={(a) => ({ id: a.rule.id, group: a.rule.group, state: a.firing ? "firing" : "ok" })}
          rowClass={(a) => (a.firing ? "firing" : "")}
          columns={[
            {
              title: "State",
              cell: (a) => (
                <span class={`badge ${a.firing ? "firing" : "ok"}`} data-testid="alarm-state">
                  {a.firing ? "FIRING" : "ok"}
                </span>
              ),
            },
            { title: "Group", cell: (a) => <Link to={`/groups/${enc(a.rule.group)}`}>{a.rule.group}</Link> },
            { title: "Topic", cell: (a) => a.rule.topic ?? "all" },
            { title: "Condition", cell: (a) => condition(a.rule) },
            { title: "Backlog", num: true, testId: "alarm-backlog", cell: (a) => a.value.backlog },
            { title: "Oldest un-consumed", cell: (a) => (a.value.lagMs ? fmtDuration(a.value.lagMs) : "-") },
            { title: "Since", cell: (a) => fmtTime(a.since) },
            { title: "Reason", cell: (a) => a.reason },
            {
              title: "",
              cell: (a) => (
                <button class="danger" data-testid="alarm-remove" onClick={() => remove(a.rule.id)}>
                  Remove
                </button>
              ),
            },
          ]}
        />
      </Section>
    </div>
  );
}

function condition(rule: AlarmRule): string {
  return [
    rule.maxBacklog !== undefined ? `backlog > ${rule.maxBacklog}` : "",
    rule.maxLagMs !== undefined ? `lag > ${fmtDuration(rule.maxLagMs)}` : "",
  ]
    .filter(Boolean)
    .join(" or ");
}

function AddRule(props: { onAdded: () => void }) {
  const groups = useApi<{ groups: GroupSummary[] }>("/admin/groups");
  const [group, setGroup] = useState("");
  const [topic, setTopic] = useState("");
  const [maxBacklog, setMaxBacklog] = useState("1000");
  const [maxLagSec, setMaxLagSec] = useState("");
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const r = await api<{ rule: { id: string } }>("/admin/alarms", {
        method: "POST",
        body: {
          group: group.trim(),
          ...(topic.trim() ? { topic: topic.trim() } : {}),
          ...(maxBacklog !== "" ? { maxBacklog: Number(maxBacklog) } : {}),
          ...(maxLagSec !== "" ? { maxLagMs: Number(maxLagSec) * 1000 } : {}),
        },
      });
      props.onAdded();
      return `added rule ${r.rule.id}`;
    });
  };
  return (
    <Section title="Add a rule">
      <form class="row" onSubmit={submit} data-testid="add-alarm">
        <label>
          Group
          <input id="alarm-group" list="alarm-group-names" required value={group} onInput={bind(setGroup)} />
          <datalist id="alarm-group-names">
            {groups.data?.groups.map((g) => (
              <option key={g.group} value={g.group} />
            ))}
          </datalist>
        </label>
        <label>
          Topic (empty: all)
          <input id="alarm-topic" value={topic} onInput={bind(setTopic)} />
        </label>
        <label>
          Backlog over (messages)
          <input
            id="alarm-max-backlog"
            type="number"
            min={0}
            value={maxBacklog}
            onInput={bind(setMaxBacklog)}
          />
        </label>
        <label>
          Or oldest older than (s)
          <input id="alarm-max-lag" type="number" min={0} value={maxLagSec} onInput={bind(setMaxLagSec)} />
        </label>
        <button type="submit" id="alarm-add">
          Add rule
        </button>
      </form>
      <Outcome action={action} testId="alarm-added" />
    </Section>
  );
}
