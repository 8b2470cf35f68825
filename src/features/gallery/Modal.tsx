/**
 * A modal on the native <dialog>: the browser gives focus trapping, the top
 * layer and Escape (its cancel event, turned into onClose here so React
 * state decides what is open).
 */
import { useEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';
import './dialog.css';

interface Props {
  label: string;
  testId: string;
  onClose(): void;
  onKeyDown?(e: KeyboardEvent<HTMLDialogElement>): void;
  className?: string;
  children: ReactNode;
}

export function Modal({ label, testId, onClose, onKeyDown, className, children }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={`gallery-dialog ${className ?? ''}`}
      aria-label={label}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onKeyDown={onKeyDown}
      // A click on the backdrop lands on the dialog element itself.
      onClick={(e) => e.target === e.currentTarget && onClose()}
    >
      <div className="gallery-dialog-body">
        <button type="button" className="gallery-close" aria-label="Close" onClick={onClose}>
          ×
        </button>
        {children}
      </div>
    </dialog>
  );
}
