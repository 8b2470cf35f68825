/** Placeholder until this feature lands (being built now). */
export function SettingsPanel() {
  return <section className="panel" aria-label="SettingsPanel" />;
}
