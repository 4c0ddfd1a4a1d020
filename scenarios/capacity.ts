// capacity: staircase of arrival RATES; the summary names the highest rate whose p99 stayed under the SLO.
import { buildSuite } from '../lib/k6/suite.ts';

const suite = await buildSuite('capacity');
export const options = suite.options;
export const setup = suite.setup;
export const measure = suite.measure;
export const handleSummary = suite.handleSummary;
export default suite.measure;
