/**
 * @module One live object of each hot shape, kept from one build to the next, so that V8 keeps the
 * optimized code that depends on its hidden class.
 *
 * Why: V8 holds a hidden class (map) reached by adding properties (every object literal, every
 * `JSON.parse` result, every class instance after its constructor's assignments) only weakly. Optimized
 * code that embeds such a map (a field load, a map check) is thrown away by the first full collection
 * after the last object of that shape died: "marking dependent code for deoptimization, reason: weak
 * objects". The model builds make their objects (parsed substrates, GEX contracts, kernels, sums) per
 * build and drop them after, so once a full collection fell between two builds, the next build ran its
 * hot loops unoptimized again while V8's helper threads compiled them again: GEX of the burst chain
 * 116–144 → 181–188 ms (median, both symbols) with a full collection before each build, and 866 against
 * 260 TurboFan compilations over the run (the performance log, 4 Dec 17:35). A bench worker's model thread
 * compiled 505 functions in 14 builds.
 *
 * Each site keeps its newest example (the map it holds is the one current objects have, even after V8
 * generalized a field's representation); an example is one small object, never a collection.
 */

const anchors = new Map<string, unknown>();

/** Keeps `example` (an object of the shape built at `site`) alive until the site's next example. */
export function anchorShape(site: string, example: unknown): void {
  if (example !== undefined && example !== null) anchors.set(site, example);
}

/** The examples kept (tests). */
export function anchoredShapes(): ReadonlyMap<string, unknown> {
  return anchors;
}
