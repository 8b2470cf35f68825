/** The pack load in progress: a bar with bytes, rate and time left, and Cancel (the downloaded part is kept). */
import { getEngine } from '../../engine-client/engine';
import { usePackProgressStore } from '../../state/pack-progress-store';
import { packProgressText } from './pack-progress-text';
import './packs.css';

export function PackProgress() {
  const progress = usePackProgressStore((s) => s.progress);
  const source = usePackProgressStore((s) => s.source);
  if (!progress) return null;
  const fraction = progress.kind === 'files' && progress.totalBytes > 0 ? progress.doneBytes / progress.totalBytes : null;
  return (
    <div className="pack-progress" data-testid="pack.progress" role="status">
      <p className="pack-progress-source muted">Loading {source}</p>
      <progress max={1} value={fraction ?? undefined} aria-label="Pack download" data-testid="pack.progress.bar" />
      <p className="pack-progress-text" data-testid="pack.progress.text">
        {packProgressText(progress)}
      </p>
      <button type="button" data-testid="pack.progress.cancel" title="Stop loading; what was downloaded is kept, and the studio stays on the current pack." onClick={() => void getEngine().cancelLoad()}>
        Cancel
      </button>
    </div>
  );
}
