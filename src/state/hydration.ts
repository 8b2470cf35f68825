/**
 * Waiting for zustand persist stores to load their saved state. Anything that
 * reads a persisted store to decide what to delete (blob garbage collection)
 * or appends to it (imports) must wait, or it acts on the empty initial state.
 */

/** The part of a persist store's API this needs (every `useXStore` made with `persist`). */
export interface PersistedStore {
  persist: {
    hasHydrated(): boolean;
    onFinishHydration(listener: () => void): () => void;
  };
}

/**
 * Resolves once the store has loaded its saved state. Never resolves when
 * loading failed: zustand then leaves hasHydrated() false, and a caller
 * deciding what to delete must not go ahead on a store that could not load.
 */
export function whenHydrated(store: PersistedStore): Promise<void> {
  if (store.persist.hasHydrated()) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = store.persist.onFinishHydration(() => {
      stop();
      resolve();
    });
    // Hydration may have finished between the check and the subscription.
    if (store.persist.hasHydrated()) {
      stop();
      resolve();
    }
  });
}

export function whenAllHydrated(stores: readonly PersistedStore[]): Promise<void> {
  return Promise.all(stores.map(whenHydrated)).then(() => undefined);
}
