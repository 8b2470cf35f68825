import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import './app/app.css';
import { onEngineCrash } from './engine-client/engine';
import { useStudioStore } from './state/studio-store';

const { actions } = useStudioStore.getState();
actions.applyUrlParams(window.location.search);
onEngineCrash(actions.reportEngineCrash);
// Test builds only: the hooks are in place before the studio renders; a release build has no trace of them.
if (import.meta.env.VITE_TEST_HOOKS) (await import('./test-hooks')).installTestHooks(window);

const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
