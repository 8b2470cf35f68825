import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, sanitizeSettings, SETTING_LIMITS, useSettingsStore } from '../../state/settings-store';
import { clampToLimit, cutoffLimit, isCommittable, layerLimit, moveWindow, parseNumberInput } from './limits';

describe('number inputs', () => {
  const steps = SETTING_LIMITS.steps;

  it('clamps into range and rounds integer settings', () => {
    expect(parseNumberInput('500', steps)).toBe(100);
    expect(parseNumberInput('0', steps)).toBe(1);
    expect(parseNumberInput(' 7.6 ', steps)).toBe(8);
    expect(parseNumberInput('0.35', SETTING_LIMITS.dropRatio)).toBe(0.35);
    expect(parseNumberInput('-2', SETTING_LIMITS.dropRatio)).toBe(0);
  });

  it('never yields NaN', () => {
    for (const bad of ['', '  ', 'abc', '1e400', '-', 'NaN', 'Infinity']) expect(parseNumberInput(bad, steps)).toBeNull();
    expect(clampToLimit(Number.NaN, steps)).toBeNull();
  });

  it('stores while typing only what needs no clamping', () => {
    expect(isCommittable('12', steps)).toBe(true);
    expect(isCommittable('150', steps)).toBe(false);
    expect(isCommittable('1.5', steps)).toBe(false);
    expect(isCommittable('', steps)).toBe(false);
    expect(isCommittable('0.5', SETTING_LIMITS.dropRatio)).toBe(true);
  });

  it('derives the layer and cutoff ranges from the pack and size', () => {
    expect(layerLimit(2)).toMatchObject({ min: 0, max: 1, integer: true });
    expect(layerLimit(undefined).max).toBe(63);
    expect(cutoffLimit(128, 64).max).toBe(64);
  });
});

describe('moveWindow', () => {
  it('keeps start <= end by moving the other end', () => {
    expect(moveWindow([0.2, 0.6], 0, 0.8)).toEqual([0.8, 0.8]);
    expect(moveWindow([0.2, 0.6], 1, 0.1)).toEqual([0.1, 0.1]);
    expect(moveWindow([0.2, 0.6], 1, 0.9)).toEqual([0.2, 0.9]);
    expect(moveWindow([0.2, 0.6], 0, 7)).toEqual([1, 1]);
    expect(moveWindow([0.2, 0.6], 0, Number.NaN)).toEqual([0.2, 0.6]);
  });
});

describe('settings store', () => {
  it('sanitizes every write: no NaN, values clamped, unknown enums dropped', () => {
    const { actions } = useSettingsStore.getState();
    actions.reset();
    actions.set('steps', Number.NaN);
    actions.set('textGuidance', 99);
    actions.patch({ dropRatio: -1, dropSchedule: 'sometimes' as never, seed: 2 ** 40 });
    const s = useSettingsStore.getState().settings;
    expect(s.steps).toBe(DEFAULT_SETTINGS.steps);
    expect(s.textGuidance).toBe(20);
    expect(s.dropRatio).toBe(0);
    expect(s.dropSchedule).toBe(DEFAULT_SETTINGS.dropSchedule);
    expect(s.seed).toBe(SETTING_LIMITS.seed.max);
  });

  it('saves, loads and deletes presets by trimmed name', () => {
    const { actions } = useSettingsStore.getState();
    actions.reset();
    actions.set('steps', 20);
    actions.savePreset('  fast ');
    actions.savePreset('   ');
    expect(useSettingsStore.getState().presets.map((p) => p.name)).toEqual(['fast']);
    actions.reset();
    expect(actions.loadPreset('fast')).toBe(true);
    expect(useSettingsStore.getState().settings.steps).toBe(20);
    actions.deletePreset('fast');
    expect(actions.loadPreset('fast')).toBe(false);
  });

  it('reads old saved settings with defaults for what they lack', () => {
    expect(sanitizeSettings({ steps: 12, width: 'big', refMode: 'full', randomSeed: 1 })).toEqual({ steps: 12, refMode: 'full' });
  });
});
