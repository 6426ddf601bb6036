import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { terrosApiRequest } from '../transport';
import { cancelSignal } from '../transport/shared';
import { FINAL_STATUSES } from './constants';
import { cancellableSleep, type Halt, type StopSignal } from './sleep';

export interface WaitSettings {
	initialIntervalMs: number;
	maxIntervalMs: number;
	timeoutMs: number;
}

export interface WaitResult {
	log: IDataObject;
	polls: number;
	waitedMs: number;
	timedOut: boolean;
}

/** Reads the wait parameters (seconds and minutes in the editor) as milliseconds. */
export function getWaitSettings(this: IExecuteFunctions, itemIndex: number): WaitSettings {
	const initial = Number(this.getNodeParameter('pollInterval', itemIndex, 5));
	const max = Number(this.getNodeParameter('maxPollInterval', itemIndex, 60));
	const timeout = Number(this.getNodeParameter('timeout', itemIndex, 30));
	const check = (value: number, label: string) => {
		if (!Number.isFinite(value) || value <= 0) {
			throw new NodeOperationError(this.getNode(), `"${label}" must be a number above zero`, {
				itemIndex,
				description: `It is ${String(value)}.`,
			});
		}
	};
	check(initial, 'Poll Interval (Seconds)');
	check(max, 'Max Poll Interval (Seconds)');
	check(timeout, 'Timeout (Minutes)');
	return {
		initialIntervalMs: initial * 1000,
		maxIntervalMs: Math.max(initial, max) * 1000,
		timeoutMs: timeout * 60_000,
	};
}

/**
 * Polls Get Import until the import is Completed or Failed, doubling the interval up to its cap
 * and never sleeping past the deadline. A timeout is returned, not thrown, so the caller decides.
 */
export async function waitForImport(
	this: IExecuteFunctions,
	importId: string,
	itemIndex: number,
	settings: WaitSettings,
	onStatus?: (status: string, log: IDataObject) => void,
	halt?: Halt,
): Promise<WaitResult> {
	const signal = cancelSignal(this);
	const stop: StopSignal = {
		get aborted() {
			return Boolean(signal?.aborted || halt?.stopped);
		},
	};
	const started = Date.now();
	const deadline = started + settings.timeoutMs;
	let interval = settings.initialIntervalMs;
	let polls = 0;
	let lastStatus: string | undefined;
	// The stop button may come during a status check or between two: either way, say where the
	// import was, since it goes on in Terros.
	const stoppedError = () => {
		const error = new NodeOperationError(this.getNode(), 'The execution was stopped', {
			itemIndex,
			description: lastStatus
				? `Import ${importId} was ${lastStatus} when the wait stopped; it goes on in Terros.`
				: `The wait for import ${importId} stopped before its first status check; the import goes on in Terros.`,
		});
		error.context.importId = importId;
		if (lastStatus) error.context.importStatus = lastStatus;
		return error;
	};
	for (;;) {
		if (halt?.stopped) throw stoppedError();
		const response = await terrosApiRequest
			.call(this, '/import/get', { importId }, itemIndex, importId)
			.catch((error: unknown) => {
				throw signal?.aborted ? stoppedError() : error;
			});
		polls++;
		const log = (response.log ?? {}) as IDataObject;
		const status = String(log.importStatus ?? 'unknown');
		if (status !== lastStatus) {
			lastStatus = status;
			onStatus?.(status, log);
		}
		const now = Date.now();
		if (FINAL_STATUSES.includes(status)) {
			return { log, polls, waitedMs: now - started, timedOut: false };
		}
		if (now >= deadline) return { log, polls, waitedMs: now - started, timedOut: true };
		try {
			await cancellableSleep(Math.min(interval, deadline - now), stop);
		} catch {
			throw stoppedError();
		}
		interval = Math.min(interval * 2, settings.maxIntervalMs);
	}
}

/** Formats a duration for messages: "42 s", "3 min 5 s". */
export function formatDuration(ms: number): string {
	const seconds = Math.round(ms / 1000);
	if (seconds < 60) return `${seconds} s`;
	return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
