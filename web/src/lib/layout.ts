// Node placement for the topology: a circle for small networks, then a
// force-directed refinement (Fruchterman-Reingold with a grid for
// repulsion, so 500 sites lay out in tens of milliseconds).

export interface Point { x: number; y: number }

/** circle places n nodes evenly on a circle of radius r around (0,0). */
export function circle(n: number, r: number): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / Math.max(1, n) - Math.PI / 2;
    out.push({ x: r * Math.cos(a), y: r * Math.sin(a) });
  }
  return out;
}

/**
 * layout places n nodes joined by edges (index pairs) in a square of side
 * about size. Up to 12 nodes stay on a circle, which reads best; larger
 * graphs start on a circle and relax for the given iterations. It is
 * deterministic: the same graph gives the same picture.
 */
export function layout(n: number, edges: [number, number][], size = 1000, iterations = 60): Point[] {
  const r = size / 2.5;
  const pos = circle(n, r);
  if (n <= 12) return pos;
  const area = size * size;
  const k = Math.sqrt(area / n);
  const cell = 2 * k;
  let temp = size / 10;
  const dx = new Float64Array(n), dy = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    dx.fill(0); dy.fill(0);
    // Repulsion between nodes in neighbouring grid cells only, the grid
    // keyed by a number so that 500 nodes lay out in tens of milliseconds.
    const grid = new Map<number, number[]>();
    const key = (gx: number, gy: number) => (gx + 32768) * 65536 + (gy + 32768);
    const cx = new Int32Array(n), cy = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      cx[i] = Math.floor(pos[i].x / cell); cy[i] = Math.floor(pos[i].y / cell);
      const kk = key(cx[i], cy[i]);
      let g = grid.get(kk);
      if (!g) grid.set(kk, (g = []));
      g.push(i);
    }
    const k2 = k * k, c2 = cell * cell;
    for (let i = 0; i < n; i++) {
      const pi = pos[i];
      for (let gx = cx[i] - 1; gx <= cx[i] + 1; gx++) for (let gy = cy[i] - 1; gy <= cy[i] + 1; gy++) {
        const g = grid.get(key(gx, gy));
        if (!g) continue;
        for (const j of g) {
          if (j === i) continue;
          let ddx = pi.x - pos[j].x, ddy = pi.y - pos[j].y;
          let d2 = ddx * ddx + ddy * ddy;
          if (d2 < 0.01) { ddx = ((i * 7919) % 13) - 6 + 0.1; ddy = ((j * 104729) % 11) - 5 + 0.1; d2 = ddx * ddx + ddy * ddy; }
          if (d2 > c2) continue;
          const f = k2 / d2;
          dx[i] += ddx * f; dy[i] += ddy * f;
        }
      }
    }
    // Attraction along edges.
    for (const [a, b] of edges) {
      const ddx = pos[a].x - pos[b].x, ddy = pos[a].y - pos[b].y;
      const d = Math.sqrt(ddx * ddx + ddy * ddy) || 0.01;
      const f = d / k;
      dx[a] -= ddx * f; dy[a] -= ddy * f;
      dx[b] += ddx * f; dy[b] += ddy * f;
    }
    // A weak pull to the centre keeps disconnected parts on screen.
    for (let i = 0; i < n; i++) {
      dx[i] -= pos[i].x * 0.01 * k / 10; dy[i] -= pos[i].y * 0.01 * k / 10;
      const d = Math.sqrt(dx[i] * dx[i] + dy[i] * dy[i]) || 1;
      const step = Math.min(d, temp);
      pos[i].x += (dx[i] / d) * step;
      pos[i].y += (dy[i] / d) * step;
    }
    temp *= 0.95;
  }
  return pos;
}

/** bounds is the smallest box holding every point. */
export function bounds(ps: Point[]): { minX: number; minY: number; maxX: number; maxY: number } {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const p of ps) {
    minX = Math.min(minX, p.x); minY = Math.min(minY, p.y);
    maxX = Math.max(maxX, p.x); maxY = Math.max(maxY, p.y);
  }
  if (!Number.isFinite(minX)) return { minX: -1, minY: -1, maxX: 1, maxY: 1 };
  return { minX, minY, maxX, maxY };
}
