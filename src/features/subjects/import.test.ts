import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FREQUENCY, DEFAULT_MASK_SETTINGS } from '../../../workers/generation-types';
import type { Subject } from '../../state/subjects-store';
import { chooseTarget, MAX_FILE_BYTES, notAnImage, summaryText } from './import';

function subject(id: string, images: number): Subject {
  return {
    id,
    name: id,
    classWord: '',
    strength: 1,
    images: Array.from({ length: images }, (_, i) => ({ id: `${id}-${i}`, fileName: `${i}.png`, width: 8, height: 8, mask: null })),
    maskSettings: { ...DEFAULT_MASK_SETTINGS },
    fill: 'black',
    frequency: { ...DEFAULT_FREQUENCY },
    layerStart: 0,
    stepWindow: [0, 1],
  };
}

const file = (name: string, type: string, size = 10) => new File([new Uint8Array(size)], name, { type });

describe('chooseTarget', () => {
  it('uses the subject dropped on, refusing it when full', () => {
    const subjects = [subject('a', 1), subject('b', 4)];
    expect(chooseTarget(subjects, 'b', 'a')).toEqual({ kind: 'existing', subjectId: 'a' });
    expect(chooseTarget(subjects, 'a', 'b')).toEqual({ kind: 'refuse', reason: '@b already has 4 photos, the most a subject holds: remove one first.' });
  });

  it('else the selected subject while it has room, else a new subject', () => {
    const subjects = [subject('a', 3), subject('b', 4)];
    expect(chooseTarget(subjects, 'a')).toEqual({ kind: 'existing', subjectId: 'a' });
    expect(chooseTarget(subjects, 'b')).toEqual({ kind: 'new' });
    expect(chooseTarget(subjects, null)).toEqual({ kind: 'new' });
    expect(chooseTarget([], null)).toEqual({ kind: 'new' });
  });

  it('refuses when the selected subject is full and no more subjects fit', () => {
    const subjects = ['a', 'b', 'c', 'd'].map((id) => subject(id, 4));
    const t = chooseTarget(subjects, 'a');
    expect(t.kind).toBe('refuse');
    expect(t.kind === 'refuse' && t.reason).toMatch(/^@a is full and the studio holds at most 4 subjects/);
  });
});

describe('notAnImage', () => {
  it('accepts image types, and images without a type by their name', () => {
    expect(notAnImage(file('a.jpg', 'image/jpeg'))).toBeNull();
    expect(notAnImage(file('b.webp', ''))).toBeNull();
  });

  it('names the file and says why it is refused', () => {
    expect(notAnImage(file('notes.txt', 'text/plain'))).toBe('"notes.txt" is not an image (text/plain): add JPEG, PNG, WebP, GIF or AVIF photos.');
    expect(notAnImage(file('data', ''))).toBe('"data" is not an image: add JPEG, PNG, WebP, GIF or AVIF photos.');
    expect(notAnImage(file('empty.png', 'image/png', 0))).toBe('"empty.png" is empty (0 bytes).');
    const big = { name: 'huge.png', type: 'image/png', size: MAX_FILE_BYTES + 1 } as File;
    expect(notAnImage(big)).toMatch(/^"huge\.png" is too large/);
  });
});

describe('summaryText', () => {
  it('says how many photos were kept when some did not fit', () => {
    expect(summaryText('cat', 4, 5, 1)).toBe('Kept 4 of 5 photos for @cat: a subject holds at most 4 reference photos, so 1 photo was not added.');
    expect(summaryText('cat', 1, 4, 3)).toBe('Kept 1 of 4 photos for @cat: a subject holds at most 4 reference photos, so 3 photos were not added.');
    expect(summaryText('cat', 2, 2, 0)).toBe('Added 2 photos to @cat.');
    expect(summaryText('cat', 0, 2, 0)).toBeNull();
  });
});
