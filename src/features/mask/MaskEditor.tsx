/**
 * The mask editor: a modal dialog over the studio for the selected photo
 * (subjects store selection.imageId). It loads the photo and its saved mask,
 * paints at the photo's resolution and saves each committed change (saver.ts).
 * Closing (Escape, the close button) commits the stroke in progress and
 * saves before the selection lets go of the photo.
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { isTextEntry } from '../../app/keyboard';
import { useSubjectsStore, type Subject, type SubjectImage } from '../../state/subjects-store';
import { actionForKey, performAction } from './actions';
import { useMaskEditorStore } from './editor-store';
import { MaskSettingsPanel } from './MaskSettings';
import { loadSession } from './load';
import type { MaskSession } from './session';
import { Stage } from './Stage';
import { clearCurrentSession, setCurrentSession } from './current-session';
import { ActionButton, Toolbar } from './Toolbar';
import './mask.css';

export function MaskEditor() {
  const selection = useSubjectsStore((s) => s.selection);
  const subject = useSubjectsStore((s) => s.subjects.find((x) => x.id === selection?.subjectId));
  const image = subject?.images.find((i) => i.id === selection?.imageId);
  if (!subject || !image) return null;
  return <MaskDialog key={`${subject.id}/${image.id}`} subject={subject} image={image} />;
}

type Load = { kind: 'loading' } | { kind: 'ready'; session: MaskSession } | { kind: 'error'; message: string };

/** Fields where keys type text or pick an option: there, only Escape is a shortcut. */
const isTextField = (el: HTMLElement): boolean => isTextEntry(el) || el instanceof HTMLSelectElement;

/** Tab and Shift+Tab wrap inside the dialog (the page behind is inert, but Tab would reach the browser's own UI). */
function trapTab(e: KeyboardEvent<HTMLElement>, root: HTMLElement): void {
  const items = [...root.querySelectorAll<HTMLElement>('button, input, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(
    (el) => !el.matches(':disabled') && el.getClientRects().length > 0 && !(el instanceof HTMLInputElement && el.type === 'radio' && !el.checked),
  );
  const first = items[0];
  const last = items.at(-1);
  if (!first || !last) return;
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

/** Saves before the page goes away; asks the browser to confirm leaving while a save is still due. */
function useUnloadGuard(session: MaskSession | null): void {
  useEffect(() => {
    if (!session) return;
    const save = () => {
      session.painter.finishCommit();
      if (session.saver.unsaved) void session.saver.flush().catch(() => undefined);
    };
    const beforeUnload = (e: BeforeUnloadEvent) => {
      save();
      // The write is asynchronous and may not finish before the page is gone: let the person wait for it.
      if (session.saver.unsaved) e.preventDefault();
    };
    const hidden = () => document.visibilityState === 'hidden' && save();
    window.addEventListener('beforeunload', beforeUnload);
    window.addEventListener('pagehide', save);
    document.addEventListener('visibilitychange', hidden);
    return () => {
      window.removeEventListener('beforeunload', beforeUnload);
      window.removeEventListener('pagehide', save);
      document.removeEventListener('visibilitychange', hidden);
    };
  }, [session]);
}

const SAVE_TEXT = { saved: 'Saved', pending: 'Unsaved changes', saving: 'Saving…' } as const;

function SaveStatus() {
  const save = useMaskEditorStore((s) => s.save);
  return (
    <span className={`mask-save ${save.kind}`} role="status" data-testid="mask.save" data-state={save.kind}>
      {save.kind === 'error' ? `Not saved: ${save.message}` : SAVE_TEXT[save.kind]}
    </span>
  );
}

function MaskDialog({ subject, image }: { subject: Subject; image: SubjectImage }) {
  // The session works on the photo as it was when opened; later store updates are its own saves.
  const [opened] = useState(image);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const hintId = useId();
  const session = load.kind === 'ready' ? load.session : null;
  const subjectId = subject.id;

  useEffect(() => {
    let alive = true;
    let loaded: MaskSession | null = null;
    loadSession(subjectId, opened).then(
      (s) => {
        if (!alive) return s.dispose();
        loaded = s;
        setCurrentSession(s);
        setLoad({ kind: 'ready', session: s });
      },
      (e: unknown) => alive && setLoad({ kind: 'error', message: (e as Error).message }),
    );
    return () => {
      alive = false;
      if (loaded) {
        clearCurrentSession(loaded);
        loaded.dispose();
      }
    };
  }, [subjectId, opened]);

  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);

  useUnloadGuard(session);

  const close = () => (session ? session.close() : useSubjectsStore.getState().actions.select(subjectId, null));

  const onKeyDown = (e: KeyboardEvent<HTMLDialogElement>) => {
    if (e.key === 'Tab') return trapTab(e, e.currentTarget);
    const target = e.target as HTMLElement;
    const inText = isTextField(target);
    // Space pans while held, over the canvas; on a focused button away from the canvas it still presses the button.
    if (e.key === ' ' && session && !inText && (session.pointerOnStage || !target.matches('button, input, select'))) {
      e.preventDefault();
      session.setSpaceHeld(true);
      return;
    }
    const action = actionForKey(e.nativeEvent, inText);
    if (!action) return;
    e.preventDefault();
    if (session) performAction(action, session);
    else if (action.id === 'editor.close') close();
  };

  const onKeyUp = (e: KeyboardEvent<HTMLDialogElement>) => {
    if (e.key !== ' ' || !session?.spaceHeld) return;
    e.preventDefault();
    session.setSpaceHeld(false);
  };

  return (
    <dialog
      ref={dialog}
      className="mask-dialog"
      aria-labelledby={titleId}
      aria-modal="true"
      data-testid="mask.dialog"
      data-state={load.kind}
      onCancel={(e) => {
        // Escape that no key handler took (the browser's own close request): close our way, saving first.
        e.preventDefault();
        close();
      }}
      onKeyDown={onKeyDown}
      onKeyUp={onKeyUp}
    >
      <header className="mask-header">
        <h2 id={titleId}>
          Mask of {opened.fileName}{' '}
          <span className="muted">
            @{subject.name} · {opened.width}×{opened.height}
          </span>
        </h2>
        {session && <SaveStatus />}
        {session ? (
          <ActionButton id="editor.close" editor={session} />
        ) : (
          <button type="button" className="mask-button" data-testid="mask.close" aria-label="Close" title="Close (Esc)" onClick={close}>
            ×
          </button>
        )}
      </header>
      {load.kind === 'loading' && (
        <p className="mask-message" role="status">
          Loading {opened.fileName}…
        </p>
      )}
      {load.kind === 'error' && (
        <p className="mask-message bad" role="alert" data-testid="mask.error">
          {load.message}
        </p>
      )}
      {session?.warning && (
        <p className="mask-message warn" role="alert">
          {session.warning}
        </p>
      )}
      {session && (
        <div className="mask-body">
          <Toolbar editor={session} />
          <Stage session={session} hintId={hintId} />
          <MaskSettingsPanel subject={subject} session={session} />
        </div>
      )}
      <footer className="mask-hints" id={hintId}>
        Drag to paint · <kbd>Space</kbd>+drag or middle button to pan · wheel to zoom · <kbd>[</kbd> <kbd>]</kbd> size · <kbd>Shift</kbd>+<kbd>[</kbd> <kbd>]</kbd> hardness · <kbd>Ctrl</kbd>+<kbd>Z</kbd> undo ·{' '}
        <kbd>Esc</kbd> save and close
      </footer>
    </dialog>
  );
}
