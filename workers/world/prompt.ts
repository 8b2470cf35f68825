/**
 * The world's prompt grammar: a scene said in words. Subjects are named by a
 * placeholder and their class word ("<s1> toy") when a reference shows them,
 * or by "a" and the class word when only the text describes them.
 */
import { identityFromId } from './identity';
import type { Background, Scene, SceneSubject } from './scene';
import { STYLE_PHRASE } from './vocabulary';

export function backgroundPhrase(b: Background): string {
  switch (b.kind) {
    case 'plain':
      return `on ${article(b.colour!)} ${b.colour} background`;
    case 'striped':
      return `on a striped ${b.colour} background`;
    case 'sky':
      return 'in the sky';
    case 'grass':
      return 'on grass';
    case 'water':
      return 'on water';
  }
}

/** "a" or "an" before a word. */
export const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');

export const positionPhrase = (p: SceneSubject['position']) => (p === 'center' ? 'in the center' : `on the ${p}`);

/**
 * How each subject is named: a placeholder such as "<s1>" (the subject has a
 * reference) or null ("a toy"). Missing entries are null.
 */
export function scenePrompt(scene: Scene, names: (string | null)[] = []): string {
  return promptWith(scene, (word, i) => `${names[i] ?? article(word)} ${word}`);
}

/**
 * The prompt a studio user types for a scene: a subject with a reference as `@name` (the prompt
 * compiler expands it to its placeholder and class word, giving scenePrompt's text exactly), the
 * others as "a toy". Missing entries are null.
 */
export function mentionPrompt(scene: Scene, mentions: (string | null)[] = []): string {
  return promptWith(scene, (word, i) => (mentions[i] ? `@${mentions[i]}` : `${article(word)} ${word}`));
}

function promptWith(scene: Scene, subjectName: (classWord: string, index: number) => string): string {
  const clauses = scene.subjects.map((s, i) => `${subjectName(identityFromId(s.identityId).classWord, i)}, ${s.size}, ${positionPhrase(s.position)}`);
  const parts = [clauses.join(' and '), backgroundPhrase(scene.background)];
  if (scene.object) parts.push(`next to ${article(scene.object.colour)} ${scene.object.colour} ${scene.object.kind}`);
  const style = STYLE_PHRASE[scene.style];
  if (style) parts.push(style);
  return parts.join(', ');
}
