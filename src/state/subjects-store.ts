/**
 * Subjects: each a name (@name in the prompt), a class word, reference
 * photos (as many as the loaded pack takes) with painted masks, a strength and its own mask settings. Every
 * change goes through `actions`; photos and masks live in the blob store
 * (storage.ts) and are referred to here by id.
 */
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { DEFAULT_FREQUENCY, DEFAULT_MASK_SETTINGS, type BackgroundFill, type FrequencySettings, type MaskSettings } from '../../workers/generation-types';
import { isValidSubjectName } from '../../workers/pipeline/text/prompt';
import { idbPersistStorage, PERSISTED } from './storage';

/** How many subjects, and photos per subject, the studio holds: the loaded pack's limits. */
export interface SubjectLimits {
  maxSubjects: number;
  maxImagesPerSubject: number;
}

/** The limits until a pack is loaded (the built-in test pack's). */
export const DEFAULT_SUBJECT_LIMITS: Readonly<SubjectLimits> = Object.freeze({ maxSubjects: 4, maxImagesPerSubject: 4 });

export interface MaskRef {
  /** Blob id of the raw mask bytes (one byte per pixel, 0..255). */
  id: string;
  width: number;
  height: number;
}

export interface SubjectImage {
  /** Blob id (sha256) of the stored photo. */
  id: string;
  fileName: string;
  width: number;
  height: number;
  mask: MaskRef | null;
}

export interface Subject {
  id: string;
  name: string;
  classWord: string;
  strength: number;
  images: SubjectImage[];
  maskSettings: MaskSettings;
  fill: BackgroundFill;
  frequency: FrequencySettings;
  layerStart: number;
  stepWindow: [number, number];
}

export type NameProblem = 'empty' | 'invalid' | 'taken' | null;

interface Trashed {
  subject: Subject;
  index: number;
}

export interface SubjectsState {
  subjects: Subject[];
  /** Deleted subjects, newest last, for undo (not persisted). */
  trash: Trashed[];
  /** The subject and image being edited (mask painter). */
  selection: { subjectId: string; imageId: string | null } | null;
  /** The loaded pack's limits (not persisted: they come with the pack). */
  limits: SubjectLimits;
  actions: {
    addSubject(init?: Partial<Pick<Subject, 'name' | 'classWord'>>): Subject;
    rename(id: string, name: string): NameProblem;
    setClassWord(id: string, classWord: string): void;
    setStrength(id: string, strength: number): void;
    update(id: string, patch: Partial<Pick<Subject, 'maskSettings' | 'fill' | 'frequency' | 'layerStart' | 'stepWindow'>>): void;
    remove(id: string): void;
    undoRemove(): Subject | null;
    move(id: string, toIndex: number): void;
    /** Adds photos (already stored as blobs); returns how many did not fit under the limit. */
    addImages(id: string, images: SubjectImage[]): number;
    removeImage(id: string, imageId: string): void;
    setMask(id: string, imageId: string, mask: MaskRef | null): void;
    select(subjectId: string | null, imageId?: string | null): void;
    /** Replaces every subject (reuse of a gallery entry's request). */
    replaceAll(subjects: Subject[]): void;
    /** Sets the limits of the pack now loaded; subjects and photos already there stay. */
    setLimits(limits: SubjectLimits): void;
  };
}

/** Why a name cannot be used, or null. Names are unique ignoring case (the prompt compiler matches case-insensitively). */
export function nameProblem(name: string, subjects: readonly Subject[], selfId?: string): NameProblem {
  if (!name) return 'empty';
  if (!isValidSubjectName(name)) return 'invalid';
  if (subjects.some((s) => s.id !== selfId && s.name.toLowerCase() === name.toLowerCase())) return 'taken';
  return null;
}

export const NAME_PROBLEM_TEXT: Record<Exclude<NameProblem, null>, string> = {
  empty: 'A subject needs a name.',
  invalid: 'Use a letter first, then letters, digits, _ or - (it is typed as @name).',
  taken: 'Another subject already has this name.',
};

function freshName(subjects: readonly Subject[]): string {
  for (let i = 1; ; i++) {
    const name = `subject${i}`;
    if (!nameProblem(name, subjects)) return name;
  }
}

const newId = () => (globalThis.crypto?.randomUUID?.() ?? `s${Date.now()}${Math.random()}`).slice(0, 18);

