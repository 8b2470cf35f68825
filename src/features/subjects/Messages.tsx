import { Icon } from './icons';
import { useSubjectsUi, type PanelMessage } from './ui-store';

function MessageList({ items, kind }: { items: PanelMessage[]; kind: PanelMessage['kind'] }) {
  const dismiss = useSubjectsUi((s) => s.actions.dismiss);
  return (
    <ul className={`subjects-messages ${kind}`}>
      {items.map((m) => (
        <li key={m.id} data-testid="subjects.message" data-kind={m.kind}>
          <span>{m.text}</span>
          <button type="button" className="icon-button" aria-label="Dismiss message" onClick={() => dismiss(m.id)}>
            <Icon name="close" size={14} />
          </button>
        </li>
      ))}
    </ul>
  );
}

/**
 * Import results and problems. The live regions are always in the document
 * (a region that appears together with its text is often not announced);
 * problems go to role="alert", everything else to role="status".
 */
export function Messages() {
  const messages = useSubjectsUi((s) => s.messages);
  const busy = useSubjectsUi((s) => s.busy);
  const announcement = useSubjectsUi((s) => s.announcement);
  return (
    <>
      <div role="status" aria-live="polite" data-testid="subjects.status">
        {busy && (
          <p className="subjects-busy" data-testid="subjects.busy">
            <span className="spinner" aria-hidden="true" /> {busy}
          </p>
        )}
        <MessageList items={messages.filter((m) => m.kind === 'info')} kind="info" />
        <span className="visually-hidden" data-testid="subjects.announcement">
          {announcement}
        </span>
      </div>
      <div role="alert" data-testid="subjects.alerts">
        <MessageList items={messages.filter((m) => m.kind === 'error')} kind="error" />
      </div>
    </>
  );
}
