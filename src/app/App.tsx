import { useEffect } from 'react';
import { useEngineInit, usePack } from '../engine-client/queries';
import { GalleryPanel } from '../features/gallery/GalleryPanel';
import { GeneratePanel } from '../features/generate/GeneratePanel';
import { MaskEditor } from '../features/mask/MaskEditor';
import { PackPanel } from '../features/models/PackPanel';
import { PackProgress } from '../features/models/PackProgress';
import { PromptEditor } from '../features/prompt/PromptEditor';
import { SettingsPanel } from '../features/settings/SettingsPanel';
import { SubjectsPanel } from '../features/subjects/SubjectsPanel';
import { useStudioStore } from '../state/studio-store';
import { useSubjectsStore } from '../state/subjects-store';
import { StatusBar } from './StatusBar';

/**
 * The studio: subjects on the left, prompt + generation + result in the
 * middle, settings on the right, the gallery below; the status line is always
 * visible at the top. The mask editor opens over everything for one photo.
 */
export function App() {
  const backend = useStudioStore((s) => s.backendPreference);
  const packUrl = useStudioStore((s) => s.packUrl);
  const urlProblems = useStudioStore((s) => s.urlProblems);
  const engineCrash = useStudioStore((s) => s.engineCrash);
  const engine = useEngineInit(backend);
  const pack = usePack(backend, packUrl, engine.isSuccess);
  const caps = pack.data?.capabilities;

  // The subjects panel holds as many subjects and photos as the loaded pack takes.
  useEffect(() => {
    if (caps) useSubjectsStore.getState().actions.setLimits({ maxSubjects: caps.maxSubjects, maxImagesPerSubject: caps.maxReferencesPerSubject });
  }, [caps]);

  return (
    <div className="studio">
      <header className="studio-header">
        <h1>Subject Studio</h1>
        <StatusBar engine={engine} pack={pack} />
        <PackProgress />
      </header>
      {(engineCrash || urlProblems.length > 0) && (
        <div className="banner bad" role="alert" data-testid="studio.problems">
          {engineCrash && <p>{engineCrash}</p>}
          {urlProblems.map((p) => (
            <p key={p}>{p}</p>
          ))}
        </div>
      )}
      <main className="studio-main">
        <aside className="studio-left">
          <SubjectsPanel />
        </aside>
        <section className="studio-center">
          <PromptEditor />
          <GeneratePanel />
        </section>
        <aside className="studio-right">
          <SettingsPanel />
          {pack.data && <PackPanel pack={pack.data} />}
        </aside>
        <section className="studio-bottom">
          <GalleryPanel />
        </section>
      </main>
      <MaskEditor />
    </div>
  );
}
