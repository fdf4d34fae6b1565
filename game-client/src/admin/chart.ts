// Small line charts for the operator console, as SVG (no chart library). The path maths is pure.

/** One line of a chart: its values (null: no sample), and its colour. */
export interface Line {
  label: string;
  colour: string;
  values: Array<number | null>;
}

/** A "nice" top for a chart's scale: at least `max`, one of 1, 2, 5 times a power of ten. */
export function niceMax(max: number): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/**
 * The SVG path of `values` in a `w`×`h` box, oldest at the left, `slots` samples across (so a short series sits at
 * the right edge, as the newest sample always does), 0 at the bottom and `top` at the top. Gaps (null) break the
 * line.
 */
export function linePath(values: Array<number | null>, slots: number, w: number, h: number, top: number): string {
  const n = Math.max(slots, values.length, 2);
  const offset = n - values.length;
  const parts: string[] = [];
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    const x = ((offset + i) / (n - 1)) * w;
    const y = h - (Math.min(Math.max(v, 0), top) / top) * h;
    parts.push(`${pen ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`);
    pen = true;
  });
  return parts.join("");
}

const SVG = "http://www.w3.org/2000/svg";

/** A chart in `host`: a title, its lines' latest values, and the lines. `format` writes a value. */
export class Chart {
  private readonly svg: SVGSVGElement;
  private readonly legend: HTMLElement;
  private readonly scale: HTMLElement;

  constructor(
    host: HTMLElement,
    title: string,
    private readonly format: (v: number) => string,
    private readonly slots = 300,
    private readonly w = 300,
    private readonly h = 80,
  ) {
    host.classList.add("chart");
    const head = document.createElement("div");
    head.className = "chart-head";
    const name = document.createElement("span");
    name.className = "chart-title";
    name.textContent = title;
    this.legend = document.createElement("span");
    this.legend.className = "chart-legend";
    head.append(name, this.legend);
    this.scale = document.createElement("span");
    this.scale.className = "chart-scale";
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    this.svg.setAttribute("preserveAspectRatio", "none");
    host.replaceChildren(head, this.scale, this.svg);
  }

  draw(lines: Line[]): void {
    const max = Math.max(0, ...lines.flatMap((l) => l.values.filter((v): v is number => v !== null)));
    const top = niceMax(max);
    this.scale.textContent = `max ${this.format(top)}`;
    const paths = lines.map((l) => {
      const p = document.createElementNS(SVG, "path");
      p.setAttribute("d", linePath(l.values, this.slots, this.w, this.h, top));
      p.setAttribute("stroke", l.colour);
      p.setAttribute("fill", "none");
      p.setAttribute("stroke-width", "1.5");
      p.setAttribute("vector-effect", "non-scaling-stroke");
      return p;
    });
    this.svg.replaceChildren(...paths);
    this.legend.replaceChildren(
      ...lines.map((l) => {
        const s = document.createElement("span");
        s.style.color = l.colour;
        const last = [...l.values].reverse().find((v) => v !== null);
        s.textContent = `${l.label} ${last === undefined || last === null ? "–" : this.format(last)}`;
        return s;
      }),
    );
  }
}
