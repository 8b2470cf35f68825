/** Placeholder until this feature lands (being built now). */
export function GalleryPanel() {
  return <section className="panel" aria-label="GalleryPanel" />;
}
