// Topics: the list with a create form; one topic's route, per-queue status and a form to send a test message.
import { useState } from "preact/hooks";
import { api, enc } from "../api";
import type { QueueStat, TopicInfo, TopicRoute } from "../api";
import { fmtTime, permText } from "../format";
import { useAction, useApi } from "../hooks";
import { ErrorBox, Link, Loading, Outcome, Section, Table, bind, navigate } from "../ui";

export function Topics(props: { topic: string | undefined }) {
  return props.topic ? <TopicDetail key={props.topic} topic={props.topic} /> : <TopicList />;
}

function TopicList() {
  const [system, setSystem] = useState(false);
  const list = useApi<{ topics: TopicInfo[] }>(`/admin/topics${system ? "?system=true" : ""}`, 5000);
  return (
    <div>
      <h1>Topics</h1>
      <ErrorBox error={list.error} />
      <CreateTopic onCreated={list.reload} />
      <Section title="All topics">
        <label class="inline">
          <input
            type="checkbox"
            checked={system}
            onChange={(e) => setSystem((e.target as HTMLInputElement).checked)}
          />
          show system topics
        </label>
        <Loading when={list.data} />
        <Table
          testId="topics-table"
          rows={list.data?.topics}
          rowKey={(t) => t.topicName}
          rowTestId="topic-row"
          rowData={(t) => ({ topic: t.topicName })}
          columns={[
            { title: "Topic", cell: (t) => <Link to={`/topics/${enc(t.topicName)}`}>{t.topicName}</Link> },
            { title: "Read queues", num: true, cell: (t) => t.readQueueNums },
            { title: "Write queues", num: true, cell: (t) => t.writeQueueNums },
            { title: "Perm", cell: (t) => permText(t.perm) },
            { title: "Messages", num: true, testId: "topic-messages", cell: (t) => t.messages },
          ]}
        />
      </Section>
    </div>
  );
}

function CreateTopic(props: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const [queues, setQueues] = useState("8");
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const r = await api<{ topic: TopicInfo }>("/admin/topics", {
        method: "POST",
        body: { topic: name.trim(), queues: Number(queues) },
      });
      setName("");
      props.onCreated();
      return `created ${r.topic.topicName}`;
    });
  };
  return (
    <Section title="Create or update a topic">
      <form class="row" onSubmit={submit} data-testid="create-topic">
        <label>
          Name
          <input id="new-topic-name" required value={name} onInput={bind(setName)} />
        </label>
        <label>
          Queues
          <input
            id="new-topic-queues"
            type="number"
            min={1}
            max={1024}
            value={queues}
            onInput={bind(setQueues)}
          />
        </label>
        <button type="submit" id="create-topic-submit">
          Create
        </button>
      </form>
      <Outcome action={action} testId="create-topic-result" />
    </Section>
  );
}

/** The route as this broker has it, then as each NameServer publishes it. */
function routeRows(r: TopicRoute | undefined) {
  if (!r) return undefined;
  const local = { source: "this broker", broker: r.local.broker, addr: r.local.addr, ...queuesOf(r.local) };
  return [
    local,
    ...(r.namesrv?.queueDatas ?? []).map((q) => {
      const bd = r.namesrv?.brokerDatas.find((x) => x.brokerName === q.brokerName);
      const addr = Object.values(bd?.brokerAddrs ?? {}).join(", ");
      return { source: "NameServer", broker: q.brokerName, addr, ...queuesOf(q) };
    }),
  ];
}

function queuesOf(q: { readQueueNums: number; writeQueueNums: number; perm: number }) {
  return { readQueueNums: q.readQueueNums, writeQueueNums: q.writeQueueNums, perm: q.perm };
}

