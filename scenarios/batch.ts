// batch: BATCHES images per multipart request (default 1,4,8,16,32), one size after another; images/s per size.
import { buildSuite } from '../lib/k6/suite.ts';

const suite = await buildSuite('batch');
export const options = suite.options;
export const setup = suite.setup;
export const measure = suite.measure;
export const handleSummary = suite.handleSummary;
export default suite.measure;
