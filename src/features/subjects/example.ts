/**
 * "Try an example" on the toy-world pack: two held-out subjects of the toy world (photos and
 * true masks rendered by the world's own generator, here in the page) and a prompt that puts them
 * in a new scene, so a new user reaches a picture of a subject within a minute.
 */
import { exampleCase, type EvalCase } from '../../../workers/world/eval-cases';
import { renderScene } from '../../../workers/world/render';
import { usePromptStore } from '../../state/prompt-store';
import { contentId, putBlob } from '../../state/storage';
import { useSubjectsStore } from '../../state/subjects-store';
import { useSubjectsUi } from './ui-store';

/** RGB bytes -> a PNG Blob (the canvas encodes it). */
async function pngOf(rgb: Uint8Array, size: number): Promise<Blob> {
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(size, size);
  for (let p = 0; p < size * size; p++) img.data.set([rgb[p * 3]!, rgb[p * 3 + 1]!, rgb[p * 3 + 2]!, 255], p * 4);
  ctx.putImageData(img, 0, 0);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas could not encode a PNG'))), 'image/png'));
}

export async function tryExample(example: EvalCase = exampleCase()): Promise<void> {
  const ui = useSubjectsUi.getState().actions;
  const store = useSubjectsStore.getState();
  const missing = example.subjects.filter((s) => !store.subjects.some((x) => x.name.toLowerCase() === s.name.toLowerCase()));
  if (store.subjects.length + missing.length > store.limits.maxSubjects) {
    ui.say('error', `The example adds ${missing.length} subjects; there is room for ${store.limits.maxSubjects - store.subjects.length}. Remove a subject first.`);
    return;
  }
  for (const s of missing) {
    const r = renderScene(s.reference, 128);
    const photo = await pngOf(r.rgb, 128);
    const photoId = await contentId(photo);
    await putBlob(photoId, photo);
    const mask = new Blob([r.subjectMasks[0]! as Uint8Array<ArrayBuffer>]);
    const maskId = await contentId(mask);
    await putBlob(maskId, mask);
    const subject = useSubjectsStore.getState().actions.addSubject({ name: s.name, classWord: s.classWord });
    useSubjectsStore.getState().actions.addImages(subject.id, [
      { id: photoId, fileName: `example-${s.name}.png`, width: 128, height: 128, mask: { id: maskId, width: 128, height: 128 } },
    ]);
  }
  usePromptStore.getState().actions.setPrompt(example.prompt);
  ui.say('info', `Added the example subjects ${example.subjects.map((s) => `@${s.name} (a ${s.classWord})`).join(' and ')} with their masks, and a prompt. Press Generate.`);
}
