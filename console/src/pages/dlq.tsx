// Dead letters: a group's %DLQ% messages, each of which can be sent back to its original topic.
import { useState } from "preact/hooks";
import { api, enc } from "../api";
import type { DeadLetter, GroupSummary } from "../api";
import { fmtTime } from "../format";
import { useApi } from "../hooks";
import { ErrorBox, Loading, Section, navigate } from "../ui";

export function DeadLetters(props: { group: string | undefined }) {
  const groups = useApi<{ groups: GroupSummary[] }>("/admin/groups");
  const [group, setGroup] = useState(props.group ?? "");
  return (
    <div>
      <h1>Dead letters</h1>
      <Section title="Group">
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (group.trim()) navigate(`/dlq/${enc(group.trim())}`);
          }}
        >
          <label class="grow">
            Consumer group
            <input
              id="dlq-group"
              list="group-names"
              required
              value={group}
              onInput={(e) => setGroup((e.target as HTMLInputElement).value)}
            />
            <datalist id="group-names">
              {groups.data?.groups.map((g) => (
                <option key={g.group} value={g.group} />
              ))}
            </datalist>
          </label>
          <button type="submit" id="dlq-show">
            Show
          </button>
        </form>
      </Section>
      {props.group && <DeadLetterList key={props.group} group={props.group} />}
    </div>
  );
}

function DeadLetterList(props: { group: string }) {
  const list = useApi<{ messages: DeadLetter[] }>(`/admin/dlq/${enc(props.group)}?max=200`, 5000);
  const [note, setNote] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const resend = async (d: DeadLetter) => {
    setError(undefined);
    setNote(undefined);
    try {
      const r = await api<{ resent: { topic?: string; queueId?: number; queueOffset?: number } }>(
        `/admin/dlq/${enc(props.group)}/${d.dlqOffset}/resend`,
        { method: "POST" },
      );
      setNote(
        `resent dead letter ${d.dlqOffset} to ${r.resent.topic ?? "its topic"}` +
          (r.resent.queueId !== undefined
            ? ` (queue ${r.resent.queueId}, offset ${r.resent.queueOffset})`
            : ""),
      );
      list.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <Section title={`Dead letters of ${props.group}`} testId="dlq-list">
      <ErrorBox error={list.error ?? error} />
      {note && (
        <p class="ok" data-testid="dlq-resent">
          {note}
        </p>
      )}
      <Loading when={list.data} />
      {list.data && (
        <p class="muted" data-testid="dlq-count">
          {list.data.messages.length} dead letter{list.data.messages.length === 1 ? "" : "s"}
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th class="num">DLQ offset</th>
            <th>Message id</th>
            <th>Original topic</th>
            <th>Tag</th>
            <th class="num">Reconsumed</th>
            <th>Stored</th>
            <th>Body</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.data?.messages.map((d) => (
            <tr key={d.dlqOffset} data-testid="dlq-row" data-offset={d.dlqOffset}>
              <td class="num">{d.dlqOffset}</td>
              <td>
                <code>{d.msgId}</code>
              </td>
              <td>{d.properties["RETRY_TOPIC"] ?? d.properties["REAL_TOPIC"] ?? ""}</td>
              <td>{d.tags}</td>
              <td class="num">{d.reconsumeTimes}</td>
              <td>{fmtTime(d.storeTimestamp)}</td>
              <td class="clip" data-testid="dlq-body">
                {d.body}
              </td>
              <td>
                <button data-testid="dlq-resend" onClick={() => void resend(d)}>
                  Resend
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
