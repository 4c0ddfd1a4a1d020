// rate: open model at RATE requests/s (constant arrival rate); dropped iterations thresholded.
import { buildSuite } from '../lib/k6/suite.ts';

const suite = await buildSuite('rate');
export const options = suite.options;
export const setup = suite.setup;
export const measure = suite.measure;
export const handleSummary = suite.handleSummary;
export default suite.measure;
