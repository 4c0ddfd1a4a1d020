// smoke: a few requests per implementation in IMPL (comma list), for CI.
import { buildSuite } from '../lib/k6/suite.ts';

const suite = await buildSuite('smoke');
export const options = suite.options;
export const setup = suite.setup;
export const measure = suite.measure;
export const handleSummary = suite.handleSummary;
export default suite.measure;
