import { z } from 'zod';
import { GatewayConfigShape } from './schema.ts';

/** The published JSON Schema for editors: what a config file may contain (input side, with defaults). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(GatewayConfigShape, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { title: 'coldgate gateway config', ...schema };
}
