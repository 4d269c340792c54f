// Topics: the list with a create form; one topic's route, per-queue status and a form to send a test message.
import { useState } from "preact/hooks";
import { api, enc } from "../api";
import type { QueueStat, TopicInfo, TopicRoute } from "../api";
import { fmtTime, permText } from "../format";
import { useApi } from "../hooks";
import { ErrorBox, Link, Loading, Section, navigate } from "../ui";

export function Topics(props: { topic: string | undefined }) {
  return props.topic ? <TopicDetail topic={props.topic} /> : <TopicList />;
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
        <table data-testid="topics-table">
          <thead>
            <tr>
              <th>Topic</th>
              <th class="num">Read queues</th>
              <th class="num">Write queues</th>
              <th>Perm</th>
              <th class="num">Messages</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.topics.map((t) => (
              <tr key={t.topicName} data-testid="topic-row" data-topic={t.topicName}>
                <td>
                  <Link to={`/topics/${enc(t.topicName)}`}>{t.topicName}</Link>
                </td>
                <td class="num">{t.readQueueNums}</td>
                <td class="num">{t.writeQueueNums}</td>
                <td>{permText(t.perm)}</td>
                <td class="num" data-testid="topic-messages">
                  {t.messages}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </div>
  );
}

function CreateTopic(props: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const [queues, setQueues] = useState("8");
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setDone(undefined);
    try {
      const r = await api<{ topic: TopicInfo }>("/admin/topics", {
        method: "POST",
        body: { topic: name.trim(), queues: Number(queues) },
      });
      setDone(`created ${r.topic.topicName}`);
      setName("");
      props.onCreated();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <Section title="Create or update a topic">
      <form class="row" onSubmit={submit} data-testid="create-topic">
        <label>
          Name
          <input
            id="new-topic-name"
            required
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Queues
          <input
            id="new-topic-queues"
            type="number"
            min={1}
            max={1024}
            value={queues}
            onInput={(e) => setQueues((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" id="create-topic-submit">
          Create
        </button>
      </form>
      <ErrorBox error={error} />
      {done && (
        <p class="ok" data-testid="create-topic-result">
          {done}
        </p>
      )}
    </Section>
  );
}

function TopicDetail(props: { topic: string }) {
  const t = enc(props.topic);
  const route = useApi<TopicRoute>(`/admin/topics/${t}/route`);
  const status = useApi<{ queues: QueueStat[] }>(`/admin/topics/${t}/status`, 5000);
  const total = status.data?.queues.reduce((n, q) => n + q.maxOffset - q.minOffset, 0);
  const remove = async () => {
    if (!confirm(`Delete topic ${props.topic}?`)) return;
    await api(`/admin/topics/${t}`, { method: "DELETE" });
    navigate("/topics");
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
        <table>
          <thead>
            <tr>
              <th class="num">Queue</th>
              <th class="num">Min offset</th>
              <th class="num">Max offset</th>
              <th>Last update</th>
            </tr>
          </thead>
          <tbody>
            {status.data?.queues.map((q) => (
              <tr key={q.queueId} data-testid="queue-row" data-queue={q.queueId}>
                <td class="num">{q.queueId}</td>
                <td class="num" data-testid="queue-min">
                  {q.minOffset}
                </td>
                <td class="num" data-testid="queue-max">
                  {q.maxOffset}
                </td>
                <td>{fmtTime(q.lastUpdateTimestamp)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th>Messages</th>
              <td class="num" colSpan={2} data-testid="topic-total">
                {total ?? ""}
              </td>
              <td />
            </tr>
          </tfoot>
        </table>
      </Section>
      <Section title="Route" testId="topic-route">
        <Loading when={route.data} />
        {route.data && (
          <table>
            <thead>
              <tr>
                <th>Source</th>
                <th>Broker</th>
                <th>Address</th>
                <th class="num">Read queues</th>
                <th class="num">Write queues</th>
                <th>Perm</th>
              </tr>
            </thead>
            <tbody>
              <tr data-testid="route-local">
                <td>this broker</td>
                <td>{route.data.local.broker}</td>
                <td>{route.data.local.addr}</td>
                <td class="num">{route.data.local.readQueueNums}</td>
                <td class="num">{route.data.local.writeQueueNums}</td>
                <td>{permText(route.data.local.perm)}</td>
              </tr>
              {route.data.namesrv?.queueDatas.map((q) => {
                const bd = route.data?.namesrv?.brokerDatas.find((x) => x.brokerName === q.brokerName);
                return (
                  <tr key={q.brokerName} data-testid="route-namesrv">
                    <td>NameServer</td>
                    <td>{q.brokerName}</td>
                    <td>{Object.values(bd?.brokerAddrs ?? {}).join(", ")}</td>
                    <td class="num">{q.readQueueNums}</td>
                    <td class="num">{q.writeQueueNums}</td>
                    <td>{permText(q.perm)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {route.data && !route.data.namesrv && <p class="muted">No NameServer knows this topic (yet).</p>}
      </Section>
      <SendMessage topic={props.topic} onSent={status.reload} />
      <Section title="Danger zone">
        <button class="danger" onClick={() => void remove()} id="delete-topic">
          Delete topic
        </button>
      </Section>
    </div>
  );
}

function SendMessage(props: { topic: string; onSent: () => void }) {
  const [tag, setTag] = useState("");
  const [keys, setKeys] = useState("");
  const [body, setBody] = useState("hello from the console");
  const [error, setError] = useState<string | undefined>();
  const [sent, setSent] = useState<Record<string, unknown> | undefined>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const r = await api<{ sent: Record<string, unknown> }>("/admin/messages", {
        method: "POST",
        body: { topic: props.topic, tag, keys: keys.split(/[\s,]+/).filter(Boolean), body },
      });
      setSent(r.sent);
      props.onSent();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <Section title="Send a test message">
      <form class="row" onSubmit={submit} data-testid="send-message">
        <label>
          Tag
          <input id="send-tag" value={tag} onInput={(e) => setTag((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Keys
          <input id="send-keys" value={keys} onInput={(e) => setKeys((e.target as HTMLInputElement).value)} />
        </label>
        <label class="grow">
          Body
          <input id="send-body" value={body} onInput={(e) => setBody((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" id="send-submit">
          Send
        </button>
      </form>
      <ErrorBox error={error} />
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
