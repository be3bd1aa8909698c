/**
 * Milliseconds on one clock that every thread of the process reads alike: `performance.now()` is
 * relative to each thread's own start, `timeOrigin + now()` is not. Engine replicas on several
 * threads stamp their journal events with it.
 */
export const processClockMs = (): number => performance.timeOrigin + performance.now();
