// Long loops over client input run in slices: after `sliceMs` of work the loop waits for the
// event loop's next turn, so other clients' fixes, deltas and /healthz are not held behind one
// big request.

/** Call `pause()` between items: it resolves at once, or on the next turn once the slice is used up. */
export function slicer(sliceMs = 10): { pause(): Promise<void> } {
  let startedMs = performance.now();
  return {
    pause: async () => {
      if (performance.now() - startedMs < sliceMs) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
      startedMs = performance.now();
    },
  };
}
