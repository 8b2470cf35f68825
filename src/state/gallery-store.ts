/** Every generated image with the full request that made it. The PNG itself is a blob (storage.ts). */
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { Subject } from './subjects-store';
import type { StudioSettings } from './settings-store';
import { idbPersistStorage, PERSISTED } from './storage';

/** Everything needed to make the image again: embedded in the PNG and restored by "reuse". */
export interface GalleryRequest {
  version: 1;
  prompt: string;
  negativePrompt: string;
  /** Subjects as they were (photos and masks by blob id). */
  subjects: Subject[];
  settings: StudioSettings;
  /** The seed actually used (differs from settings.seed when the seed is random). */
  seed: number;
  pack: { name: string; version: string };
}

export interface GalleryEntry {
  id: string;
  createdAt: number;
  /** Blob id of the PNG (request embedded in its text chunk). */
  pngId: string;
  width: number;
  height: number;
  request: GalleryRequest;
  /** Wall time of the generation. */
  ms: number;
}

export interface GalleryState {
  entries: GalleryEntry[];
  actions: {
    add(entry: GalleryEntry): void;
    /** Removes an entry; returns it and its position (for undo), or null. */
    remove(id: string): { entry: GalleryEntry; index: number } | null;
    /** Puts a removed entry back where it was (undo of remove). */
    restore(entry: GalleryEntry, index: number): void;
  };
}

export const useGalleryStore = create<GalleryState>()(
  persist(
    (set, get) => ({
      entries: [],
      actions: {
        add: (entry) => set({ entries: [entry, ...get().entries] }),
        remove(id) {
          const entries = get().entries;
          const index = entries.findIndex((e) => e.id === id);
          if (index < 0) return null;
          set({ entries: entries.filter((e) => e.id !== id) });
          return { entry: entries[index]!, index };
        },
        restore(entry, index) {
          const entries = get().entries.filter((e) => e.id !== entry.id);
          entries.splice(Math.max(0, Math.min(index, entries.length)), 0, entry);
          set({ entries });
        },
      },
    }),
    {
      name: PERSISTED.gallery.key,
      storage: idbPersistStorage<Pick<GalleryState, 'entries'>>('your gallery'),
      partialize: ({ entries }) => ({ entries }),
    },
  ),
);
