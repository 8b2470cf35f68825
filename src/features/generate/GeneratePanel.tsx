/** Placeholder until this feature lands (being built now). */
export function GeneratePanel() {
  return <section className="panel" aria-label="GeneratePanel" />;
}
