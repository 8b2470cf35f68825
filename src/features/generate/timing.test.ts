import { describe, expect, it } from 'vitest';
import { formatDuration, frameThrottle, timeLeftMs } from './timing';

describe('timeLeftMs', () => {
  it('extrapolates the time per step so far', () => {
    expect(timeLeftMs(2, 8, 3000)).toBe(9000);
    expect(timeLeftMs(8, 8, 12000)).toBe(0);
  });
  it('knows nothing before the first step or from nonsense', () => {
    expect(timeLeftMs(0, 8, 0)).toBeNull();
    expect(timeLeftMs(9, 8, 100)).toBeNull();
    expect(timeLeftMs(1, 8, NaN)).toBeNull();
  });
});

describe('formatDuration', () => {
  it('reads like a person would say it', () => {
    expect(formatDuration(200)).toBe('less than a second');
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(120_000)).toBe('2 min');
  });
});

describe('frameThrottle', () => {
  function fakeFrames() {
    const queue = new Map<number, () => void>();
    let next = 1;
    return {
      schedule: (cb: () => void) => (queue.set(next, cb), next++),
      unschedule: (h: number) => void queue.delete(h),
      tick() {
        const cbs = [...queue.values()];
        queue.clear();
        cbs.forEach((cb) => cb());
      },
      get size() {
        return queue.size;
      },
    };
  }

  it('applies only the latest value once per frame', () => {
    const frames = fakeFrames();
    const seen: number[] = [];
    const t = frameThrottle<number>((v) => seen.push(v), frames.schedule, frames.unschedule);
    t.push(1);
    t.push(2);
    t.push(3);
    expect(frames.size).toBe(1);
    frames.tick();
    expect(seen).toEqual([3]);
    frames.tick();
    expect(seen).toEqual([3]);
  });

  it('flushes a pending value at once and cancels one', () => {
    const frames = fakeFrames();
    const seen: number[] = [];
    const t = frameThrottle<number>((v) => seen.push(v), frames.schedule, frames.unschedule);
    t.push(1);
    t.flush();
    expect(seen).toEqual([1]);
    expect(frames.size).toBe(0);
    t.push(2);
    t.cancel();
    frames.tick();
    expect(seen).toEqual([1]);
  });
});
