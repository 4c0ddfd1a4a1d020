// overload: VUS (64) clients against a bounded queue; accepted and refused requests reported apart.
import { buildSuite } from '../lib/k6/suite.ts';

const suite = await buildSuite('overload');
export const options = suite.options;
export const setup = suite.setup;
export const measure = suite.measure;
export const handleSummary = suite.handleSummary;
export default suite.measure;
