/**
 * Settings follow the loaded pack: when a pack other than the one the
 * settings last followed finishes loading (a switch, a conversion, the first
 * start), its recommended size, steps and guidance are applied once and the
 * panel says what changed. A reload on the same pack keeps what the user set.
 */
import { useEffect, useState } from 'react';
import { whenHydrated } from '../../state/hydration';
import { useSettingsStore } from '../../state/settings-store';
import { useLoadedPack } from '../models/pack-hooks';
import { followPack, packIdentity } from './pack-defaults';

/** Applies a newly loaded pack's recommendations; returns the note to show (null when nothing changed) and a way to dismiss it. */
export function useSettingsFollowPack(): { note: string | null; dismiss: () => void } {
  const { summary } = useLoadedPack();
  const [note, setNote] = useState<string | null>(null);
  useEffect(() => {
    if (!summary) return;
    let live = true;
    // Before the saved settings have loaded, "which pack did they follow" is not known yet.
    void whenHydrated(useSettingsStore).then(() => {
      if (!live) return;
      const identity = packIdentity(summary);
      const state = useSettingsStore.getState();
      if (state.followedPack === identity) return;
      const change = followPack(state.settings, summary.capabilities);
      state.actions.followPack(identity, change.patch);
      setNote(change.described.length ? `Settings follow ${summary.name}: ${change.described.join(', ')}.` : null);
    });
    return () => {
      live = false;
    };
  }, [summary]);
  return { note, dismiss: () => setNote(null) };
}
