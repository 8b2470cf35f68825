import { describe, expect, it } from 'vitest';
import { diffPatch, History, makePatch } from './history';
import { Painter, type PainterListener } from './painter';
import { decodeRuns, encodeRuns, uniformRuns, xorRunsInto } from './runs';

/** A small deterministic generator (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quiet: PainterListener = { onStroke() {}, onMask() {}, onHistory() {} };

describe('run coding', () => {
  it('round-trips runs, literals and mixtures, and is compact for runs', () => {
    const r = rng(1);
    const cases = [
      new Uint8Array(0),
      new Uint8Array(1000),
      new Uint8Array(1000).fill(255),
      Uint8Array.from({ length: 777 }, () => Math.floor(r() * 256)),
      Uint8Array.from({ length: 5000 }, (_, i) => (i % 700 < 350 ? 0 : i % 3 ? 255 : 17)),
    ];
    for (const src of cases) {
      expect(decodeRuns(encodeRuns(src).runs, src.length)).toEqual(src);
      expect(decodeRuns(encodeRuns(src, 255).runs, src.length)).toEqual(src.map((v) => v ^ 255));
    }
    expect(encodeRuns(new Uint8Array(12_000_000)).runs.length).toBeLessThan(8);
    expect(encodeRuns(new Uint8Array(10)).nonZero).toBe(false);
    expect(encodeRuns(new Uint8Array(10).fill(255), 255).nonZero).toBe(false);
    expect(decodeRuns(uniformRuns(255, 300), 300)).toEqual(new Uint8Array(300).fill(255));
  });

  it('xors runs into a sub-rectangle of a larger plane only', () => {
    const w = 10;
    const mask = new Uint8Array(w * 6).fill(1);
    const diff = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
    xorRunsInto(mask, w, { x0: 2, y0: 1, x1: 6, y1: 4 }, encodeRuns(diff).runs);
    for (let y = 0; y < 6; y++)
      for (let x = 0; x < w; x++) {
        const inside = x >= 2 && x < 6 && y >= 1 && y < 4;
        expect(mask[y * w + x]).toBe(inside ? 1 ^ diff[(y - 1) * 4 + (x - 2)]! : 1);
      }
  });
});

describe('History', () => {
  const step = (label: string, bytes = 10) => makePatch('test', label, [{ rect: { x0: 0, y0: 0, x1: 1, y1: 1 }, runs: new Uint8Array(bytes) }]);

  it('undoes and redoes in order, and a new step drops the redo branch', () => {
    const h = new History();
    expect(h.canUndo).toBe(false);
    h.push(step('a'));
    h.push(step('b'));
    expect(h.undoLabel).toBe('b');
    expect(h.undo()?.label).toBe('b');
    expect(h.redoLabel).toBe('b');
    expect(h.undo()?.label).toBe('a');
    expect(h.undo()).toBeUndefined();
    expect(h.redo()?.label).toBe('a');
    h.push(step('c'));
    expect(h.canRedo).toBe(false);
    expect(h.undo()?.label).toBe('c');
    expect(h.undo()?.label).toBe('a');
  });

  it('keeps within its step and byte limits by dropping the oldest steps, never the newest', () => {
    const h = new History({ maxSteps: 3, maxBytes: 10_000 });
    for (const l of ['a', 'b', 'c', 'd']) h.push(step(l));
    expect(h.steps).toBe(3);
    const big = new History({ maxSteps: 100, maxBytes: 1000 });
    big.push(step('a', 400));
    big.push(step('b', 400));
    big.push(step('c', 400));
    expect(big.steps).toBe(2);
    big.push(step('huge', 5000));
    expect(big.steps).toBe(1);
    expect(big.undoLabel).toBe('huge');
  });
});

describe('Painter history', () => {
  it('undoes every stroke, fill, clear and invert back to the start and redoes them to the end', () => {
    const [w, h] = [96, 64];
    const start = new Uint8Array(w * h);
    for (let i = 0; i < start.length; i++) start[i] = i % 97 < 20 ? 200 : 0;
    const p = new Painter(start.slice(), w, h, quiet);
    const r = rng(7);
    const states = [p.mask.slice()];
    for (let k = 0; k < 30; k++) {
      const op = Math.floor(r() * 7);
      if (op === 0) p.fillAll('mask.fill', 'Fill');
      else if (op === 1) p.clearAll('mask.clear', 'Clear');
      else if (op === 2) p.invertAll('mask.invert', 'Invert');
      else {
        const pt = () => ({ x: r() * w, y: r() * h, radius: 1 + r() * 12 });
        p.beginStroke(pt(), op === 3 ? 'erase' : 'paint', r(), 'stroke', 'Stroke');
        for (let j = 0; j < 4; j++) p.extendStroke(pt());
        p.endStroke();
      }
      if (!equal(states.at(-1)!, p.mask)) states.push(p.mask.slice());
    }
    expect(p.history.steps).toBe(states.length - 1);
    for (let k = states.length - 2; k >= 0; k--) {
      p.undo();
      expect(equal(p.mask, states[k]!)).toBe(true);
    }
    expect(p.mask).toEqual(start);
    for (let k = 1; k < states.length; k++) {
      p.redo();
      expect(equal(p.mask, states[k]!)).toBe(true);
    }
    expect(p.cov.every((v) => v === 0)).toBe(true);
  });

  it('stores a stroke as compact per-tile diffs, far smaller than the mask', () => {
    const [w, h] = [4000, 3000];
    const p = new Painter(new Uint8Array(w * h), w, h, quiet);
    p.beginStroke({ x: 100, y: 100, radius: 40 }, 'paint', 1, 'stroke', 'Stroke');
    for (let t = 0; t <= 1; t += 0.01) p.extendStroke({ x: 100 + t * 3800, y: 100 + t * 2800, radius: 40 });
    p.endStroke();
    expect(p.mask[1500 * w + 2043]).toBe(255);
    expect(p.history.bytes).toBeLessThan(w * h * 0.05);
    p.invertAll('mask.invert', 'Invert');
    p.fillAll('mask.fill', 'Fill');
    expect(p.history.bytes).toBeLessThan(w * h * 0.1);
    p.undo();
    p.undo();
    p.undo();
    expect(p.mask.every((v) => v === 0)).toBe(true);
  });

  it('commits a stroke in slices as one undo step, identical to committing it at once', () => {
    const [w, h] = [1000, 700];
    const stroke = (p: Painter) => {
      p.beginStroke({ x: 20, y: 20, radius: 30 }, 'paint', 0.5, 'stroke', 'Stroke');
      for (let t = 0; t <= 1; t += 0.05) p.extendStroke({ x: 20 + t * 960, y: 20 + t * 660, radius: 30 });
    };
    const once = new Painter(new Uint8Array(w * h), w, h, quiet);
    stroke(once);
    once.endStroke();
    const sliced = new Painter(new Uint8Array(w * h), w, h, quiet);
    stroke(sliced);
    sliced.endStroke(0);
    expect(sliced.committing).toBe(true);
    expect(sliced.history.canUndo).toBe(false);
    let slices = 1;
    while (!sliced.continueCommit(0)) slices++;
    expect(slices).toBeGreaterThan(5);
    expect(equal(sliced.mask, once.mask)).toBe(true);
    expect(sliced.history.steps).toBe(1);
    expect(sliced.version).toBe(1);
    // A new stroke, or an undo, first finishes a commit still under way.
    stroke(sliced);
    sliced.endStroke(0);
    sliced.undo();
    expect(equal(sliced.mask, once.mask)).toBe(true);
    expect(sliced.cov.every((v) => v === 0)).toBe(true);
  });

  it('records nothing for a change that changes nothing, and reports what changed', () => {
    const masks: number[] = [];
    const p = new Painter(new Uint8Array(16 * 16), 16, 16, { ...quiet, onMask: (rects) => masks.push(rects.length) });
    expect(p.clearAll('mask.clear', 'Clear')).toBe(false);
    p.beginStroke({ x: 8, y: 8, radius: 3 }, 'erase', 1, 'stroke', 'Stroke');
    p.endStroke();
    expect(p.history.canUndo).toBe(false);
    expect(p.version).toBe(0);
    expect(p.fillAll('mask.fill', 'Fill')).toBe(true);
    expect(p.version).toBe(1);
    expect(diffPatch('x', 'x', new Uint8Array(4), new Uint8Array(4), 2, 2)).toBeNull();
    expect(masks).toEqual([1, 1]);
  });
});

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
