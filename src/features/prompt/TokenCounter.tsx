import { errorText } from '../../app/format';
import type { MentionSubject } from './mentions';
import { usePackCapabilities } from '../models/pack-hooks';
import { usePromptReport } from './hooks';

/** "n / max" tokens of the pack's text encoder, and the text that the limit cuts off. */
export function TokenCounter({ id, prompt, subjects }: { id: string; prompt: string; subjects: readonly MentionSubject[] }) {
  const { report, error, pending } = usePromptReport(prompt, subjects);
  const encoders = usePackCapabilities()?.family.textEncoders ?? "the pack's text encoder";
  const over = report !== undefined && report.tokenCount > report.maxTokens;
  return (
    <div id={id} className="token-counter" aria-live="polite" aria-busy={pending}>
      <span
        className={`token-count${over ? ' over' : ''}`}
        data-testid="prompt.tokens"
        data-count={report?.tokenCount}
        data-max={report?.maxTokens}
        title={`Tokens that ${encoders} read (start and end markers included), out of the most they take; the rest is cut.`}
      >
        {report ? `${report.tokenCount} / ${report.maxTokens}` : '– / –'} tokens
      </span>
      {error && !report && <span className="token-error">token count unavailable: {errorText(error)}</span>}
      {report?.truncatedText && (
        <span className="token-cut" data-testid="prompt.cut">
          cut: <q>{report.truncatedText}</q>
        </span>
      )}
    </div>
  );
}
