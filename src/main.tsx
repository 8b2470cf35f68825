import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import './app/app.css';
import { onEngineCrash } from './engine-client/engine';
import { installTestHook } from './engine-client/test-hook';
import { useStudioStore } from './state/studio-store';

const { actions } = useStudioStore.getState();
actions.applyUrlParams(window.location.search);
onEngineCrash(actions.reportEngineCrash);
installTestHook(window);

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
