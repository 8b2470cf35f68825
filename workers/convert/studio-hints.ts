/**
 * studio.json: what a model folder may say about itself to the studio, beyond diffusers' own
 * files. The project's trained toy-world model (training/export.py) writes one: its name and
 * description, the words it knows (the prompt editor suggests them and notices others), sampling
 * defaults, and which reference modes are exact (it was trained in the studio's cached layout).
 * Downloaded folders have none; the converter then says what it knows from the configs.
 */
import { z } from 'zod';
import { ConvertError } from './errors';
import { readJson, type FolderSource } from './source';

const hintsSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  description: z.string().min(1),
  vocabulary: z.array(z.string().min(1)).min(1).optional(),
  referenceModes: z.object({ cached: z.enum(['exact', 'approximate']), full: z.enum(['exact', 'approximate']) }),
  guidance: z.object({ steps: z.number().int().positive(), text: z.number().nonnegative(), reference: z.number().nonnegative() }),
  trainedSteps: z.number().int().nonnegative().optional(),
});
export type StudioHints = z.infer<typeof hintsSchema>;

export const STUDIO_HINTS_FILE = 'studio.json';

export async function readStudioHints(folder: FolderSource): Promise<StudioHints | undefined> {
  const file = folder.open(STUDIO_HINTS_FILE);
  if (file === undefined) return undefined;
  const parsed = hintsSchema.safeParse(await readJson(file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new ConvertError('bad-json', `${STUDIO_HINTS_FILE}: ${where}: ${issue.message}`, { file: STUDIO_HINTS_FILE });
  }
  return parsed.data;
}
