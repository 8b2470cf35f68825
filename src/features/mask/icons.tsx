/** Stroke icons for the mask toolbar (inline SVG). Decorative: the buttons carry the names. */
const PATHS: Record<string, string> = {
  'tool.brush': 'M15 4l5 5L10 19H5v-5L15 4zM13 6l5 5',
  'tool.eraser': 'M8 20h12M4.5 15.5l9-9a2 2 0 0 1 2.8 0l2.2 2.2a2 2 0 0 1 0 2.8L12 18H7z',
  'tool.swap': 'M7 7h11l-3-3M17 17H6l3 3',
  'brush.smaller': 'M12 12m-3 0a3 3 0 1 0 6 0a3 3 0 1 0 -6 0',
  'brush.larger': 'M12 12m-7 0a7 7 0 1 0 14 0a7 7 0 1 0 -14 0',
  'brush.softer': 'M12 12m-7 0a7 7 0 1 0 14 0a7 7 0 1 0 -14 0M9 12h6',
  'brush.harder': 'M12 12m-7 0a7 7 0 1 0 14 0a7 7 0 1 0 -14 0M9 12h6M12 9v6',
  'history.undo': 'M9 14L4 9l5-5M4 9h10a6 6 0 0 1 0 12h-3',
  'history.redo': 'M15 14l5-5-5-5M20 9H10a6 6 0 0 0 0 12h3',
  'mask.fill': 'M4 4h16v16H4zM4 12h16M12 4v16',
  'mask.clear': 'M4 4h16v16H4zM9 9l6 6M15 9l-6 6',
  'mask.invert': 'M12 3a9 9 0 1 0 0 18zM12 3a9 9 0 0 1 0 18',
  'view.zoomIn': 'M11 11m-7 0a7 7 0 1 0 14 0a7 7 0 1 0 -14 0M21 21l-5-5M8 11h6M11 8v6',
  'view.zoomOut': 'M11 11m-7 0a7 7 0 1 0 14 0a7 7 0 1 0 -14 0M21 21l-5-5M8 11h6',
  'view.fit': 'M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5',
  'view.actual': 'M6 8l3-2v12M14 9h.01M14 15h.01M17 8l3-2v12',
  'editor.close': 'M6 6l12 12M18 6L6 18',
};

export function ActionIcon({ id, size = 18 }: { id: string; size?: number }) {
  const d = PATHS[id];
  if (!d) return null;
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d={d} />
    </svg>
  );
}
