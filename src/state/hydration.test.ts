import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { create } from 'zustand';
import { persist, type PersistStorage } from 'zustand/middleware';
import { whenAllHydrated } from './hydration';

/** A persist store whose saved state arrives when `release` is called (or never, when loading fails). */
function slowStore(fail = false) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const storage: PersistStorage<{ ids: string[] }> = {
    getItem: async () => {
      await gate;
      if (fail) throw new Error('disk error');
      return { state: { ids: ['saved'] }, version: 0 };
    },
    setItem: async () => undefined,
    removeItem: async () => undefined,
  };
  const store = create<{ ids: string[] }>()(persist(() => ({ ids: [] as string[] }), { name: 'x', storage }));
  return { store, release };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('whenAllHydrated', () => {
  it('waits until every store has loaded its saved state', async () => {
    const a = slowStore();
    const b = slowStore();
    let done = false;
    void whenAllHydrated([a.store, b.store]).then(() => (done = true));
    a.release();
    await tick();
    expect(done).toBe(false);
    b.release();
    await tick();
    expect(done).toBe(true);
    expect(b.store.getState().ids).toEqual(['saved']);
  });

  it('never resolves for a store that failed to load, so nothing is deleted on an empty-looking state', async () => {
    const a = slowStore(true);
    let done = false;
    void whenAllHydrated([a.store]).then(() => (done = true));
    a.release();
    await tick();
    expect(done).toBe(false);
  });

  it('resolves at once for stores already loaded', async () => {
    const a = slowStore();
    a.release();
    await tick();
    await expect(whenAllHydrated([a.store])).resolves.toBeUndefined();
  });
});
