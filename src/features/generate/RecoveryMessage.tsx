/** What happened to the engine and that the user's work is safe: shown from the crash until dismissed. */
import { useGenerationStore } from '../../state/generation-store';

const SAFE = 'Your subjects, prompt and gallery are safe.';

export function RecoveryMessage() {
  const recovery = useGenerationStore((s) => s.recovery);
  const setRecovery = useGenerationStore((s) => s.actions.setRecovery);
  if (!recovery) return null;
  const text =
    recovery.phase === 'restarting'
      ? `The engine stopped (${recovery.reason}); restarting it… ${SAFE}`
      : recovery.phase === 'restarted'
        ? `The engine stopped (${recovery.reason}); it was restarted. ${SAFE}`
        : `The engine stopped (${recovery.reason}) and could not be restarted: ${recovery.error}. ${SAFE} Reload the page to start it again.`;
  return (
    <div className={`recovery-message ${recovery.phase}`} role={recovery.phase === 'failed' ? 'alert' : 'status'} data-testid="recovery.message" data-phase={recovery.phase}>
      <p>{text}</p>
      {recovery.phase !== 'restarting' && (
        <button type="button" className="link-button" onClick={() => setRecovery(null)}>
          Dismiss
        </button>
      )}
    </div>
  );
}
