import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('SerialQueue', () => {
  it('runs jobs one at a time in call order', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const job = (name: string, delay: number) => async () => {
      log.push(`${name} start`);
      await new Promise((r) => setTimeout(r, delay));
      log.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([q.run(job('a', 20)), q.run(job('b', 1)), q.run(job('c', 5))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  });

  it('keeps going after a failed job', async () => {
    const q = new SerialQueue();
    const failed = q.run(async () => {
      await tick();
      throw new Error('first failed');
    });
    const next = q.run(async () => 'second ran');
    await expect(failed).rejects.toThrow('first failed');
    await expect(next).resolves.toBe('second ran');
  });
});
