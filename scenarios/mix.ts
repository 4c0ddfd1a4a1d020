// mix: several traffic streams at once, one per model (MIX=d0:6,d1:2,d2:1), each a k6 scenario and a level of its own.
import { buildSuite } from '../lib/k6/suite.ts';

const suite = await buildSuite('mix');
export const options = suite.options;
export const setup = suite.setup;
export const measure = suite.measure;
export const handleSummary = suite.handleSummary;
export default suite.measure;
