import { describe, expect, it } from 'vitest';
import { DEFAULT_FREQUENCY, DEFAULT_MASK_SETTINGS } from '../../../workers/generation-types';
import type { Subject } from '../../state/subjects-store';
import { planRequest } from './build-input';

function subject(name: string, photos: number): Subject {
  return {
    id: name,
    name,
    classWord: 'cat',
    strength: 1,
    images: Array.from({ length: photos }, (_, i) => ({ id: `${name}-${i}`, fileName: `${i}.png`, width: 8, height: 8, mask: null })),
    maskSettings: { ...DEFAULT_MASK_SETTINGS },
    fill: 'black',
    frequency: { ...DEFAULT_FREQUENCY },
    layerStart: 0,
    stepWindow: [0, 1],
  };
}

const subjects = [subject('mochi', 1), subject('teddy', 2), subject('empty', 0)];

describe('planRequest', () => {
  it('asks for a prompt first', () => {
    expect(planRequest('   ', subjects)).toEqual({ problem: expect.stringMatching(/^Write a prompt first/) });
  });

  it('names the subjects that do not exist, and the ones there are', () => {
    const plan = planRequest('@mochi and @ghost and @ghost', subjects);
    expect(plan).toEqual({ problem: expect.stringContaining('names @ghost, but there is no such subject') });
    expect('problem' in plan && plan.problem).toContain('Your subjects: @mochi, @teddy, @empty.');
    expect(planRequest('@ghost', [])).toEqual({ problem: expect.stringContaining('You have no subjects yet.') });
  });

  it('wants a photo of every subject used', () => {
    expect(planRequest('@empty on a chair', subjects)).toEqual({ problem: '@empty has no photos yet: add at least one photo of it.' });
  });

  it('uses only the subjects mentioned, in order of first mention, matching names like the compiler', () => {
    const plan = planRequest('@Teddy hugs @mochi, then @teddy sleeps', subjects);
    expect('subjects' in plan && plan.subjects.map((s) => s.name)).toEqual(['teddy', 'mochi']);
    expect('subjects' in plan && plan.subjects).toHaveLength(2);
    expect(planRequest('a quiet room, no subject', subjects)).toEqual({ subjects: [] });
    // "a@b" is an e-mail address, not a mention.
    expect(planRequest('mail me at a@b.com', subjects)).toEqual({ subjects: [] });
  });
});
