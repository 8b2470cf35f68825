/** Basics, guidance and reference settings: the generation-wide knobs of METHOD.md sections 2, 3 and 7. */
import type { PackCapabilities } from '../../engine-client/engine';
import { SETTING_LIMITS, useSettingsStore, type StudioSettings } from '../../state/settings-store';
import { CheckField, Group, HelpButton, NumberField, SelectField } from './fields';

type Size = { width: number; height: number };

/** A die (an SVG: emoji fonts are missing on many Linux desktops). */
function DiceIcon() {
  return (
    <svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true" focusable="false">
      <rect x="1.5" y="1.5" width="15" height="15" rx="3.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
      {[[5.5, 5.5], [12.5, 5.5], [9, 9], [5.5, 12.5], [12.5, 12.5]].map(([cx, cy]) => (
        <circle key={`${cx},${cy}`} cx={cx} cy={cy} r="1.4" fill="currentColor" />
      ))}
    </svg>
  );
}
const sizeKey = (s: Size) => `${s.width}x${s.height}`;

/** The pack's sizes (none until a pack is loaded), plus the current one if the pack lacks it. */
function sizeOptions(current: Size, caps: PackCapabilities | undefined) {
  const dflt = caps?.defaultResolution;
  const options = (caps?.resolutions ?? []).map((s) => ({ value: sizeKey(s), label: `${s.width} × ${s.height}${dflt && sizeKey(dflt) === sizeKey(s) ? ' · default' : ''}` }));
  const supported = options.some((o) => o.value === sizeKey(current));
  if (!supported) options.unshift({ value: sizeKey(current), label: `${current.width} × ${current.height}${caps ? ' (not in this pack)' : ''}` });
  return { options, supported: supported || !caps };
}

export function BasicsGroup({ settings, caps }: { settings: StudioSettings; caps: PackCapabilities | undefined }) {
  const { actions } = useSettingsStore.getState();
  const sizes = sizeOptions(settings, caps);
  return (
    <Group title="Basics" testId="settings.basics">
      <NumberField
        label="Seed"
        help="The starting noise: the same seed, prompt and settings give the same image."
        testId="settings.seed"
        value={settings.seed}
        limit={SETTING_LIMITS.seed}
        onChange={(v) => actions.set('seed', v)}
        suffix={
          <HelpButton className="icon-button" testId="settings.dice" label="Roll a new seed" help="Pick a new random seed now." onClick={() => actions.rollSeed()}>
            <DiceIcon />
          </HelpButton>
        }
      />
      <CheckField
        label="New random seed each time"
        help="Draw a fresh seed for every generation instead of reusing the one above."
        testId="settings.seed-random"
        checked={settings.randomSeed}
        onChange={(v) => actions.set('randomSeed', v)}
      />
      <NumberField
        label="Steps"
        help="Sampling steps: more steps refine the image further and take proportionally longer."
        testId="settings.steps"
        value={settings.steps}
        limit={SETTING_LIMITS.steps}
        onChange={(v) => actions.set('steps', v)}
      />
      <SelectField
        label="Size"
        help="Width × height of the image, in pixels; a pack only generates at the sizes it lists."
        testId="settings.size"
        value={sizeKey(settings)}
        options={sizes.options}
        onChange={(v) => {
          const [width, height] = v.split('x').map(Number);
          actions.patch({ width, height });
        }}
      />
      {!sizes.supported && (
        <p className="field-warning" role="status" data-testid="settings.size-warning">
          This pack cannot generate at {settings.width} × {settings.height}: pick one of its sizes.
        </p>
      )}
    </Group>
  );
}

export function GuidanceGroup({ settings }: { settings: StudioSettings }) {
  const { actions } = useSettingsStore.getState();
  return (
    <Group title="Guidance" testId="settings.guidance">
      <NumberField
        label="Text guidance"
        help="How strongly the image follows the prompt (the classifier-free guidance scale); 1 adds no extra push."
        testId="settings.text-guidance"
        value={settings.textGuidance}
        limit={SETTING_LIMITS.textGuidance}
        onChange={(v) => actions.set('textGuidance', v)}
        slider
      />
      <NumberField
        label="Reference guidance"
        help="How strongly the image follows the subjects' photos, steered apart from the text; 0 ignores the photos."
        testId="settings.ref-guidance"
        value={settings.refGuidance}
        limit={SETTING_LIMITS.refGuidance}
        onChange={(v) => actions.set('refGuidance', v)}
        slider
      />
    </Group>
  );
}

const SCHEDULES = [
  { value: 'random', label: 'Random (seeded)' },
  { value: 'early', label: 'Early steps' },
  { value: 'late', label: 'Late steps' },
] as const;

const MODE_LABELS = { cached: 'Cached (fast)', full: 'Full (quality)' } as const;

/** The reference modes, each saying whether the loaded pack computes it exactly or approximates it (where the pack says). */
function modeOptions(caps: PackCapabilities | undefined) {
  const modes = caps?.referenceModes ?? (['cached', 'full'] as const).map((mode) => ({ mode, exact: null }));
  return modes.map(({ mode, exact }) => ({ value: mode, label: `${MODE_LABELS[mode]}${exact === null ? '' : exact ? ' · exact' : ' · approximate'}` }));
}

export function ReferenceGroup({ settings, caps }: { settings: StudioSettings; caps: PackCapabilities | undefined }) {
  const { actions } = useSettingsStore.getState();
  return (
    <Group title="Reference" testId="settings.reference">
      <NumberField
        label="Drop ratio"
        help="Fraction of the steps that ignore the subjects' photos: higher follows the prompt more, lower keeps the subject closer."
        testId="settings.drop-ratio"
        value={settings.dropRatio}
        limit={SETTING_LIMITS.dropRatio}
        onChange={(v) => actions.set('dropRatio', v)}
        slider
      />
      <SelectField
        label="Drop on"
        help="Which steps drop the photos: a random choice fixed by the seed, the first steps (layout free) or the last ones (details free)."
        testId="settings.drop-schedule"
        value={settings.dropSchedule}
        options={SCHEDULES}
        onChange={(v) => actions.set('dropSchedule', v)}
      />
      <SelectField
        label="Reference mode"
        help="Cached computes the photos' features once and reuses them across steps and prompt edits; full recomputes them every step."
        testId="settings.ref-mode"
        value={settings.refMode}
        options={modeOptions(caps)}
        onChange={(v) => actions.set('refMode', v)}
      />
    </Group>
  );
}
