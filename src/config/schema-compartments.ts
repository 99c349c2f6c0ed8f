import { z } from 'zod';
import { Id, numIn } from './schema-common.ts';

export const CompartmentConfig = z.strictObject({
  id: Id,
  name: z.string().min(1).max(64),
  low: numIn(-80, 80).optional().describe('lowest acceptable temperature, C'),
  high: numIn(-80, 80).optional().describe('highest acceptable temperature, C'),
});
export type CompartmentConfig = z.infer<typeof CompartmentConfig>;
