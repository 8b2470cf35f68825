/** The prompt, the negative prompt and live mode. */
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { idbPersistStorage, PERSISTED } from './storage';

export interface PromptState {
  prompt: string;
  negativePrompt: string;
  /** Re-generate after a short pause when the prompt changes. */
  liveMode: boolean;
  actions: {
    setPrompt(prompt: string): void;
    setNegativePrompt(prompt: string): void;
    setLiveMode(on: boolean): void;
  };
}

export const usePromptStore = create<PromptState>()(
  persist(
    (set) => ({
      prompt: '',
      negativePrompt: '',
      liveMode: false,
      actions: {
        setPrompt: (prompt) => set({ prompt }),
        setNegativePrompt: (negativePrompt) => set({ negativePrompt }),
        setLiveMode: (liveMode) => set({ liveMode }),
      },
    }),
    {
      name: PERSISTED.prompt.key,
      storage: idbPersistStorage<Omit<PromptState, 'actions'>>('your prompt'),
      partialize: ({ prompt, negativePrompt, liveMode }) => ({ prompt, negativePrompt, liveMode }),
    },
  ),
);
