/**
 * @module Configuration errors: each names the setting and what it accepts.
 */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly setting: string,
    readonly accepts: string,
    readonly got?: string,
  ) {
    super(`Invalid configuration: ${setting}: ${accepts}${got === undefined ? '' : ` (got ${got})`}`);
  }
}
