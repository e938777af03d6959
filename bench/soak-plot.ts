// The soak's curves as one PNG: a panel per metric (line plot over frames ingested), stacked,
// with the panel's title, its min and max, and the frame range written in the heatmap's pixel font.
import { PNG } from 'pngjs';
import { fill, text, textWidth, type Rgb } from './needle-heatmap';

export interface Panel {
  title: string;
  /** x of each point (frames ingested) and y (null: no value at that sample). */
  xs: number[];
  ys: (number | null)[];
  /** A vertical marker at this x (the window is full), or null. */
  markX?: number | null;
}

const WIDTH = 900;
const PANEL_H = 120;
const LEFT = 110;
const RIGHT = 20;
const TITLE_H = 24;
const GAP = 16;
const LINE: Rgb = [40, 90, 200];
const AXIS: Rgb = [120, 120, 120];
const MARK: Rgb = [230, 150, 40];

/** A short number for an axis label: 1234567 → 1.23M. */
function short(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}K`;
  return a >= 100 || v === Math.round(v) ? String(Math.round(v)) : v.toPrecision(3);
}

/** A straight line of 2-pixel dots from (x0, y0) to (x1, y1). */
function line(png: PNG, x0: number, y0: number, x1: number, y1: number, rgb: Rgb): void {
  const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
  for (let s = 0; s <= steps; s++) fill(png, Math.round(x0 + ((x1 - x0) * s) / steps), Math.round(y0 + ((y1 - y0) * s) / steps), 2, 2, rgb);
}

/** The panels stacked in one PNG (PNG bytes). */
export function curvesPng(panels: Panel[], xTitle: string): Buffer {
  const height = panels.length * (PANEL_H + TITLE_H + GAP) + 40;
  const png = new PNG({ width: WIDTH, height });
  fill(png, 0, 0, WIDTH, height, [255, 255, 255]);
  const plotW = WIDTH - LEFT - RIGHT;
  panels.forEach((p, i) => {
    const top = i * (PANEL_H + TITLE_H + GAP) + TITLE_H;
    text(png, p.title, LEFT + textWidth(p.title) / 2, top - TITLE_H / 2);
    const points = p.xs.map((x, k) => ({ x, y: p.ys[k] })).filter((q): q is { x: number; y: number } => q.y !== null && Number.isFinite(q.y));
    fill(png, LEFT, top, 1, PANEL_H, AXIS);
    fill(png, LEFT, top + PANEL_H, plotW, 1, AXIS);
    if (points.length === 0) {
      text(png, 'NO DATA', LEFT + plotW / 2, top + PANEL_H / 2);
      return;
    }
    const xMin = Math.min(...p.xs);
    const xMax = Math.max(xMin + 1, ...p.xs);
    let yMin = Math.min(...points.map((q) => q.y));
    let yMax = Math.max(...points.map((q) => q.y));
    if (yMax === yMin) [yMin, yMax] = [yMin - Math.max(1, Math.abs(yMin) * 0.05), yMax + Math.max(1, Math.abs(yMax) * 0.05)];
    const px = (x: number) => LEFT + ((x - xMin) / (xMax - xMin)) * (plotW - 2);
    const py = (y: number) => top + PANEL_H - 2 - ((y - yMin) / (yMax - yMin)) * (PANEL_H - 4);
    text(png, short(yMax), LEFT / 2, top + 6);
    text(png, short(yMin), LEFT / 2, top + PANEL_H - 6);
    if (p.markX !== undefined && p.markX !== null) for (let y = top; y < top + PANEL_H; y += 4) fill(png, Math.round(px(p.markX)), y, 1, 2, MARK);
    for (let k = 1; k < points.length; k++) line(png, px(points[k - 1].x), py(points[k - 1].y), px(points[k].x), py(points[k].y), LINE);
    if (points.length === 1) fill(png, Math.round(px(points[0].x)) - 2, Math.round(py(points[0].y)) - 2, 5, 5, LINE);
  });
  const xs = panels.flatMap((p) => p.xs);
  const bottom = height - 24;
  if (xs.length) {
    text(png, short(Math.min(...xs)), LEFT + 10, bottom);
    text(png, short(Math.max(...xs)), WIDTH - RIGHT - 20, bottom);
  }
  text(png, xTitle, WIDTH / 2, bottom);
  return PNG.sync.write(png);
}
