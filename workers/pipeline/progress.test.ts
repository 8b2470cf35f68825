import { describe, expect, it } from 'vitest';
import { progressProblems, type GenerateProgress } from './progress';

const step = (n: number, of = 3): GenerateProgress => ({ kind: 'step', step: n, steps: of, elapsedMs: n, preview: null });
const good: GenerateProgress[] = [
  { kind: 'encoding', what: 'text', done: 0, total: 2 },
  { kind: 'encoding', what: 'text', done: 2, total: 2 },
  step(1),
  step(2),
  step(3),
  { kind: 'decoding' },
  { kind: 'done', elapsedMs: 10 },
];

describe('progress invariants', () => {
  it('accept a complete run and a cancelled one', () => {
    expect(progressProblems(good)).toEqual([]);
    expect(progressProblems([...good.slice(0, 3), { kind: 'cancelled', atStep: 1 }])).toEqual([]);
    expect(progressProblems([{ kind: 'error', message: 'bad size' }])).toEqual([]);
  });

  it('catch every broken sequence', () => {
    expect(progressProblems(good.slice(0, -1))).toContain('no terminal event');
    expect(progressProblems([step(1), step(3), { kind: 'decoding' }, { kind: 'done', elapsedMs: 1 }])).toContain('step 3 follows step 1');
    expect(progressProblems([step(1), step(1)]).join()).toMatch(/step 1 follows step 1/);
    expect(progressProblems([step(1), step(2), { kind: 'done', elapsedMs: 1 }])).toEqual(expect.arrayContaining(['done without decoding', 'done after 2 of 3 steps']));
    expect(progressProblems([...good, { kind: 'done', elapsedMs: 1 }]).join()).toMatch(/terminal event done at 6 is not last/);
    expect(progressProblems([step(1), { kind: 'encoding', what: 'text', done: 0, total: 1 }, { kind: 'error', message: 'x' }])).toContain('encoding after the first step');
    expect(progressProblems([step(4, 3), { kind: 'error', message: 'x' }]).join()).toMatch(/step 4 of 3|step 4 follows step 0/);
  });
});
