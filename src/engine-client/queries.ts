/** Engine state as react-query queries: init once per backend choice, then the pack. */
import { useQuery } from '@tanstack/react-query';
import { absolutePackUrl, getEngine, type BackendPreference } from './engine';

export const engineKeys = {
  init: (backend: BackendPreference) => ['engine', 'init', backend] as const,
  pack: (backend: BackendPreference, url: string) => ['engine', 'pack', backend, url] as const,
};

// The engine's state changes only through our own calls: never refetch behind its back.
const engineQueryOptions = { staleTime: Infinity, gcTime: Infinity, retry: false, refetchOnWindowFocus: false } as const;

export function useEngineInit(backend: BackendPreference) {
  return useQuery({
    queryKey: engineKeys.init(backend),
    queryFn: () => getEngine().init({ backend }),
    ...engineQueryOptions,
  });
}

export function usePack(backend: BackendPreference, url: string, enabled: boolean) {
  return useQuery({
    queryKey: engineKeys.pack(backend, url),
    queryFn: () => getEngine().loadPack(absolutePackUrl(url)),
    enabled,
    ...engineQueryOptions,
  });
}
