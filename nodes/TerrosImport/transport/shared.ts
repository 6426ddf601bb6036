import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { waitBeforeRetry } from './retry';

/** The execution's cancel signal, on hosts that have one. */
export function cancelSignal(ctx: IExecuteFunctions): AbortSignal | undefined {
	return typeof ctx.getExecutionCancelSignal === 'function'
		? ctx.getExecutionCancelSignal()
		: undefined;
}

/** The error for a node whose execution was stopped. */
export function stopped(
	ctx: IExecuteFunctions,
	itemIndex: number,
	importId?: string,
): NodeOperationError {
	const error = new NodeOperationError(ctx.getNode(), 'The execution was stopped', { itemIndex });
	if (importId) error.context.importId = importId;
	return error;
}

/** The network error code behind a failed request (ECONNRESET, ETIMEDOUT, …), if any. */
export function networkCode(error: unknown): string | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
		const code = (current as { code?: unknown }).code;
		if (typeof code === 'string' && /^(E[A-Z_]+|ERR_[A-Z_]+)$/.test(code)) return code;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

/**
 * Waits out the backoff before the next attempt; a stop during the wait ends it with the stop
 * error for this item (and import, if known).
 */
export async function pauseBeforeRetry(
	ctx: IExecuteFunctions,
	attempt: number,
	itemIndex: number,
	importId?: string,
	retryAfterMs?: number,
): Promise<void> {
	await waitBeforeRetry(attempt, cancelSignal(ctx), retryAfterMs).catch(() => {
		throw stopped(ctx, itemIndex, importId);
	});
}
