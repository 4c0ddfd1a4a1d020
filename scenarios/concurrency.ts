// concurrency: closed loop at a fixed concurrency: SCENARIO=concurrency1|2|4|8|16|32 (default concurrency8).
import { buildSuite } from '../lib/k6/suite.ts';

const suite = await buildSuite('concurrency', 'concurrency8');
export const options = suite.options;
export const setup = suite.setup;
export const measure = suite.measure;
export const handleSummary = suite.handleSummary;
export default suite.measure;
