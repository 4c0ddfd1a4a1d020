// coldstart: the first requests after the server starts (make bench starts a fresh server; no warm-up).
import { buildSuite } from '../lib/k6/suite.ts';

const suite = await buildSuite('coldstart');
export const options = suite.options;
export const setup = suite.setup;
export const measure = suite.measure;
export const handleSummary = suite.handleSummary;
export default suite.measure;
