import { describe, expect, it } from 'vitest';
import { completeMention, findSubjectIndex, highlightSegments, matchSubjects, mentionAtCaret, pendingMention, unknownNames } from './mentions';

const subjects = [
  { name: 'mochi', classWord: 'cat' },
  { name: 'Teddy', classWord: 'bear' },
  { name: 'momo', classWord: 'dog' },
];

describe('highlightSegments', () => {
  it('covers the prompt in order, marking known and unknown mentions', () => {
    const prompt = '@mochi and @ghost near @teddy, watercolor';
    const segs = highlightSegments(prompt, subjects);
    expect(segs.map((s) => s.text).join('')).toBe(prompt);
    expect(segs.map((s) => s.kind)).toEqual(['mention', 'text', 'unknown', 'text', 'mention', 'text']);
    expect(segs[0]).toMatchObject({ name: 'mochi', index: 0, start: 0, end: 6 });
    // Case-insensitive, as the compiler looks names up.
    expect(segs[4]).toMatchObject({ kind: 'mention', name: 'teddy', index: 1 });
    expect(segs[2]).toMatchObject({ kind: 'unknown', name: 'ghost', start: 11, end: 17 });
  });

  it('leaves e-mail addresses and bare @ as text', () => {
    expect(highlightSegments('mail a@mochi.com or @ 1', subjects).map((s) => s.kind)).toEqual(['text']);
    expect(highlightSegments('', subjects)).toEqual([]);
  });

  it('prefers an exact-case match', () => {
    const both = [{ name: 'Ab', classWord: '' }, { name: 'ab', classWord: '' }];
    expect(findSubjectIndex('ab', both)).toBe(1);
    expect(findSubjectIndex('AB', both)).toBe(0);
    expect(findSubjectIndex('x', both)).toBe(-1);
  });
});

describe('unknownNames', () => {
  it('lists each unknown name once, in order', () => {
    expect(unknownNames('@zed @mochi @yan @zed', subjects)).toEqual(['zed', 'yan']);
    expect(unknownNames('@MOCHI', subjects)).toEqual([]);
  });

  it('does not flag a mention still being typed towards a subject name', () => {
    const prompt = '@zed and @mo';
    expect(pendingMention(prompt, 12, subjects)).toBe(9);
    expect(unknownNames(prompt, subjects, pendingMention(prompt, 12, subjects))).toEqual(['zed']);
    // No subject starts with "zz", the caret elsewhere, no caret: flagged.
    expect(pendingMention('@zz', 3, subjects)).toBeNull();
    expect(pendingMention(prompt, 4, subjects)).toBeNull();
    expect(pendingMention(prompt, null, subjects)).toBeNull();
    expect(unknownNames(prompt, subjects, null)).toEqual(['zed', 'mo']);
  });
});

describe('mentionAtCaret', () => {
  it('finds the mention being typed, including a bare @', () => {
    expect(mentionAtCaret('a @', 3)).toEqual({ start: 2, end: 3, query: '' });
    expect(mentionAtCaret('a @mo', 5)).toEqual({ start: 2, end: 5, query: 'mo' });
    // The name goes on after the caret: accepting replaces all of it.
    expect(mentionAtCaret('@mochi sleeps', 3)).toEqual({ start: 0, end: 6, query: 'mo' });
  });

  it('is null outside mentions, after a space, before the @ and in e-mail addresses', () => {
    expect(mentionAtCaret('@mo x', 4)).toBeNull();
    expect(mentionAtCaret('@mo', 0)).toBeNull();
    expect(mentionAtCaret('me@mo', 5)).toBeNull();
    expect(mentionAtCaret('@1', 2)).toBeNull();
    expect(mentionAtCaret('plain', 3)).toBeNull();
    expect(mentionAtCaret('', 0)).toBeNull();
  });
});

describe('matchSubjects', () => {
  it('puts prefix matches first, then substring matches, ignoring case', () => {
    expect(matchSubjects('mo', subjects).map((s) => s.name)).toEqual(['mochi', 'momo']);
    expect(matchSubjects('OM', subjects).map((s) => s.name)).toEqual(['momo']);
    expect(matchSubjects('d', subjects).map((s) => s.name)).toEqual(['Teddy']);
    expect(matchSubjects('', subjects)).toHaveLength(3);
    expect(matchSubjects('', subjects, 2)).toHaveLength(2);
    expect(matchSubjects('zz', subjects)).toEqual([]);
  });
});

describe('completeMention', () => {
  it('replaces the whole mention and adds a space at the end of the prompt', () => {
    expect(completeMention('a @mo', { start: 2, end: 5 }, 'mochi')).toEqual({ text: 'a @mochi ', insert: '@mochi ', caret: 9 });
  });

  it('adds no space inside the prompt', () => {
    const c = completeMention('@mx, watercolor', { start: 0, end: 3 }, 'mochi');
    expect(c.text).toBe('@mochi, watercolor');
    expect(c.caret).toBe(6);
  });
});
