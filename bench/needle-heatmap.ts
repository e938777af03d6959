// Heatmap PNGs for the needle report: depth (x) × stream length (y) cells coloured by a fraction,
// with the percentage written in each cell (a 3×5 pixel font: no font dependency). fill() and
// text() also draw the soak's curves (bench/soak-plot.ts).
import { PNG } from 'pngjs';

const GLYPHS: Record<string, string[]> = {
  '0': ['111', '101', '101', '101', '111'],
  '1': ['010', '110', '010', '010', '111'],
  '2': ['111', '001', '111', '100', '111'],
  '3': ['111', '001', '111', '001', '111'],
  '4': ['101', '101', '111', '001', '001'],
  '5': ['111', '100', '111', '001', '111'],
  '6': ['111', '100', '111', '101', '111'],
  '7': ['111', '001', '001', '001', '001'],
  '8': ['111', '101', '111', '101', '111'],
  '9': ['111', '101', '111', '001', '111'],
  '%': ['101', '001', '010', '100', '101'],
  '.': ['000', '000', '000', '000', '010'],
  '-': ['000', '000', '111', '000', '000'],
  ' ': ['000', '000', '000', '000', '000'],
  // capitals and a few signs: the soak's panel titles (bench/soak-plot.ts); text() draws lower case as upper
  'A': ['010', '101', '111', '101', '101'],
  'B': ['110', '101', '110', '101', '110'],
  'C': ['011', '100', '100', '100', '011'],
  'D': ['110', '101', '101', '101', '110'],
  'E': ['111', '100', '110', '100', '111'],
  'F': ['111', '100', '110', '100', '100'],
  'G': ['011', '100', '101', '101', '011'],
  'H': ['101', '101', '111', '101', '101'],
  'I': ['111', '010', '010', '010', '111'],
  'J': ['001', '001', '001', '101', '010'],
  'K': ['101', '101', '110', '101', '101'],
  'L': ['100', '100', '100', '100', '111'],
  'M': ['101', '111', '111', '101', '101'],
  'N': ['110', '101', '101', '101', '101'],
  'O': ['010', '101', '101', '101', '010'],
  'P': ['110', '101', '110', '100', '100'],
  'Q': ['010', '101', '101', '110', '011'],
  'R': ['110', '101', '110', '101', '101'],
  'S': ['011', '100', '010', '001', '110'],
  'T': ['111', '010', '010', '010', '010'],
  'U': ['101', '101', '101', '101', '111'],
  'V': ['101', '101', '101', '101', '010'],
  'W': ['101', '101', '111', '111', '101'],
  'X': ['101', '101', '010', '101', '101'],
  'Y': ['101', '101', '010', '010', '010'],
  'Z': ['111', '001', '010', '100', '111'],
  '/': ['001', '001', '010', '100', '100'],
  ':': ['000', '010', '000', '010', '000'],
  '(': ['010', '100', '100', '100', '010'],
  ')': ['010', '001', '001', '001', '010'],
  '+': ['000', '010', '111', '010', '000'],
};
const SCALE = 3;
const GLYPH_W = 4 * SCALE; // 3 columns + 1 of spacing
const GLYPH_H = 5 * SCALE;
const CELL_W = 90;
const CELL_H = 50;
const LEFT = 60;
const TOP = 10;
const BOTTOM = 34;
const LEGEND_H = 16;
const LEGEND_GAP = 28;
const NO_DATA: Rgb = [205, 205, 205];

export type Rgb = [number, number, number];

/** Red (0) → yellow (0.5) → green (1), ColorBrewer RdYlGn's ends and middle. */
export function scaleColor(f: number): Rgb {
  const stops: Rgb[] = [
    [215, 48, 39],
    [254, 224, 139],
    [26, 152, 80],
  ];
  const x = Math.min(1, Math.max(0, f)) * 2;
  const i = Math.min(1, Math.floor(x));
  const t = x - i;
  return [0, 1, 2].map((c) => Math.round(stops[i][c] + t * (stops[i + 1][c] - stops[i][c]))) as Rgb;
}

export function fill(png: PNG, x0: number, y0: number, w: number, h: number, rgb: Rgb): void {
  for (let y = Math.max(0, y0); y < Math.min(png.height, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(png.width, x0 + w); x++) {
      const o = (y * png.width + x) * 4;
      png.data[o] = rgb[0];
      png.data[o + 1] = rgb[1];
      png.data[o + 2] = rgb[2];
      png.data[o + 3] = 255;
    }
  }
}

export const textWidth = (s: string) => s.length * GLYPH_W - SCALE;

/** Draws `s` centred on (cx, cy); characters without a glyph are left blank. */
export function text(png: PNG, s: string, cx: number, cy: number, rgb: Rgb = [0, 0, 0]): void {
  let x = Math.round(cx - textWidth(s) / 2);
  const y = Math.round(cy - GLYPH_H / 2);
  for (const ch of s.toUpperCase()) {
    const g = GLYPHS[ch] ?? GLYPHS[' '];
    g.forEach((row, r) => [...row].forEach((bit, c) => bit === '1' && fill(png, x + c * SCALE, y + r * SCALE, SCALE, SCALE, rgb)));
    x += GLYPH_W;
  }
}

export interface Heatmap {
  /** Column labels (depths), left to right. */
  columns: string[];
  /** Row labels (stream length in minutes), top to bottom. */
  rows: string[];
  /** values[row][column]: a fraction in [0, 1], or null where there is no data. */
  values: (number | null)[][];
}

/** The heatmap as PNG bytes: the cells, row and column labels, and a 0–100 % colour legend below. */
export function heatmapPng(h: Heatmap): Buffer {
  const width = LEFT + h.columns.length * CELL_W + 10;
  const gridBottom = TOP + h.rows.length * CELL_H;
  const height = gridBottom + BOTTOM + LEGEND_H + LEGEND_GAP;
  const png = new PNG({ width, height });
  fill(png, 0, 0, width, height, [255, 255, 255]);
  h.rows.forEach((label, r) => {
    text(png, label, LEFT / 2, TOP + r * CELL_H + CELL_H / 2);
    h.columns.forEach((_, c) => {
      const v = h.values[r]?.[c] ?? null;
      const x = LEFT + c * CELL_W;
      const y = TOP + r * CELL_H;
      fill(png, x + 1, y + 1, CELL_W - 2, CELL_H - 2, v === null ? NO_DATA : scaleColor(v));
      text(png, v === null ? '-' : `${Math.round(v * 100)}%`, x + CELL_W / 2, y + CELL_H / 2);
    });
  });
  h.columns.forEach((label, c) => text(png, label, LEFT + c * CELL_W + CELL_W / 2, gridBottom + BOTTOM / 2));
  // legend: the colour scale from 0 % (left) to 100 % (right) under the grid
  const barX = LEFT;
  const barW = h.columns.length * CELL_W;
  const barY = gridBottom + BOTTOM;
  for (let x = 0; x < barW; x++) fill(png, barX + x, barY, 1, LEGEND_H, scaleColor(x / (barW - 1)));
  text(png, '0%', barX + textWidth('0%') / 2, barY + LEGEND_H + LEGEND_GAP / 2);
  text(png, '50%', barX + barW / 2, barY + LEGEND_H + LEGEND_GAP / 2);
  text(png, '100%', barX + barW - textWidth('100%') / 2, barY + LEGEND_H + LEGEND_GAP / 2);
  return PNG.sync.write(png);
}
