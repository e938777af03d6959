/**
 * The needle task's shapes and colours. A shape is a set of points in its box's unit square
 * (u, v in [−1, 1], v pointing down); the renderer fills the pixels whose centres fall inside.
 */

export const COMMON_SHAPES = ['circle', 'square', 'triangle', 'diamond'] as const;
export const RARE_SHAPES = ['star', 'heart', 'cross', 'arrow'] as const;
export type CommonShape = (typeof COMMON_SHAPES)[number];
export type RareShape = (typeof RARE_SHAPES)[number];
export type Shape = CommonShape | RareShape;

/** The eight colours, each one fixed RGB, in this order (the order the renderer indexes). */
export const COLORS = {
  red: [220, 40, 40],
  green: [40, 170, 60],
  blue: [50, 90, 230],
  yellow: [240, 210, 40],
  white: [235, 235, 235],
  purple: [150, 60, 200],
  orange: [250, 140, 30],
  cyan: [40, 200, 210],
} as const satisfies Record<string, readonly [number, number, number]>;
export type ColorName = keyof typeof COLORS;
export const COLOR_NAMES = Object.keys(COLORS) as ColorName[];

/** A five-pointed star, point up: outer radius 1, inner 0.42. */
const STAR: [number, number][] = Array.from({ length: 10 }, (_, k) => {
  const angle = -Math.PI / 2 + (k * Math.PI) / 5;
  const r = k % 2 === 0 ? 1 : 0.42;
  return [r * Math.cos(angle), r * Math.sin(angle)];
});

/** Even–odd crossing test. */
function insidePolygon(u: number, v: number, poly: readonly [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [ui, vi] = poly[i];
    const [uj, vj] = poly[j];
    if (vi > v !== vj > v && u < ((uj - ui) * (v - vi)) / (vj - vi) + ui) inside = !inside;
  }
  return inside;
}

/** Whether (u, v) of the shape's unit box is inside the shape. */
export function insideShape(shape: Shape, u: number, v: number): boolean {
  switch (shape) {
    case 'circle':
      return u * u + v * v <= 1;
    case 'square':
      return Math.abs(u) <= 0.85 && Math.abs(v) <= 0.85;
    case 'triangle': // apex up, base along the bottom of the box
      return v <= 1 && Math.abs(u) <= (v + 1) / 2;
    case 'diamond':
      return Math.abs(u) + Math.abs(v) <= 1;
    case 'star':
      return insidePolygon(u, v, STAR);
    case 'heart': {
      // (x² + y² − 1)³ − x²y³ ≤ 0, lobes up
      const x = 1.2 * u;
      const y = 0.1 - 1.2 * v;
      const a = x * x + y * y - 1;
      return a * a * a - x * x * y * y * y <= 0;
    }
    case 'cross': // a plus sign
      return (Math.abs(u) <= 0.28 && Math.abs(v) <= 1) || (Math.abs(v) <= 0.28 && Math.abs(u) <= 1);
    case 'arrow': // pointing right: a shaft, then a triangular head
      if (u >= -1 && u <= 0.1) return Math.abs(v) <= 0.22;
      return u > 0.1 && u <= 1 && Math.abs(v) <= (0.75 * (1 - u)) / 0.9;
  }
}
