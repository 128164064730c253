/**
 * The signature base (RFC 9421 §2.5) and the two headers that carry a
 * signature (§4): `Signature-Input` names what is covered and how,
 * `Signature` carries the bytes. Both are Structured Field dictionaries,
 * parsed and serialized by `structured-headers`, never by hand.
 */
import { parseDictionary, serializeInnerList, type InnerList, type Item, type Parameters } from 'structured-headers';
import { componentValue, serializeComponentIdentifier, type ComponentIdentifier, type RequestOrigin, type SignatureRequestView } from './components.js';

/** One signature as `Signature-Input` and `Signature` describe it. */
export interface SignatureEntry {
  readonly label: string;
  /** The covered components, in order. */
  readonly components: readonly ComponentIdentifier[];
  /** The signature parameters (`created`, `keyid`, …), in order. */
  readonly parameters: Parameters;
  /** The signature bytes. */
  readonly signature: Buffer;
}

/** Why the signature headers cannot be used, before any key or crypto is involved. */
export class SignatureHeaderError extends Error {
  override readonly name = 'SignatureHeaderError';
  constructor(
    readonly kind: 'missing' | 'malformed',
    message: string,
  ) {
    super(message);
  }
}

function parse(name: string, value: string): Map<string, Item | InnerList> {
  try {
    return parseDictionary(value);
  } catch {
    throw new SignatureHeaderError('malformed', `the ${name} header is not a structured dictionary`);
  }
}

function isInnerList(member: Item | InnerList): member is InnerList {
  return Array.isArray(member[0]);
}

/**
 * Reads the signature labelled `label` (or, without a label, the only one)
 * from the `Signature-Input` and `Signature` header values.
 */
export function readSignatureEntry(signatureInput: string | null, signature: string | null, label?: string): SignatureEntry {
  if (signatureInput === null || signature === null) {
    throw new SignatureHeaderError('missing', 'the request has no Signature-Input and Signature headers');
  }
  const inputs = parse('Signature-Input', signatureInput);
  const values = parse('Signature', signature);
  let chosen: string;
  if (label !== undefined) {
    if (!inputs.has(label)) throw new SignatureHeaderError('missing', `the request has no signature labelled ${label}`);
    chosen = label;
  } else {
    // Several signatures with no rule to choose between them: refuse rather than pick one an attacker added.
    if (inputs.size !== 1) throw new SignatureHeaderError('malformed', `Signature-Input holds ${inputs.size} signatures; expected exactly one`);
    chosen = [...inputs.keys()][0] ?? '';
  }
  const input = inputs.get(chosen);
  const value = values.get(chosen);
  if (input === undefined || !isInnerList(input)) throw new SignatureHeaderError('malformed', `Signature-Input ${chosen} is not an inner list`);
  if (value === undefined) throw new SignatureHeaderError('missing', `the Signature header has no ${chosen}`);
  if (isInnerList(value) || !(value[0] instanceof ArrayBuffer)) throw new SignatureHeaderError('malformed', `Signature ${chosen} is not a byte sequence`);

  const [items, parameters] = input;
  const components: ComponentIdentifier[] = [];
  const seen = new Set<string>();
  for (const [name, componentParameters] of items) {
    if (typeof name !== 'string') throw new SignatureHeaderError('malformed', 'a covered component is not a string');
    if (name === '@signature-params') throw new SignatureHeaderError('malformed', '"@signature-params" cannot be a covered component');
    const component = { name, parameters: componentParameters };
    const identifier = serializeComponentIdentifier(component);
    if (seen.has(identifier)) throw new SignatureHeaderError('malformed', `${identifier} is covered twice`);
    seen.add(identifier);
    components.push(component);
  }
  return { label: chosen, components, parameters, signature: Buffer.from(value[0]) };
}

/**
 * The `@signature-params` value: the covered components and the signature
 * parameters as one serialized inner list, exactly as they were ordered.
 */
export function serializeSignatureParams(components: readonly ComponentIdentifier[], parameters: Parameters): string {
  return serializeInnerList([components.map((c): Item => [c.name, c.parameters]), parameters]);
}

/**
 * The signature base for `components` and `parameters` over `request`
 * (RFC 9421 §2.5): one `"identifier": value` line per component, then the
 * `@signature-params` line, joined by LF with no final newline. Throws
 * `ComponentError` when a component cannot be resolved.
 */
export function createSignatureBase(
  request: SignatureRequestView,
  origin: RequestOrigin,
  components: readonly ComponentIdentifier[],
  parameters: Parameters,
): string {
  const lines = components.map((component) => `${serializeComponentIdentifier(component)}: ${componentValue(component, request, origin)}`);
  lines.push(`"@signature-params": ${serializeSignatureParams(components, parameters)}`);
  return lines.join('\n');
}
