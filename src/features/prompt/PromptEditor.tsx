/**
 * The prompt: @mentions as chips with subject suggestions, unknown names
 * flagged, the token count against the pack's limit, the negative prompt,
 * Ctrl/Cmd+Enter to generate and live mode.
 */
import { useId, useMemo, useState, type KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useGenerationStore } from '../../state/generation-store';
import { usePromptStore } from '../../state/prompt-store';
import { useSubjectsStore } from '../../state/subjects-store';
import { useLiveGenerate } from './hooks';
import { MentionField } from './MentionField';
import { pendingMention, unknownNames, type MentionSubject } from './mentions';
import { TokenCounter } from './TokenCounter';
import { wordsOutsideVocabulary } from './vocabulary';
import { useLoadedPack } from '../models/pack-hooks';
import { useSettingsStore } from '../../state/settings-store';
import './prompt.css';

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

export function PromptEditor() {
  const ids = useId();
  const { prompt, negativePrompt, liveMode, actions } = usePromptStore();
  const subjectsRaw = useSubjectsStore(useShallow((s) => s.subjects.map((x) => `${x.name}\u0000${x.classWord}`)));
  // Only names and class words matter here: photo or strength edits must not re-render the editor.
  const subjects = useMemo<MentionSubject[]>(
    () =>
      subjectsRaw.map((k) => {
        const [name = '', classWord = ''] = k.split('\u0000');
        return { name, classWord };
      }),
    [subjectsRaw],
  );
  const live = useLiveGenerate();
  // At text guidance 1 the unconditional branch weighs 0 and is not run (distilled FLUX.2 klein's default).
  const negativeUnused = useSettingsStore((s) => s.settings.textGuidance === 1);
  const [caret, setCaret] = useState<number | null>(null);
  const unknown = unknownNames(prompt, subjects, pendingMention(prompt, caret, subjects));
  const vocabulary = useLoadedPack().summary?.vocabulary ?? null;
  const outside = vocabulary ? wordsOutsideVocabulary(prompt, vocabulary) : [];
  const addWord = (word: string) => {
    const sep = prompt === '' || /[\s]$/.test(prompt) ? '' : word === ',' ? '' : ' ';
    actions.setPrompt(`${prompt}${sep}${word}${word === ',' ? ' ' : ''}`);
    live.touch();
  };

  const shortcut = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.nativeEvent.isComposing) {
      e.preventDefault();
      live.cancel();
      useGenerationStore.getState().actions.requestGenerate('shortcut');
    }
  };

  const id = (s: string) => `${ids}-${s}`;
  return (
    <section className="panel prompt-editor" aria-labelledby={id('title')}>
      <div className="prompt-head">
        <h2 id={id('title')}>
          <label htmlFor={id('prompt')}>Prompt</label>
        </h2>
        <label className="live-toggle" title="Generate again automatically 0.6 s after you stop typing in the prompt.">
          <input
            type="checkbox"
            data-testid="prompt.live"
            checked={liveMode}
            aria-describedby={id('live-help')}
            onChange={(e) => {
              actions.setLiveMode(e.target.checked);
              if (!e.target.checked) live.cancel();
            }}
          />
          Live
          <span id={id('live-help')} className="visually-hidden">
            Generate again automatically 0.6 seconds after you stop typing in the prompt.
          </span>
        </label>
      </div>
      <MentionField
        id={id('prompt')}
        testId="prompt.input"
        value={prompt}
        caret={caret}
        onCaretChange={setCaret}
        subjects={subjects}
        placeholder={subjects.length ? `@${subjects[0]!.name} sleeping on a stack of books, watercolor` : 'a cat sleeping on a stack of books, watercolor'}
        describedBy={`${id('help')} ${id('tokens')} ${id('unknown')}`}
        onChange={(text) => {
          actions.setPrompt(text);
          live.touch();
        }}
        onKeyDown={shortcut}
      />
      <div className="prompt-meta">
        <p id={id('help')} className="muted prompt-help">
          Type @ to mention a subject · {isMac ? '⌘' : 'Ctrl'}+Enter generates
        </p>
        <TokenCounter id={id('tokens')} prompt={prompt} subjects={subjects} />
      </div>
      {vocabulary && (
        <div className="prompt-vocabulary" data-testid="prompt.vocabulary">
          <span className="muted">This model knows these words:</span>{' '}
          {vocabulary.map((w) => (
            <button key={w} type="button" className="word-chip" onClick={() => addWord(w)} title={`Add “${w}” to the prompt`}>
              {w}
            </button>
          ))}
        </div>
      )}
      <div id={id('unknown')} aria-live="polite">
        {outside.length > 0 && (
          <p className="prompt-notice" data-testid="prompt.outside-vocabulary">
            This model was trained only on its toy world&apos;s words; it does not know {outside.map((w) => `“${w}”`).join(', ')}, so{' '}
            {outside.length === 1 ? 'that word does' : 'those words do'} little.
          </p>
        )}
        {unknown.length > 0 && (
          <p className="prompt-warning" data-testid="prompt.unknown">
            No subject named {unknown.map((n) => `@${n}`).join(', ')}: {unknown.length === 1 ? 'it is' : 'they are'} sent as plain text. Add{' '}
            {unknown.length === 1 ? 'it' : 'them'} under Subjects or fix the spelling.
          </p>
        )}
      </div>
      <label className="prompt-label" htmlFor={id('negative')}>
        Negative prompt
      </label>
      <textarea
        id={id('negative')}
        className="negative-input"
        data-testid="prompt.negative"
        rows={2}
        value={negativePrompt}
        placeholder="blurry, low quality"
        title="What the image should not show: the text guidance steers away from it."
        onChange={(e) => {
          actions.setNegativePrompt(e.target.value);
          live.touch();
        }}
        onKeyDown={shortcut}
      />
      {negativeUnused && (
        <p className="prompt-notice" data-testid="prompt.negative-unused">
          Not used at text guidance 1: without text guidance nothing steers away from it. Raise the text guidance to use it.
        </p>
      )}
    </section>
  );
}
