import { sleep } from 'n8n-workflow';

const SLICE_MS = 100;

/** Thrown when the execution was stopped while the node was waiting. */
export class CancelledError extends Error {
	constructor() {
		super('The execution was stopped');
		this.name = 'CancelledError';
	}
}

/** What a sleep watches: an AbortSignal, or anything else that can say it was stopped. */
export interface StopSignal {
	readonly aborted: boolean;
}

/**
 * Set by the router when an item fails and the node stops with its error: work still running
 * for other items (waits) must stop too, or it would go on polling after the node has ended.
 */
export interface Halt {
	stopped: boolean;
}

/**
 * Sleeps in short slices so that a stopped execution ends the wait promptly, on hosts whose
 * `sleep` ignores an abort signal as well as on those that honour it.
 */
export async function cancellableSleep(ms: number, signal?: StopSignal): Promise<void> {
	const end = Date.now() + ms;
	for (;;) {
		if (signal?.aborted) throw new CancelledError();
		const left = end - Date.now();
		if (left <= 0) return;
		await sleep(Math.min(SLICE_MS, left));
	}
}