function TopicDetail(props: { topic: string }) {
  const t = enc(props.topic);
  const route = useApi<TopicRoute>(`/admin/topics/${t}/route`);
  const status = useApi<{ queues: QueueStat[] }>(`/admin/topics/${t}/status`, 5000);
  const total = status.data?.queues.reduce((n, q) => n + q.maxOffset - q.minOffset, 0);
  const del = useAction();
  const remove = () => {
    if (!confirm(`Delete topic ${props.topic}?`)) return;
    void del.run(async () => {
      await api(`/admin/topics/${t}`, { method: "DELETE" });
      navigate("/topics");
      return undefined;
    });
  };
  return (
    <div>
      <p>
        <Link to="/topics">← Topics</Link>
      </p>
      <h1 data-testid="topic-name">{props.topic}</h1>
      <ErrorBox error={status.error ?? route.error} />
      <Section title="Status per queue" testId="topic-status">
        <Loading when={status.data} />
        <Table
          rows={status.data?.queues}
          rowKey={(q) => q.queueId}
          rowTestId="queue-row"
          rowData={(q) => ({ queue: q.queueId })}
          columns={[
            { title: "Queue", num: true, cell: (q) => q.queueId },
            { title: "Min offset", num: true, testId: "queue-min", cell: (q) => q.minOffset },
            { title: "Max offset", num: true, testId: "queue-max", cell: (q) => q.maxOffset },
            { title: "Last update", cell: (q) => fmtTime(q.lastUpdateTimestamp) },
          ]}
          footer={
            <tr>
              <th>Messages</th>
              <td class="num" colSpan={2} data-testid="topic-total">
                {total ?? ""}
              </td>
              <td />
            </tr>
          }
        />
      </Section>
      <Section title="Route" testId="topic-route">
        <Loading when={route.data} />
        <Table
          rows={routeRows(route.data)}
          rowKey={(r) => `${r.source}/${r.broker}`}
          rowData={(r) => ({ source: r.source })}
          rowTestId="route-row"
          columns={[
            { title: "Source", cell: (r) => r.source },
            { title: "Broker", cell: (r) => r.broker },
            { title: "Address", cell: (r) => r.addr },
            { title: "Read queues", num: true, cell: (r) => r.readQueueNums },
            { title: "Write queues", num: true, cell: (r) => r.writeQueueNums },
            { title: "Perm", cell: (r) => permText(r.perm) },
          ]}
        />
        {route.data && !route.data.namesrv && <p class="muted">No NameServer knows this topic (yet).</p>}
      </Section>
      <SendMessage topic={props.topic} onSent={status.reload} />
      <Section title="Danger zone">
        <button class="danger" onClick={remove} id="delete-topic">
          Delete topic
        </button>
        <Outcome action={del} testId="delete-topic-result" />
      </Section>
    </div>
  );
}

function SendMessage(props: { topic: string; onSent: () => void }) {
  const [tag, setTag] = useState("");
  const [keys, setKeys] = useState("");
  const [body, setBody] = useState("hello from the console");
  const [sent, setSent] = useState<Record<string, unknown> | undefined>();
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const r = await api<{ sent: Record<string, unknown> }>("/admin/messages", {
        method: "POST",
        body: { topic: props.topic, tag, keys: keys.split(/[\s,]+/).filter(Boolean), body },
      });
      setSent(r.sent);
      props.onSent();
      return undefined;
    });
  };
  return (
    <Section title="Send a test message">
      <form class="row" onSubmit={submit} data-testid="send-message">
        <label>
          Tag
          <input id="send-tag" value={tag} onInput={bind(setTag)} />
        </label>
        <label>
          Keys
          <input id="send-keys" value={keys} onInput={bind(setKeys)} />
        </label>
        <label class="grow">
          Body
          <input id="send-body" value={body} onInput={bind(setBody)} />
        </label>
        <button type="submit" id="send-submit">
          Send
        </button>
      </form>
      <Outcome action={action} testId="send-ok" />
      {sent && (
        <table class="kv" data-testid="send-result">
          <tbody>
            {Object.entries(sent).map(([k, v]) => (
              <tr key={k}>
                <th>{k}</th>
                <td data-testid={`sent-${k}`}>{typeof v === "object" ? JSON.stringify(v) : String(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
