/** `offramp watch`: rollback triggers evaluated continuously (see run.ts), the baseline and manual triggers. */
export { defaultWatchConfig, loadWatchConfig, WatchConfigSchema, type WatchConfig, type WatchConfigInput } from './config.js';
export { runWatch, describeStates, systemClock, type Clock, type WatchOptions, type WatchResult, type WatchDeps } from './run.js';
export { recordBaseline, type BaselineOptions } from './baseline.js';
export { fireManual, clearManual, readManualSignals, loadBaseline, baselinePath } from './signals.js';
export { TriggerEngine, type TriggerState, type Baseline } from './triggers.js';
export { parseCombinedLine, formatCombinedLine, LogFollower } from './nginx-log.js';
export { renderWatchText } from './render.js';
