// Dead letters: the groups that have any (their %DLQ% topics), and a group's dead letters, each of which can be sent
// back to its original topic.
import { useState } from "preact/hooks";
import { api, enc } from "../api";
import type { DeadLetter, GroupSummary, TopicInfo } from "../api";
import { fmtTime } from "../format";
import { useAction, useApi } from "../hooks";
import { ErrorBox, Link, Loading, Outcome, Section, Table, bind, navigate } from "../ui";

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
            <input id="dlq-group" list="group-names" required value={group} onInput={bind(setGroup)} />
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
      {props.group ? <DeadLetterList key={props.group} group={props.group} /> : <GroupsWithDeadLetters />}
    </div>
  );
}

const DLQ_PREFIX = "%DLQ%";

function GroupsWithDeadLetters() {
  const topics = useApi<{ topics: TopicInfo[] }>("/admin/topics?system=true", 10_000);
  const rows = topics.data?.topics
    .filter((t) => t.topicName.startsWith(DLQ_PREFIX))
    .map((t) => ({ group: t.topicName.slice(DLQ_PREFIX.length), messages: t.messages }));
  return (
    <Section title="Groups with dead letters" testId="dlq-groups">
      <ErrorBox error={topics.error} />
      <Loading when={rows} />
      {rows?.length === 0 && <p class="muted">No group has dead letters.</p>}
      <Table
        rows={rows}
        rowKey={(r) => r.group}
        rowTestId="dlq-group-row"
        rowData={(r) => ({ group: r.group })}
        columns={[
          { title: "Group", cell: (r) => <Link to={`/dlq/${enc(r.group)}`}>{r.group}</Link> },
          { title: "Dead letters", num: true, testId: "dlq-group-count", cell: (r) => r.messages },
        ]}
      />
    </Section>
  );
}

function DeadLetterList(props: { group: string }) {
  const list = useApi<{ messages: DeadLetter[] }>(`/admin/dlq/${enc(props.group)}?max=200`, 5000);
  const action = useAction();
  const resend = (d: DeadLetter) =>
    void action.run(async () => {
      const r = await api<{ resent: { topic?: string; queueId?: number; queueOffset?: number } }>(
        `/admin/dlq/${enc(props.group)}/${d.dlqOffset}/resend`,
        { method: "POST" },
      );
      list.reload();
      return (
        `resent dead letter ${d.dlqOffset} to ${r.resent.topic ?? "its topic"}` +
        (r.resent.queueId !== undefined ? ` (queue ${r.resent.queueId}, offset ${r.resent.queueOffset})` : "")
      );
    });
  return (
    <Section title={`Dead letters of ${props.group}`} testId="dlq-list">
      <ErrorBox error={list.error} />
      <Outcome action={action} testId="dlq-resent" />
      <Loading when={list.data} />
      {list.data && (
        <p class="muted" data-testid="dlq-count">
          {list.data.messages.length} dead letter{list.data.messages.length === 1 ? "" : "s"}
        </p>
      )}
      <Table
        rows={list.data?.messages}
        rowKey={(d) => d.dlqOffset}
        rowTestId="dlq-row"
        rowData={(d) => ({ offset: d.dlqOffset })}
        columns={[
          { title: "DLQ offset", num: true, cell: (d) => d.dlqOffset },
          { title: "Message id", cell: (d) => <code>{d.msgId}</code> },
          {
            title: "Original topic",
            cell: (d) => d.properties["RETRY_TOPIC"] ?? d.properties["REAL_TOPIC"] ?? "",
          },
          { title: "Tag", cell: (d) => d.tags },
          { title: "Reconsumed", num: true, cell: (d) => d.reconsumeTimes },
          { title: "Stored", cell: (d) => fmtTime(d.storeTimestamp) },
          { title: "Body", testId: "dlq-body", cell: (d) => <span class="clip">{d.body}</span> },
          {
            title: "",
            cell: (d) => (
              <button data-testid="dlq-resend" onClick={() => resend(d)}>
                Resend
              </button>
            ),
          },
        ]}
      />
    </Section>
  );
}
