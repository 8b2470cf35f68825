/** Engine state as react-query queries: init once per backend choice, then the pack; a polled status; restarts. */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect } from 'react';
import { onBlobsChanged, storageUse } from '../state/storage';
import { getEngine, initEngine, loadPackInEngine, restartEngine, type BackendPreference } from './engine';

export const engineKeys = {
  init: (backend: BackendPreference) => ['engine', 'init', backend] as const,
  pack: (backend: BackendPreference, url: string) => ['engine', 'pack', backend, url] as const,
  status: ['engine', 'status'] as const,
};

export const storageKey = ['storage', 'use'] as const;

/** How often the status line refreshes memory use and notices a lost GPU device. */
export const STATUS_POLL_MS = 3000;

// The engine's state changes only through our own calls: never refetch behind its back.
const engineQueryOptions = { staleTime: Infinity, gcTime: Infinity, retry: false, refetchOnWindowFocus: false } as const;

export function useEngineInit(backend: BackendPreference) {
  return useQuery({
    queryKey: engineKeys.init(backend),
    queryFn: () => initEngine(backend),
    ...engineQueryOptions,
  });
}

export function usePack(backend: BackendPreference, url: string, enabled: boolean) {
  return useQuery({
    queryKey: engineKeys.pack(backend, url),
    queryFn: () => loadPackInEngine(url),
    enabled,
    ...engineQueryOptions,
  });
}

/**
 * The engine's live status (heap, caches, attention choice, a lost device),
 * polled. status() is a synchronous snapshot in the worker, so polling costs
 * nothing measurable even during a generation.
 */
export function useEngineStatus(enabled: boolean) {
  return useQuery({
    queryKey: engineKeys.status,
    queryFn: () => getEngine().status(),
    enabled,
    refetchInterval: STATUS_POLL_MS,
    staleTime: 0,
    gcTime: Infinity,
    retry: false,
    refetchOnWindowFocus: false,
  });
}

/** The browser's storage estimate for this site, refreshed whenever blobs are written or deleted. */
export function useStorageUse() {
  const client = useQueryClient();
  useEffect(() => onBlobsChanged(() => void client.invalidateQueries({ queryKey: storageKey })), [client]);
  return useQuery({ queryKey: storageKey, queryFn: storageUse, staleTime: 30_000, retry: false, refetchOnWindowFocus: false });
}

/**
 * Restarts the engine on the same backend and pack and puts the fresh
 * worker's answers in the query cache, so every view of the engine and the
 * pack (status line, panels) shows the new worker without refetching.
 */
export function useRestartEngine(): (backend: BackendPreference, packUrl: string) => Promise<void> {
  const client = useQueryClient();
  return useCallback(
    async (backend, packUrl) => {
      const { status, pack } = await restartEngine(backend, packUrl);
      client.setQueryData(engineKeys.init(backend), status);
      client.setQueryData(engineKeys.pack(backend, packUrl), pack);
      client.setQueryData(engineKeys.status, status);
    },
    [client],
  );
}
