/** @module The butterfly / vertical / single heatmap: per expiration, one root, tiles priced from mids. */
export { buildHeatmapModel } from './build.js';
export { heatmapCapacity, heatmapModelBytes, heatmapModelJson } from './json.js';
export { orderDescription, orderExpiry, orderPrefix, orderPrice, orderWhat } from './description.js';
export { callDensity, NEAR_ZERO_GAMMA } from './density.js';
export { contractMid } from './mid.js';
export { chooseRoot } from './root-choice.js';
export {
  butterflyTile,
  centsOfMilli,
  priceKey,
  quote,
  sideContext,
  singleTile,
  verticalTile,
} from './tiles.js';
export { DEFAULT_HEATMAP_WIDTHS, normalizeWidths } from './widths.js';
export { inWindow, strikeWindow, windowPctOf } from './window.js';
