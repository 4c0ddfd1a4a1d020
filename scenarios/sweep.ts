// sweep: closed loop at each of LEVELS (default 1,2,4,8) one after another, thresholds per level.
import { buildSuite } from '../lib/k6/suite.ts';

const suite = await buildSuite('sweep');
export const options = suite.options;
export const setup = suite.setup;
export const measure = suite.measure;
export const handleSummary = suite.handleSummary;
export default suite.measure;
