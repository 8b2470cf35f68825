/**
 * The painter's controls. Every button is an action from the registry
 * (actions.ts), so its name, shortcut hint, enabled state and effect are the
 * ones the keyboard uses too; the sliders set the same brush state that
 * [ ] and Shift+[ ] step.
 */
import { useId } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { actionTitle, getAction, performAction, type MaskActionId, type MaskEditorApi } from './actions';
import { MIN_SIZE, setHardness, setSize, useMaskEditorStore, type MaskEditorUi } from './editor-store';
import { ActionIcon } from './icons';

/** mask.<last part of the action id>: tool.brush -> mask.brush, history.undo -> mask.undo. */
export function actionTestId(id: string): string {
  return `mask.${id.slice(id.indexOf('.') + 1)}`;
}

function dynamicLabel(id: MaskActionId, label: string, ui: MaskEditorUi): string {
  if (id === 'history.undo' && ui.undoLabel) return `Undo ${ui.undoLabel.toLowerCase()}`;
  if (id === 'history.redo' && ui.redoLabel) return `Redo ${ui.redoLabel.toLowerCase()}`;
  return label;
}

interface ButtonProps {
  id: MaskActionId;
  editor: MaskEditorApi;
  /** Show the label next to the icon (wide buttons). */
  text?: boolean;
}

export function ActionButton({ id, editor, text = false }: ButtonProps) {
  const action = getAction(id);
  // Only what this button shows: a zoom or a size change re-renders no button.
  const [enabled, pressed, label] = useMaskEditorStore(
    useShallow((ui) => [action.enabled ? action.enabled(ui) : true, action.pressed?.(ui), dynamicLabel(id, action.label, ui)] as const),
  );
  return (
    <button
      type="button"
      className={`mask-button${text ? ' with-text' : ''}`}
      data-testid={actionTestId(id)}
      aria-label={label}
      aria-keyshortcuts={action.ariaKeys}
      aria-pressed={pressed}
      // aria-disabled rather than disabled: the button stays in the tab order and says why it does nothing.
      aria-disabled={!enabled || undefined}
      title={actionTitle({ ...action, label })}
      onClick={() => performAction(action, editor)}
    >
      <ActionIcon id={id} />
      {text && <span>{action.label}</span>}
      {text && action.shortcut && <kbd aria-hidden="true">{action.shortcut}</kbd>}
    </button>
  );
}

interface SliderProps {
  label: string;
  testId: string;
  title: string;
  min: number;
  max: number;
  step: number;
  value: number;
  valueText: string;
  onChange(v: number): void;
  less: MaskActionId;
  more: MaskActionId;
  editor: MaskEditorApi;
}

function StepSlider({ label, testId, title, min, max, step, value, valueText, onChange, less, more, editor }: SliderProps) {
  const id = useId();
  return (
    <div className="mask-slider" title={title}>
      <label htmlFor={id}>
        {label} <output htmlFor={id}>{valueText}</output>
      </label>
      <div className="mask-slider-row">
        <ActionButton id={less} editor={editor} />
        <input id={id} type="range" data-testid={testId} min={min} max={max} step={step} value={value} aria-valuetext={valueText} onChange={(e) => onChange(Number(e.target.value))} />
        <ActionButton id={more} editor={editor} />
      </div>
    </div>
  );
}

export function Toolbar({ editor }: { editor: MaskEditorApi }) {
  const { size, sizeMax, hardness, overlayColor, overlayOpacity, zoom } = useMaskEditorStore(
    useShallow(({ size, sizeMax, hardness, overlayColor, overlayOpacity, zoom }) => ({ size, sizeMax, hardness, overlayColor, overlayOpacity, zoom })),
  );
  const colorId = useId();
  const opacityId = useId();
  return (
    <div className="mask-toolbar">
      <fieldset>
        <legend>Brush</legend>
        <div className="mask-column">
          <ActionButton id="tool.brush" editor={editor} text />
          <ActionButton id="tool.eraser" editor={editor} text />
        </div>
        <StepSlider
          label="Size"
          testId="mask.size"
          title="Brush diameter in photo pixels ([ and ] step it; a pen's pressure scales it)."
          min={MIN_SIZE}
          max={sizeMax}
          step={1}
          value={size}
          valueText={`${size} px`}
          onChange={setSize}
          less="brush.smaller"
          more="brush.larger"
          editor={editor}
        />
        <StepSlider
          label="Hardness"
          testId="mask.hardness"
          title="How sharp the brush edge is: 0 fades over the whole radius, 100% is crisp (Shift+[ and Shift+] step it)."
          min={0}
          max={1}
          step={0.01}
          value={hardness}
          valueText={`${Math.round(hardness * 100)}%`}
          onChange={setHardness}
          less="brush.softer"
          more="brush.harder"
          editor={editor}
        />
      </fieldset>
      <fieldset>
        <legend>Edit</legend>
        <div className="mask-column">
          <ActionButton id="history.undo" editor={editor} text />
          <ActionButton id="history.redo" editor={editor} text />
          <ActionButton id="mask.fill" editor={editor} text />
          <ActionButton id="mask.clear" editor={editor} text />
          <ActionButton id="mask.invert" editor={editor} text />
        </div>
      </fieldset>
      <fieldset>
        <legend>Overlay</legend>
        <div className="mask-overlay-row" title="The colour that marks the painted subject on the photo.">
          <label htmlFor={colorId}>Colour</label>
          <input id={colorId} type="color" data-testid="mask.overlay-color" value={overlayColor} onChange={(e) => useMaskEditorStore.setState({ overlayColor: e.target.value })} />
        </div>
        <div className="mask-slider" title="How strongly the overlay tints the photo (display only: the mask is unchanged).">
          <label htmlFor={opacityId}>
            Opacity <output htmlFor={opacityId}>{Math.round(overlayOpacity * 100)}%</output>
          </label>
          <input
            id={opacityId}
            type="range"
            data-testid="mask.overlay-opacity"
            min={0}
            max={1}
            step={0.05}
            value={overlayOpacity}
            aria-valuetext={`${Math.round(overlayOpacity * 100)}%`}
            onChange={(e) => useMaskEditorStore.setState({ overlayOpacity: Number(e.target.value) })}
          />
        </div>
      </fieldset>
      <fieldset>
        <legend>
          View <span className="muted" data-testid="mask.zoom">{Math.round(zoom * 100)}%</span>
        </legend>
        <div className="mask-row">
          <ActionButton id="view.zoomOut" editor={editor} />
          <ActionButton id="view.zoomIn" editor={editor} />
          <ActionButton id="view.fit" editor={editor} />
          <ActionButton id="view.actual" editor={editor} />
        </div>
      </fieldset>
    </div>
  );
}
