/** The last finished image, large, with the seed that makes it again and whether it reached the gallery. */
import { useEffect, useRef } from 'react';
import { useGenerationStore } from '../../state/generation-store';
import { drawRgba } from './ProgressView';
import { formatDuration } from './timing';

export function ResultView() {
  const result = useGenerationStore((s) => s.result);
  const running = useGenerationStore((s) => s.running);
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (result && canvas.current) drawRgba(canvas.current, result.rgba, result.width, result.height);
  }, [result]);
  if (!result) {
    return <p className="generate-empty muted">Your image appears here. Write a prompt, then press Generate.</p>;
  }
  return (
    <figure className={`generate-result${running ? ' stale' : ''}`}>
      <canvas
        ref={canvas}
        data-testid="generate.result"
        data-seed={result.seed}
        data-gallery-id={result.galleryId ?? ''}
        role="img"
        aria-label={`Generated image, seed ${result.seed}`}
        style={{ aspectRatio: `${result.width} / ${result.height}` }}
      />
      <figcaption className="muted">
        {result.width}×{result.height} · seed {result.seed} · {formatDuration(result.ms)}
        {result.galleryId ? ' · saved to the gallery' : ' · saving…'}
      </figcaption>
    </figure>
  );
}
