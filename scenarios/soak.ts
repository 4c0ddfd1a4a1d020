// soak: long closed loop (VUS, DURATION default 10m); make bench samples server memory meanwhile.
import { buildSuite } from '../lib/k6/suite.ts';

const suite = await buildSuite('soak');
export const options = suite.options;
export const setup = suite.setup;
export const measure = suite.measure;
export const handleSummary = suite.handleSummary;
export default suite.measure;
