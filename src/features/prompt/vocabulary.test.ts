import { describe, expect, it } from 'vitest';
import { promptWords, wordsOutsideVocabulary } from './vocabulary';

const WORLD = ['a', 'toy', 'large', 'on', 'the', 'left', 'striped', 'blue', 'background', ','];

describe('prompt vocabulary', () => {
  it('splits words and punctuation and leaves @mentions out', () => {
    expect(promptWords('@mochi, large, on the LEFT')).toEqual([',', 'large', ',', 'on', 'the', 'left']);
  });

  it('lists each unknown word once, in order; a prompt inside the vocabulary has none', () => {
    expect(wordsOutsideVocabulary('@mochi, large, on the left, on a striped blue background', WORLD)).toEqual([]);
    expect(wordsOutsideVocabulary('a toy on the beach, watercolor, on the beach!', WORLD)).toEqual(['beach', 'watercolor', '!']);
  });
});
