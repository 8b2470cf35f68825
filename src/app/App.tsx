import { useEngineInit, usePack } from '../engine-client/queries';
import { useStudioStore } from '../state/studio-store';
import { PackPanel } from './PackPanel';
import { StatusBar } from './StatusBar';

export function App() {
  const backend = useStudioStore((s) => s.backendPreference);
  const packUrl = useStudioStore((s) => s.packUrl);
  const urlProblems = useStudioStore((s) => s.urlProblems);
  const engineCrash = useStudioStore((s) => s.engineCrash);
  const engine = useEngineInit(backend);
  const pack = usePack(backend, packUrl, engine.isSuccess);

  return (
    <div className="studio">
      <header className="studio-header">
        <h1>Subject Studio</h1>
        <StatusBar engine={engine} pack={pack} />
      </header>
      {(engineCrash || urlProblems.length > 0) && (
        <div className="banner bad" role="alert" data-testid="studio.problems">
          {engineCrash && <p>{engineCrash}. Reload the page to start a new engine.</p>}
          {urlProblems.map((p) => (
            <p key={p}>{p}</p>
          ))}
        </div>
      )}
      <main className="studio-main">{pack.data && <PackPanel pack={pack.data} />}</main>
    </div>
  );
}
