/** Placeholder until this feature lands (being built now). */
export function SubjectsPanel() {
  return <section className="panel" aria-label="SubjectsPanel" />;
}
