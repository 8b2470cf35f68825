import { describe, expect, it } from 'vitest';
import { actionForKey, MASK_ACTIONS, type KeyInput } from './actions';

const key = (k: string, mods: Partial<Omit<KeyInput, 'key'>> = {}): KeyInput => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

describe('the action registry', () => {
  it('has unique ids, labels, descriptions and a test for every shortcut it shows', () => {
    expect(new Set(MASK_ACTIONS.map((a) => a.id)).size).toBe(MASK_ACTIONS.length);
    for (const a of MASK_ACTIONS) {
      expect(a.label).toMatch(/\S/);
      expect(a.description).toMatch(/\.$/);
      if ('shortcut' in a) expect(typeof a.keys).toBe('function');
    }
  });

  it('maps each shortcut to exactly one action', () => {
    const cases: [KeyInput, string][] = [
      [key('b'), 'tool.brush'],
      [key('e'), 'tool.eraser'],
      [key('x'), 'tool.swap'],
      [key('['), 'brush.smaller'],
      [key(']'), 'brush.larger'],
      [key('{', { shiftKey: true }), 'brush.softer'],
      [key('}', { shiftKey: true }), 'brush.harder'],
      // Layouts that report the unshifted character with Shift held.
      [key('[', { shiftKey: true }), 'brush.softer'],
      [key(']', { shiftKey: true }), 'brush.harder'],
      [key('z', { ctrlKey: true }), 'history.undo'],
      [key('z', { metaKey: true }), 'history.undo'],
      [key('Z', { ctrlKey: true, shiftKey: true }), 'history.redo'],
      [key('y', { ctrlKey: true }), 'history.redo'],
      [key('F', { shiftKey: true }), 'mask.fill'],
      [key('Delete'), 'mask.clear'],
      [key('Backspace'), 'mask.clear'],
      [key('i', { ctrlKey: true }), 'mask.invert'],
      [key('+'), 'view.zoomIn'],
      [key('=', { shiftKey: true }), 'view.zoomIn'],
      [key('-'), 'view.zoomOut'],
      [key('0'), 'view.fit'],
      [key('1'), 'view.actual'],
      [key('Escape'), 'editor.close'],
    ];
    for (const [e, id] of cases) {
      const matching = MASK_ACTIONS.filter((a) => a.keys(e)).map((a) => a.id);
      expect(matching, JSON.stringify(e)).toEqual([id]);
      expect(actionForKey(e)?.id).toBe(id);
    }
  });

  it('leaves plain typing, browser shortcuts and modified letters alone', () => {
    for (const e of [key('a'), key('f'), key('z'), key('i'), key('b', { ctrlKey: true }), key('r', { ctrlKey: true }), key('e', { altKey: true }), key('z', { ctrlKey: true, altKey: true }), key('Tab'), key(' ')]) {
      expect(actionForKey(e), JSON.stringify(e)).toBeUndefined();
    }
  });

  it('only Escape works while a text field has focus', () => {
    expect(actionForKey(key('['), true)).toBeUndefined();
    expect(actionForKey(key('z', { ctrlKey: true }), true)).toBeUndefined();
    expect(actionForKey(key('Escape'), true)?.id).toBe('editor.close');
  });
});