export const useSubjectsStore = create<SubjectsState>()(
  persist(
    (set, get) => ({
      subjects: [],
      trash: [],
      selection: null,
      limits: DEFAULT_SUBJECT_LIMITS,
      actions: {
        addSubject(init = {}) {
          const subjects = get().subjects;
          const wanted = init.name && !nameProblem(init.name, subjects) ? init.name : freshName(subjects);
          const subject: Subject = {
            id: newId(),
            name: wanted,
            classWord: init.classWord ?? '',
            strength: 1,
            images: [],
            maskSettings: { ...DEFAULT_MASK_SETTINGS },
            fill: 'black',
            frequency: { ...DEFAULT_FREQUENCY },
            layerStart: 0,
            stepWindow: [0, 1],
          };
          set({ subjects: [...subjects, subject], selection: { subjectId: subject.id, imageId: null } });
          return subject;
        },
        rename(id, name) {
          const problem = nameProblem(name, get().subjects, id);
          if (!problem) set({ subjects: get().subjects.map((s) => (s.id === id ? { ...s, name } : s)) });
          return problem;
        },
        setClassWord(id, classWord) {
          set({ subjects: get().subjects.map((s) => (s.id === id ? { ...s, classWord } : s)) });
        },
        setStrength(id, strength) {
          if (!(strength >= 0)) return;
          set({ subjects: get().subjects.map((s) => (s.id === id ? { ...s, strength } : s)) });
        },
        update(id, patch) {
          set({ subjects: get().subjects.map((s) => (s.id === id ? { ...s, ...patch } : s)) });
        },
        remove(id) {
          const { subjects, trash, selection } = get();
          const index = subjects.findIndex((s) => s.id === id);
          if (index < 0) return;
          set({
            subjects: subjects.filter((s) => s.id !== id),
            trash: [...trash, { subject: subjects[index]!, index }],
            selection: selection?.subjectId === id ? null : selection,
          });
        },
        undoRemove() {
          const { subjects, trash } = get();
          const last = trash.at(-1);
          if (!last) return null;
          const restored = nameProblem(last.subject.name, subjects) ? { ...last.subject, name: freshName(subjects) } : last.subject;
          const next = [...subjects];
          next.splice(Math.min(last.index, next.length), 0, restored);
          set({ subjects: next, trash: trash.slice(0, -1) });
          return restored;
        },
        move(id, toIndex) {
          const subjects = [...get().subjects];
          const from = subjects.findIndex((s) => s.id === id);
          if (from < 0) return;
          const [s] = subjects.splice(from, 1);
          subjects.splice(Math.max(0, Math.min(toIndex, subjects.length)), 0, s!);
          set({ subjects });
        },
        addImages(id, images) {
          let rejected = 0;
          set({
            subjects: get().subjects.map((s) => {
              if (s.id !== id) return s;
              const fresh = images.filter((img) => !s.images.some((x) => x.id === img.id));
              const room = get().limits.maxImagesPerSubject - s.images.length;
              rejected = Math.max(0, fresh.length - room);
              return { ...s, images: [...s.images, ...fresh.slice(0, Math.max(0, room))] };
            }),
          });
          return rejected;
        },
        removeImage(id, imageId) {
          set({ subjects: get().subjects.map((s) => (s.id === id ? { ...s, images: s.images.filter((i) => i.id !== imageId) } : s)) });
        },
        setMask(id, imageId, mask) {
          set({
            subjects: get().subjects.map((s) => (s.id === id ? { ...s, images: s.images.map((i) => (i.id === imageId ? { ...i, mask } : i)) } : s)),
          });
        },
        select(subjectId, imageId = null) {
          set({ selection: subjectId ? { subjectId, imageId } : null });
        },
        replaceAll(subjects) {
          set({ subjects, selection: null });
        },
        setLimits(limits) {
          const old = get().limits;
          if (old.maxSubjects !== limits.maxSubjects || old.maxImagesPerSubject !== limits.maxImagesPerSubject) set({ limits: { ...limits } });
        },
      },
    }),
    {
      name: PERSISTED.subjects.key,
      storage: idbPersistStorage<Pick<SubjectsState, 'subjects'>>('your subjects'),
      partialize: (s) => ({ subjects: s.subjects }),
    },
  ),
);
