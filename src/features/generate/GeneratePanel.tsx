/**
 * Generate / Cancel, the run's progress with a live preview, the result, and
 * what went wrong (including an engine restart). The run itself belongs to
 * the runner (runner.ts); this panel only shows the generation store.
 */
import { useGenerationStore } from '../../state/generation-store';
import { ProgressView } from './ProgressView';
import { RecoveryMessage } from './RecoveryMessage';
import { ResultView } from './ResultView';
import { cancelRun } from './runner';
import { useGenerationRunner } from './useGenerationRunner';
import './generate.css';

function Messages() {
  const error = useGenerationStore((s) => s.error);
  const notice = useGenerationStore((s) => s.notice);
  return (
    <>
      {error && (
        <p className="generate-error" role="alert" data-testid="generate.error">
          {error}
        </p>
      )}
      {notice && (
        <p className="generate-notice" role="status" data-testid="generate.notice">
          {notice}
        </p>
      )}
    </>
  );
}

export function GeneratePanel() {
  const readiness = useGenerationRunner();
  const running = useGenerationStore((s) => s.running);
  const requestGenerate = useGenerationStore((s) => s.actions.requestGenerate);
  return (
    <section className="panel generate-panel" aria-label="Generate">
      <div className="generate-actions">
        <button
          type="button"
          className="generate-primary"
          data-testid="generate.button"
          disabled={!readiness.ready}
          title={readiness.why ?? 'Generate an image (Ctrl+Enter in the prompt)'}
          onClick={() => requestGenerate('button')}
        >
          Generate
        </button>
        <button type="button" data-testid="generate.cancel" disabled={!running} onClick={cancelRun}>
          Cancel
        </button>
        {!readiness.ready && <span className="muted">{readiness.why}</span>}
      </div>
      <RecoveryMessage />
      <Messages />
      <ProgressView />
      <ResultView />
    </section>
  );
}
