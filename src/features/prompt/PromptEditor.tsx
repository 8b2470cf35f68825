/** Placeholder until this feature lands (being built now). */
export function PromptEditor() {
  return <section className="panel" aria-label="PromptEditor" />;
}
