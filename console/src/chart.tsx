// A live line chart on uPlot: one x axis of times (seconds) and one line per series.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Sample } from "./hooks";

const WINDOW_S = 60;
const COLORS = ["#2f6fde", "#e0593b", "#2aa36b", "#b557d1", "#d19a1f", "#3bb0c9", "#7a7a7a", "#c93b7a"];

export function LineChart(props: {
  testId: string;
  title: string;
  labels: string[];
  /** Samples over time; a label missing from a sample leaves a gap. */
  rows: Sample[];
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const key = props.labels.join("\u0000");

  const columns = (): uPlot.AlignedData => {
    const cols: (number | null)[][] = [props.rows.map((r) => r.t)];
    for (const label of props.labels) cols.push(props.rows.map((r) => r.values[label] ?? null));
    return cols as uPlot.AlignedData;
  };

  // The plot is rebuilt only when the set of series changes; new data goes through setData below.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 220,
      scales: {
        // At least the last minute, so a few samples do not stretch over a meaningless range.
        x: { time: true, range: (_u, min, max) => [Math.min(min, max - WINDOW_S), max] },
        y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max * 1.1)] },
      },
      series: [
        {},
        ...props.labels.map((label, i) => ({
          label,
          stroke: COLORS[i % COLORS.length] ?? "#333",
          width: 2,
        })),
      ],
      axes: [{}, { size: 60 }],
      legend: { show: true },
    };
    const u = new uPlot(opts, columns(), el);
    plot.current = u;
    const ro = new ResizeObserver(() =>
      u.setSize({ width: Math.max(200, el.clientWidth), height: opts.height }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = undefined;
    };
  }, [key, props.height]);

  useEffect(() => {
    plot.current?.setData(columns());
  });

  return (
    <figure class="chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" data-points={props.rows.length} />
    </figure>
  );
}
