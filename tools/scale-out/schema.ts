// A minimal JSON-schema validator for the subset our manifest schemas use: type, required,
// properties, additionalProperties: false, enum, items. (No JSON-schema library is installed; this
// subset is all tools/scale-out/testrun.schema.json needs.) Errors name the path, what it got and what was expected.

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean;
  enum?: unknown[];
  items?: Schema;
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Every violation of `schema` by `value`, as "path: problem" lines; [] when it conforms. */
export function validate(value: unknown, schema: Schema, path = '$'): string[] {
  const errors: string[] = [];
  const got = typeOf(value);
  if (schema.type && !(got === schema.type || (schema.type === 'number' && got === 'integer'))) return [`${path}: expected ${schema.type}, got ${got} (${JSON.stringify(value)?.slice(0, 60)})`];
  if (schema.enum && !schema.enum.some((e) => e === value)) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  if (got === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) errors.push(`${path}: missing required field ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = schema.properties?.[k];
      if (sub) errors.push(...validate(v, sub, `${path}.${k}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unknown field ${k} (expected one of ${Object.keys(schema.properties ?? {}).join(', ')})`);
    }
  }
  if (got === 'array' && schema.items) (value as unknown[]).forEach((v, i) => errors.push(...validate(v, schema.items!, `${path}[${i}]`)));
  return errors;
}
