// Messages: find by id, by key or by store-time range; show one message's body, properties and delivery trace.
import { useState } from "preact/hooks";
import { api, enc } from "../api";
import type { MessageView, TopicInfo, TraceEvent } from "../api";
import { fmtTime } from "../format";
import { useApi } from "../hooks";
import { ErrorBox, Section, Table, bind } from "../ui";

type Mode = "id" | "key" | "time";

function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

export function Messages() {
  const topics = useApi<{ topics: TopicInfo[] }>("/admin/topics?system=true");
  const [mode, setMode] = useState<Mode>("id");
  const [topic, setTopic] = useState("");
  const [id, setId] = useState("");
  const [key, setKey] = useState("");
  const [begin, setBegin] = useState(() => localInput(Date.now() - 3600_000));
  const [end, setEnd] = useState(() => localInput(Date.now() + 60_000));
  const [error, setError] = useState<string | undefined>();
  const [found, setFound] = useState<MessageView[] | undefined>();
  const [selected, setSelected] = useState<MessageView | undefined>();

  const search = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setSelected(undefined);
    const q = new URLSearchParams();
    if (topic) q.set("topic", topic);
    if (mode === "id") q.set("id", id.trim());
    else if (mode === "key") q.set("key", key.trim());
    else {
      q.set("begin", String(new Date(begin).getTime()));
      q.set("end", String(new Date(end).getTime()));
      q.set("max", "200");
    }
    try {
      const r = await api<{ messages: MessageView[] }>(`/admin/messages?${q.toString()}`);
      setFound(r.messages);
      if (r.messages.length === 1) setSelected(r.messages[0]);
    } catch (err) {
      setFound(undefined);
      setError((err as Error).message);
    }
  };

  return (
    <div>
      <h1>Messages</h1>
      <Section title="Find messages">
        <div class="tabs" role="tablist">
          {(["id", "key", "time"] as const).map((m) => (
            <button
              key={m}
              type="button"
              class={mode === m ? "tab active" : "tab"}
              id={`mode-${m}`}
              onClick={() => setMode(m)}
            >
              {m === "id" ? "By id" : m === "key" ? "By key" : "By time range"}
            </button>
          ))}
        </div>
        <form class="row" onSubmit={search} data-testid="message-search">
          <label>
            Topic{mode === "id" ? " (optional)" : ""}
            <input id="msg-topic" list="topic-names" value={topic} onInput={bind(setTopic)} />
            <datalist id="topic-names">
              {topics.data?.topics.map((t) => (
                <option key={t.topicName} value={t.topicName} />
              ))}
            </datalist>
          </label>
          {mode === "id" && (
            <label class="grow">
              Message id (unique id or offset id)
              <input id="msg-id" required value={id} onInput={bind(setId)} />
            </label>
          )}
          {mode === "key" && (
            <label class="grow">
              Key
              <input id="msg-key" required value={key} onInput={bind(setKey)} />
            </label>
          )}
          {mode === "time" && (
            <>
              <label>
                From
                <input id="msg-begin" type="datetime-local" step={1} value={begin} onInput={bind(setBegin)} />
              </label>
              <label>
                To
                <input id="msg-end" type="datetime-local" step={1} value={end} onInput={bind(setEnd)} />
              </label>
            </>
          )}
          <button type="submit" id="msg-search">
            Search
          </button>
        </form>
        <ErrorBox error={error} />
        {found && (
          <>
            <p class="muted" data-testid="message-count">
              {found.length} message{found.length === 1 ? "" : "s"}
            </p>
            <Table
              testId="messages-table"
              rows={found}
              rowKey={(m) => m.offsetMsgId}
              rowTestId="message-row"
              rowData={(m) => ({ msgid: m.msgId })}
              rowClass={(m) => (selected?.offsetMsgId === m.offsetMsgId ? "selected" : "")}
              onRowClick={setSelected}
              columns={[
                { title: "Message id", cell: (m) => <code>{m.msgId}</code> },
                { title: "Topic", cell: (m) => m.topic },
                { title: "Queue", num: true, cell: (m) => m.queueId },
                { title: "Offset", num: true, cell: (m) => m.queueOffset },
                { title: "Tag", cell: (m) => m.tags },
                { title: "Keys", cell: (m) => m.keys.join(" ") },
                { title: "Stored", cell: (m) => fmtTime(m.storeTimestamp) },
              ]}
            />
          </>
        )}
      </Section>
      {selected && <MessageDetail key={selected.offsetMsgId} m={selected} />}
    </div>
  );
}

function MessageDetail(props: { m: MessageView }) {
  const m = props.m;
  const trace = useApi<{ events: TraceEvent[] }>(
    `/admin/messages/trace?id=${enc(m.offsetMsgId)}&topic=${enc(m.topic)}`,
    5000,
  );
  return (
    <Section title={`Message ${m.msgId}`} testId="message-detail">
      <div class="two">
        <div>
          <h3>
            Body ({m.bodySize} bytes, {m.bodyEncoding})
          </h3>
          <pre class="body" data-testid="message-body">
            {m.body}
          </pre>
          <h3>Properties</h3>
          <table class="kv" data-testid="message-properties">
            <tbody>
              {Object.entries(m.properties).map(([k, v]) => (
                <tr key={k}>
                  <th>{k}</th>
                  <td data-testid={`prop-${k}`}>{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h3>Where</h3>
          <table class="kv">
            <tbody>
              <tr>
                <th>Offset message id</th>
                <td>
                  <code>{m.offsetMsgId}</code>
                </td>
              </tr>
              <tr>
                <th>Topic / queue / offset</th>
                <td>
                  {m.topic} / {m.queueId} / {m.queueOffset}
                </td>
              </tr>
              <tr>
                <th>Born</th>
                <td>
                  {fmtTime(m.bornTimestamp)} at {m.bornHost}
                </td>
              </tr>
              <tr>
                <th>Stored</th>
                <td>
                  {fmtTime(m.storeTimestamp)} at {m.storeHost}
                </td>
              </tr>
              <tr>
                <th>Reconsume times</th>
                <td>{m.reconsumeTimes}</td>
              </tr>
            </tbody>
          </table>
          <h3>Delivery trace</h3>
          <ErrorBox error={trace.error} />
          <Table
            testId="message-trace"
            rows={trace.data?.events}
            rowKey={(ev) => `${ev.type}/${ev.group ?? ""}/${ev.time}/${ev.detail}`}
            rowTestId="trace-row"
            rowData={(ev) => ({ type: ev.type, group: ev.group ?? "" })}
            columns={[
              { title: "Time", cell: (ev) => fmtTime(ev.time) },
              { title: "Event", cell: (ev) => <span class={`badge ${ev.type}`}>{ev.type}</span> },
              { title: "Group", cell: (ev) => ev.group ?? "" },
              { title: "Detail", cell: (ev) => ev.detail },
            ]}
          />
        </div>
      </div>
    </Section>
  );
}
