/**
 * The running generation: a progress bar over the steps, what is happening
 * in words with the time left, and the preview thumbnail. Updates arrive at
 * most once per animation frame (the runner throttles them); the preview is
 * drawn straight into a canvas, so a step costs one small render and one
 * putImageData, never a long task.
 */
import { useEffect, useRef } from 'react';
import type { GenerateProgress } from '../../engine-client/engine';
import { useGenerationStore } from '../../state/generation-store';
import { useSettingsStore } from '../../state/settings-store';
import { formatDuration, timeLeftMs } from './timing';

function describe(p: GenerateProgress | null): string {
  switch (p?.kind) {
    case undefined:
    case 'loading':
      return 'Reading your photos…';
    case 'encoding':
      return p.what === 'text' ? 'Encoding the prompt…' : `Encoding reference photos (${p.done} of ${p.total})…`;
    case 'step': {
      const left = timeLeftMs(p.step, p.steps, p.elapsedMs);
      return `Step ${p.step} of ${p.steps}${left === null || p.step === p.steps ? '' : ` · about ${formatDuration(left)} left`}`;
    }
    case 'decoding':
      return 'Decoding the image…';
    case 'done':
      return 'Done';
    case 'cancelled':
      return 'Cancelled';
    case 'error':
      return 'Failed';
  }
}

/** Draws RGBA pixels into the canvas, resizing it to the image. */
export function drawRgba(canvas: HTMLCanvasElement, rgba: Uint8ClampedArray, width: number, height: number): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.getContext('2d')?.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
}

function Preview({ progress }: { progress: GenerateProgress | null }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const preview = progress?.kind === 'step' ? progress.preview : null;
  useEffect(() => {
    if (preview && canvas.current) drawRgba(canvas.current, preview.rgba, preview.width, preview.height);
  }, [preview]);
  return (
    <canvas
      ref={canvas}
      className="generate-preview"
      data-testid="generate.preview"
      data-step={progress?.kind === 'step' && preview ? progress.step : 0}
      width={1}
      height={1}
      role="img"
      aria-label="Preview of the image being generated"
    />
  );
}

export function ProgressView() {
  const running = useGenerationStore((s) => s.running);
  const progress = useGenerationStore((s) => s.progress);
  const plannedSteps = useSettingsStore((s) => s.settings.steps);
  if (!running) return null;
  const steps = progress?.kind === 'step' ? progress.steps : plannedSteps;
  const step = progress?.kind === 'step' ? progress.step : progress?.kind === 'decoding' || progress?.kind === 'done' ? steps : 0;
  return (
    <div className="generate-progress">
      <Preview progress={progress} />
      <div className="generate-progress-text">
        <div
          className="generate-bar"
          role="progressbar"
          aria-label="Generation progress"
          aria-valuemin={0}
          aria-valuemax={steps}
          aria-valuenow={step}
          data-testid="generate.progress"
        >
          <div className="generate-bar-fill" style={{ transform: `scaleX(${steps > 0 ? step / steps : 0})` }} />
        </div>
        <span data-testid="generate.step" aria-live="polite">
          {describe(progress)}
        </span>
      </div>
    </div>
  );
}
