/** Global test setup: placeholder until the cluster harness lands. */
export default function setup(): void {}
