/**
 * A pack loaded from a folder the user picked has no URL to fetch it from
 * again: it gets a URL of this scheme, which the engine makes and the UI
 * recognises (it cannot restart on such a pack, nor show its address).
 */
export const LOCAL_PACK_SCHEME = 'local-pack:';

/** The URL of a pack read from a picked folder (`folder`: its top folder's name, if any). */
export const localPackUrl = (folder: string): string => `${LOCAL_PACK_SCHEME}${folder || 'folder'}`;

export const isLocalPackUrl = (url: string): boolean => url.startsWith(LOCAL_PACK_SCHEME);
