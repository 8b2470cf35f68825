/** Placeholder until this feature lands (being built now). */
export function MaskEditor() {
  return <section className="panel" aria-label="MaskEditor" />;
}
