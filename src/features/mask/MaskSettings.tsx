/**
 * The subject's mask settings (METHOD.md section 4), beside the canvas, with
 * a live preview of what the engine will make of the painted mask. They are
 * the subject's (subjects store): all of its photos share them.
 */
import { useId, useRef, type ReactNode } from 'react';
import { DEFAULT_MASK_SETTINGS, type BackgroundFill, type MaskSettings } from '../../../workers/generation-types';
import { useSettingsStore } from '../../state/settings-store';
import { useSubjectsStore, type Subject } from '../../state/subjects-store';
import type { MaskSession } from './session';
import { usePreview } from './usePreview';

const FILLS: { value: BackgroundFill; label: string }[] = [
  { value: 'black', label: 'Black' },
  { value: 'gray', label: 'Gray' },
  { value: 'blur', label: 'Blur' },
];

interface RangeProps {
  label: string;
  help: string;
  testId: string;
  min: number;
  max: number;
  step: number;
  value: number;
  text: string;
  onChange(v: number): void;
}

function RangeSetting({ label, help, testId, min, max, step, value, text, onChange }: RangeProps) {
  const id = useId();
  return (
    <div className="mask-setting" title={help}>
      <label htmlFor={id}>
        {label} <output htmlFor={id}>{text}</output>
      </label>
      <input id={id} type="range" data-testid={testId} min={min} max={max} step={step} value={value} aria-valuetext={text} onChange={(e) => onChange(Number(e.target.value))} />
    </div>
  );
}

function CheckSetting({ label, help, testId, checked, onChange, children }: { label: string; help: string; testId: string; checked: boolean; onChange(v: boolean): void; children?: ReactNode }) {
  return (
    <div className="mask-setting" title={help}>
      <label className="mask-check">
        <input type="checkbox" data-testid={testId} checked={checked} onChange={(e) => onChange(e.target.checked)} /> {label}
      </label>
      {children}
    </div>
  );
}

const px = (v: number) => `${v > 0 ? '+' : ''}${v} px`;

export function MaskSettingsPanel({ subject, session }: { subject: Subject; session: MaskSession }) {
  const { actions } = useSubjectsStore.getState();
  const genWidth = useSettingsStore((s) => s.settings.width);
  const genHeight = useSettingsStore((s) => s.settings.height);
  const canvas = useRef<HTMLCanvasElement>(null);
  const s = subject.maskSettings;
  const preview = usePreview(session, s, subject.fill, genWidth, genHeight, canvas);
  const set = (patch: Partial<MaskSettings>) => actions.update(subject.id, { maskSettings: { ...s, ...patch } });
  const fillName = useId();

  return (
    <div className="mask-settings">
      <h3>
        Mask settings <span className="muted">@{subject.name}</span>
      </h3>
      <CheckSetting
        label="Threshold"
        help="Turn the painted mask into pure subject or background: pixels at or above the threshold count fully, the rest not at all."
        testId="mask.setting.threshold-on"
        checked={s.threshold !== null}
        onChange={(on) => set({ threshold: on ? 0.5 : null })}
      >
        {s.threshold !== null && (
          <RangeSetting label="Level" help="The painted value (0 to 1) from which a pixel counts as the subject." testId="mask.setting.threshold" min={0.05} max={0.95} step={0.05} value={s.threshold} text={s.threshold.toFixed(2)} onChange={(threshold) => set({ threshold })} />
        )}
      </CheckSetting>
      <RangeSetting label="Grow / shrink" help="Widen (positive) or narrow (negative) the mask by this many pixels at the generation size, to take in or leave out the subject's edge." testId="mask.setting.grow" min={-64} max={64} step={1} value={s.growPx} text={px(s.growPx)} onChange={(growPx) => set({ growPx })} />
      <RangeSetting label="Feather" help="Soften the mask's edge with a blur of this radius (pixels at the generation size), so the subject blends into the fill." testId="mask.setting.feather" min={0} max={64} step={0.5} value={s.featherPx} text={`${s.featherPx} px`} onChange={(featherPx) => set({ featherPx })} />
      <CheckSetting label="Invert" help="Use everything except what is painted as the subject." testId="mask.setting.invert" checked={s.invert} onChange={(invert) => set({ invert })} />
      <RangeSetting label="Strength" help="How much the mask counts: 0 ignores it (the whole photo is used), 1 applies it as painted." testId="mask.setting.strength" min={0} max={1} step={0.05} value={s.strength} text={`${Math.round(s.strength * 100)}%`} onChange={(strength) => set({ strength })} />
      <div className="mask-setting" role="radiogroup" aria-label="Background fill" data-testid="mask.setting.fill" title="What replaces the background outside the mask before the photo is encoded: black (as in training), gray, or a blur of the photo.">
        <span className="mask-setting-label">Background fill</span>
        <div className="mask-fill-options">
          {FILLS.map((f) => (
            <label key={f.value}>
              <input type="radio" name={fillName} value={f.value} data-testid={`mask.setting.fill.${f.value}`} checked={subject.fill === f.value} onChange={() => actions.update(subject.id, { fill: f.value })} /> {f.label}
            </label>
          ))}
        </div>
      </div>
      <button type="button" className="mask-button with-text" data-testid="mask.setting.reset" title="Put the mask settings back to their defaults (the painted mask is unchanged)." onClick={() => actions.update(subject.id, { maskSettings: { ...DEFAULT_MASK_SETTINGS }, fill: 'black' })}>
        Reset settings
      </button>
      <figure className="mask-preview">
        <canvas
          ref={canvas}
          data-testid="mask.preview"
          data-coverage={preview ? preview.coverage.toFixed(4) : undefined}
          data-unmasked={preview?.unmasked || undefined}
          data-ms={preview ? preview.ms.toFixed(1) : undefined}
          role="img"
          aria-label={preview?.unmasked ? 'Preview: no mask painted, the whole photo is used' : `Preview of the reference as the model sees it, ${Math.round((preview?.coverage ?? 0) * 100)}% subject`}
        />
        <figcaption>
          {preview?.error ? (
            <span className="bad">{preview.error}</span>
          ) : preview?.unmasked ? (
            'Nothing painted: the whole photo is the subject.'
          ) : (
            `What the model sees at ${genWidth}×${genHeight}: ${Math.round((preview?.coverage ?? 0) * 100)}% subject.`
          )}
        </figcaption>
      </figure>
    </div>
  );
}
