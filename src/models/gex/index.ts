/** @module GEX (dealer gamma exposure): per-strike aggregates, walls, zero gamma and the net-GEX profile. */
export { buildGexModel } from './build.js';
export { byOpenInterest, byVolume, sumExposures } from './aggregates.js';
export {
  contractCharm,
  contractDelta,
  contractGex,
  contractVanna,
  vannaCharm,
  CONTRACT_MULTIPLIER,
  ONE_PERCENT,
} from './exposures.js';
export { gexHorizons, horizonDates, shareOf } from './horizons.js';
export { gexView } from './view.js';
export { classifyForGex, SettlementClock } from './eligibility.js';
export { gammaProfileKernel, netGexAt, profileLevels, PROFILE_POINTS, PROFILE_RANGE } from './profile.js';
export { gexWalls } from './walls.js';
export { findRoots, nearestRoot, ROOT_TOLERANCE } from './zero-gamma.js';
