// The console's shell: a side bar of pages and a hash router (#/topics/TopicA), so any deep link under /console
// loads the same index.html and lands on its page.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useApi } from "./hooks";
import type { BrokerStatus } from "./api";
import { Overview } from "./pages/overview";
import { Topics } from "./pages/topics";
import { Groups } from "./pages/groups";
import { Messages } from "./pages/messages";
import { DeadLetters } from "./pages/dlq";
import { Alarms } from "./pages/alarms";
import "./style.css";

const PAGES = [
  { id: "overview", title: "Overview" },
  { id: "topics", title: "Topics" },
  { id: "groups", title: "Groups" },
  { id: "messages", title: "Messages" },
  { id: "dlq", title: "Dead letters" },
  { id: "alarms", title: "Alarms" },
] as const;

function parseHash(): string[] {
  const h = location.hash.replace(/^#\/?/, "");
  return h.split("/").filter(Boolean).map(decodeURIComponent);
}

function useRoute(): string[] {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const on = () => setRoute(parseHash());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

function Page(props: { route: string[] }) {
  const [page = "overview", arg] = props.route;
  switch (page) {
    case "topics":
      return <Topics topic={arg} />;
    case "groups":
      return <Groups group={arg} />;
    case "messages":
      return <Messages />;
    case "dlq":
      return <DeadLetters key={arg ?? ""} group={arg} />;
    case "alarms":
      return <Alarms />;
    default:
      return <Overview />;
  }
}

function App() {
  const route = useRoute();
  const current = route[0] ?? "overview";
  const broker = useApi<BrokerStatus>("/admin/broker", 10_000);
  return (
    <div class="shell">
      <nav class="side">
        <div class="brand">
          rocketmq-ts
          <small>{broker.data ? `${broker.data.cluster} / ${broker.data.name}` : "console"}</small>
        </div>
        {PAGES.map((p) => (
          <a
            key={p.id}
            href={`#/${p.id}`}
            class={current === p.id ? "active" : ""}
            data-testid={`nav-${p.id}`}
          >
            {p.title}
          </a>
        ))}
      </nav>
      <main class="content" data-testid={`page-${current}`}>
        <Page route={route} />
      </main>
    </div>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
