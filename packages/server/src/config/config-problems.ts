import type { z } from 'zod';
import { GatehouseError } from '../core/errors.js';

// How a bad configuration is reported: every problem on its own line, with where the value came from.

/** Raised when configuration is invalid; `message` names every bad field. */
export function configError(problems: readonly string[]): GatehouseError {
  return new GatehouseError('CONFIG_INVALID', {
    message: `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  });
}

/**
 * Where the value at `field` came from: the source recorded for the field
 * itself or, for an element or member of a value (`trustedOrigins.1`), for
 * the nearest enclosing field that has one.
 */
function sourceOf(field: string, sources: ReadonlyMap<string, string>): string | undefined {
  for (let path = field; path !== ''; path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '') {
    const source = sources.get(path);
    if (source !== undefined) return source;
  }
  return undefined;
}

/** ` (from X)` for the first of `fields` whose origin is known, or nothing for built-in defaults. */
export function fromWhere(sources: ReadonlyMap<string, string>, ...fields: string[]): string {
  const found = [...new Set(fields.map((f) => sourceOf(f, sources)).filter((s) => s !== undefined))];
  return found.length === 0 ? '' : ` (from ${found.join(' and ')})`;
}

/** One line per problem zod found, each naming its field and where its value came from. */
export function describeIssues(error: z.ZodError, sources: ReadonlyMap<string, string>): string[] {
  return error.issues.flatMap((issue) => {
    const field = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      // One line per unknown key, named by its full path, so the message points at the typo.
      return issue.keys.map((key) => {
        const path = field === '' ? key : `${field}.${key}`;
        return `${path}: unknown field${fromWhere(sources, path)}`;
      });
    }
    return [`${field || '(root)'}: ${issue.message}${fromWhere(sources, field)}`];
  });
}
