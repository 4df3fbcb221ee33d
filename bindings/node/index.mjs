// ES module entry: the same objects as the CommonJS entry (index.js).
import ssews from './index.js';

export const { Server, Client, version, codes } = ssews;
export default ssews;
