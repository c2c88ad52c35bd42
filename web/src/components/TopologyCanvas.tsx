import { useEffect, useRef } from 'preact/hooks';
import type { Path, Site } from '../api/types';
import { bounds, layout, type Point } from '../lib/layout';
import { pairs, type Pair } from '../lib/paths';
import { ms, pct } from '../lib/format';
import { cssVar, theme } from '../lib/theme';
import { navigate } from '../lib/router';

/** DrawStats are kept for the benchmark: how long each redraw took. */
export interface DrawStats { draws: number[]; updates: number; layoutMs: number }

declare global {
  interface Window { __patronusTopology?: { apply: (p: Path) => void; stats: DrawStats } }
}

/**
 * TopologyCanvas draws sites as nodes and site pairs as edges on a canvas,
 * which stays fast at 500 sites and thousands of paths. Paths are held in
 * a map that live updates change in place; a redraw happens at most once
 * per animation frame, only when something changed.
 */
export function TopologyCanvas({ sites, paths, onUpdate }: {
  sites: Site[]; paths: Map<string, Path>; onUpdate: (apply: (p: Path) => void) => () => void;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const state = useRef({
    pos: new Map<string, Point>(), pairs: new Map<string, Pair>(), scale: 1, ox: 0, oy: 0,
    dirty: true, pairsDirty: true, frame: 0, hover: '' as string,
    stats: { draws: [] as number[], updates: 0, layoutMs: 0 } as DrawStats,
  });

  // Lay out when the set of sites changes.
  useEffect(() => {
    const st = state.current;
    const idx = new Map(sites.map((s, i) => [s.id, i]));
    const edges: [number, number][] = [];
    const seen = new Set<string>();
    for (const p of paths.values()) {
      const a = idx.get(p.srcSite?.id ?? ''), b = idx.get(p.dstSite?.id ?? '');
      if (a === undefined || b === undefined || a === b) continue;
      const k = a < b ? `${a},${b}` : `${b},${a}`;
      if (!seen.has(k)) { seen.add(k); edges.push([a, b]); }
    }
    const l0 = performance.now();
    const pts = layout(sites.length, edges, Math.max(600, Math.sqrt(sites.length) * 160), sites.length > 200 ? 40 : 80);
    st.stats.layoutMs = performance.now() - l0;
    st.pos = new Map(sites.map((s, i) => [s.id, pts[i]]));
    fit();
    st.pairsDirty = true;
    schedule();
  }, [sites.map((s) => s.id).join(',')]);

  useEffect(() => {
    const st = state.current;
    const apply = (p: Path) => {
      const cur = paths.get(p.id);
      paths.set(p.id, cur ? { ...cur, ...p, metrics: p.metrics ?? cur.metrics } : p);
      st.stats.updates++;
      st.pairsDirty = true;
      schedule();
    };
    window.__patronusTopology = { apply, stats: st.stats };
    const stop = onUpdate(apply);
    const unTheme = theme.subscribe(() => { st.dirty = true; schedule(); });
    const ro = new ResizeObserver(() => { resize(); schedule(); });
    if (canvas.current) ro.observe(canvas.current);
    return () => { stop(); unTheme(); ro.disconnect(); cancelAnimationFrame(st.frame); delete window.__patronusTopology; };
  }, [paths]);

  function resize() {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(c.clientWidth * dpr);
    c.height = Math.round(c.clientHeight * dpr);
    state.current.dirty = true;
  }

  function fit() {
    const c = canvas.current, st = state.current;
    if (!c) return;
    const b = bounds([...st.pos.values()]);
    const w = c.clientWidth || 800, h = c.clientHeight || 600;
    const pad = 60;
    st.scale = Math.min((w - 2 * pad) / Math.max(1, b.maxX - b.minX), (h - 2 * pad) / Math.max(1, b.maxY - b.minY), 2);
    st.ox = w / 2 - ((b.minX + b.maxX) / 2) * st.scale;
    st.oy = h / 2 - ((b.minY + b.maxY) / 2) * st.scale;
    st.dirty = true;
  }

  function schedule() {
    const st = state.current;
    st.dirty = true;
    if (st.frame) return;
    st.frame = requestAnimationFrame(() => { st.frame = 0; draw(); });
  }

  function draw() {
    const c = canvas.current, st = state.current;
    if (!c || !st.dirty) return;
    const t0 = performance.now();
    if (c.width === 0) resize();
    if (st.pairsDirty) { st.pairs = pairs(paths.values()); st.pairsDirty = false; }
    const ctx = c.getContext('2d')!;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, c.width, c.height);
    const colour = { UP: cssVar('--up'), DEGRADED: cssVar('--degraded'), DOWN: cssVar('--down') };
    const fg = cssVar('--fg'), panel = cssVar('--panel'), muted = cssVar('--muted');
    const n = st.pos.size;
    const X = (p: Point) => p.x * st.scale + st.ox, Y = (p: Point) => p.y * st.scale + st.oy;
    // Edges, grouped by colour so each colour is one stroke.
    for (const status of ['UP', 'DEGRADED', 'DOWN'] as const) {
      ctx.beginPath();
      ctx.strokeStyle = colour[status];
      ctx.lineWidth = status === 'UP' ? (n > 100 ? 0.6 : 1.5) : (n > 100 ? 1.5 : 2.5);
      for (const pr of st.pairs.values()) {
        if (pr.status !== status) continue;
        const a = st.pos.get(pr.a), b = st.pos.get(pr.b);
        if (!a || !b) continue;
        ctx.moveTo(X(a), Y(a)); ctx.lineTo(X(b), Y(b));
      }
      ctx.stroke();
    }
    // Labels and names when few enough nodes are on screen to read them.
    let visible = 0;
    for (const p of st.pos.values()) {
      const x = X(p), y = Y(p);
      if (x >= 0 && y >= 0 && x <= c.clientWidth && y <= c.clientHeight) visible++;
    }
    const labels = visible <= 40;
    if (labels) {
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      for (const pr of st.pairs.values()) {
        const a = st.pos.get(pr.a), b = st.pos.get(pr.b);
        if (!a || !b || !pr.best.metrics) continue;
        const x = (X(a) + X(b)) / 2, y = (Y(a) + Y(b)) / 2;
        if (x < -50 || y < -20 || x > c.clientWidth + 50 || y > c.clientHeight + 20) continue;
        const text = `${ms(pr.best.metrics.latency_ms)} · ${pct(pr.best.metrics.packet_loss_pct)}`;
        const w = ctx.measureText(text).width + 6;
        ctx.fillStyle = panel; ctx.fillRect(x - w / 2, y - 7, w, 14);
        ctx.fillStyle = pr.status === 'UP' ? muted : colour[pr.status]; ctx.fillText(text, x, y);
      }
    }
    // Nodes.
    const r = n > 200 ? 3.5 : n > 50 ? 5 : 9;
    ctx.fillStyle = fg;
    ctx.beginPath();
    for (const p of st.pos.values()) { ctx.moveTo(X(p) + r, Y(p)); ctx.arc(X(p), Y(p), r, 0, 2 * Math.PI); }
    ctx.fill();
    const names = visible <= 80;
    if (names || st.hover) {
      ctx.font = '600 12px system-ui, sans-serif';
      ctx.textAlign = 'center'; ctx.textBaseline = 'top';
      for (const s of sites) {
        if (!names && s.id !== st.hover) continue;
        const p = st.pos.get(s.id);
        if (!p) continue;
        ctx.fillStyle = panel; const w = ctx.measureText(s.name).width + 6;
        ctx.fillRect(X(p) - w / 2, Y(p) + r + 2, w, 15);
        ctx.fillStyle = fg; ctx.fillText(s.name, X(p), Y(p) + r + 3);
      }
    }
    st.dirty = false;
    const dt = performance.now() - t0;
    st.stats.draws.push(dt);
    if (st.stats.draws.length > 5000) st.stats.draws.splice(0, 1000);
  }

  function nodeAt(mx: number, my: number): string {
    const st = state.current;
    let best = '', bd = 14 * 14;
    for (const [id, p] of st.pos) {
      const dx = p.x * st.scale + st.ox - mx, dy = p.y * st.scale + st.oy - my;
      const d = dx * dx + dy * dy;
      if (d < bd) { bd = d; best = id; }
    }
    return best;
  }

  // Pan, zoom and pick.
  const drag = useRef<{ x: number; y: number; moved: boolean } | null>(null);
  const zoom = (f: number, cx?: number, cy?: number) => {
    const st = state.current, c = canvas.current!;
    const x = cx ?? c.clientWidth / 2, y = cy ?? c.clientHeight / 2;
    st.ox = x - (x - st.ox) * f; st.oy = y - (y - st.oy) * f; st.scale *= f;
    schedule();
  };
  const pan = (dx: number, dy: number) => { state.current.ox += dx; state.current.oy += dy; schedule(); };
  return (
    <>
      <canvas
        ref={canvas}
        tabIndex={0}
        role="img"
        aria-label={`Topology of ${sites.length} sites; arrow keys pan, plus and minus zoom, 0 fits`}
        data-testid="topology-canvas"
        data-nodes={sites.length}
        onWheel={(e) => { e.preventDefault(); const b = canvas.current!.getBoundingClientRect(); zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - b.left, e.clientY - b.top); }}
        onPointerDown={(e) => { drag.current = { x: e.clientX, y: e.clientY, moved: false }; (e.target as Element).setPointerCapture(e.pointerId); }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (d) {
            if (Math.abs(e.clientX - d.x) + Math.abs(e.clientY - d.y) > 3) d.moved = true;
            if (d.moved) { pan(e.clientX - d.x, e.clientY - d.y); d.x = e.clientX; d.y = e.clientY; }
            return;
          }
          const b = canvas.current!.getBoundingClientRect();
          const id = nodeAt(e.clientX - b.left, e.clientY - b.top);
          if (id !== state.current.hover) { state.current.hover = id; canvas.current!.style.cursor = id ? 'pointer' : 'grab'; schedule(); }
        }}
        onPointerUp={(e) => {
          const d = drag.current; drag.current = null;
          if (d && !d.moved) {
            const b = canvas.current!.getBoundingClientRect();
            const id = nodeAt(e.clientX - b.left, e.clientY - b.top);
            if (id) navigate(`/sites/${id}`);
          }
        }}
        onKeyDown={(e) => {
          const k = e.key;
          if (k === '+' || k === '=') zoom(1.2);
          else if (k === '-') zoom(1 / 1.2);
          else if (k === '0') { fit(); schedule(); }
          else if (k === 'ArrowLeft') pan(40, 0);
          else if (k === 'ArrowRight') pan(-40, 0);
          else if (k === 'ArrowUp') pan(0, 40);
          else if (k === 'ArrowDown') pan(0, -40);
          else return;
          e.preventDefault();
        }}
      />
      <div class="tools">
        <button type="button" onClick={() => zoom(1.25)} aria-label="Zoom in">+</button>
        <button type="button" onClick={() => zoom(0.8)} aria-label="Zoom out">−</button>
        <button type="button" onClick={() => { fit(); schedule(); }}>Fit</button>
      </div>
    </>
  );
}
