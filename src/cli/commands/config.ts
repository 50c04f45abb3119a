/**
 * @module `chain-worker config [--markdown]`: the effective configuration (secrets hidden), or the README table.
 */
import { redactedConfig } from '../../config/load.js';
import { SETTINGS } from '../../config/settings.js';
import { configFrom } from '../runtime.js';

function fmtDefault(v: unknown): string {
  if (v === undefined) return '—';
  if (Array.isArray(v)) return `\`${v.join(',')}\``;
  return `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
}

/** The configuration table in Markdown. */
export function settingsMarkdown(): string {
  const rows = Object.values(SETTINGS).map(
    (s) => `| \`${s.name}\` | ${fmtDefault(s.default)} | ${s.help.replaceAll('|', '\\|')} |`,
  );
  return ['| Setting | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}

export function configCommand(flags: { config?: string; markdown?: boolean }): number {
  if (flags.markdown) {
    process.stdout.write(`${settingsMarkdown()}\n`);
    return 0;
  }
  process.stdout.write(`${JSON.stringify(redactedConfig(configFrom(flags)), null, 2)}\n`);
  return 0;
}
