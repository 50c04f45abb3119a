/** `node dist/tools/emit-schemas.js`: writes schemas/*.json (part of `npm run build`). */
import { emitSchemas } from '../src/schemas/emit.js';

emitSchemas();
