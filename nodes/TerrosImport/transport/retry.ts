import { cancellableSleep } from '../helpers/sleep';

/** Which failures are worth another attempt, and how long to wait between attempts. */
export interface RetryPolicy {
	maxAttempts: number;
	retryStatuses: number[];
	retryConnectionErrors: boolean;
	/** Terros envelope error types that are transient. */
	retryTerrosErrors: string[];
	/** Whether Terros' own `retry: true` in an error body may cause another attempt. */
	honourRetryFlag: boolean;
}

/**
 * Add Import is retried only when Terros certainly created nothing: a 429 refusal, or a
 * connection that was refused outright. After any other failure the request may have reached
 * Terros and the import may exist; a second attempt could create a duplicate that then waits for
 * a file forever. Only the user can tell, from List Imports, whether the first one landed.
 */
export const RETRY_POLICIES = {
	read: {
		maxAttempts: 4,
		retryStatuses: [429, 500, 502, 503, 504],
		retryConnectionErrors: true,
		retryTerrosErrors: ['Server', 'Timeout'],
		honourRetryFlag: true,
	},
	create: {
		maxAttempts: 3,
		retryStatuses: [429],
		retryConnectionErrors: false,
		retryTerrosErrors: [],
		honourRetryFlag: false,
	},
	// S3 replaces the object on a second PUT, so an upload may be repeated until one succeeds.
	upload: {
		maxAttempts: 3,
		retryStatuses: [500, 503],
		retryConnectionErrors: true,
		retryTerrosErrors: [],
		honourRetryFlag: false,
	},
	// Cleanup is idempotent: cleaning an import twice does no harm.
	cleanup: {
		maxAttempts: 3,
		retryStatuses: [429, 500, 502, 503, 504],
		retryConnectionErrors: true,
		retryTerrosErrors: ['Server', 'Timeout'],
		honourRetryFlag: true,
	},
} satisfies Record<string, RetryPolicy>;

export type RetryPolicyName = keyof typeof RETRY_POLICIES;

/** Backoff timing; tests shrink it so that retries take milliseconds. */
export const retryTiming = {
	baseDelayMs: 1000,
	maxDelayMs: 30_000,
	maxRetryAfterMs: 60_000,
};

/** The wait before attempt `attempt + 1`: exponential with full jitter, or the server's hint. */
export function backoffDelay(attempt: number, retryAfterMs?: number): number {
	if (retryAfterMs !== undefined && retryAfterMs >= 0) {
		return Math.min(retryAfterMs, retryTiming.maxRetryAfterMs);
	}
	const ceiling = Math.min(retryTiming.maxDelayMs, retryTiming.baseDelayMs * 2 ** (attempt - 1));
	return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Reads a `Retry-After` header (seconds or an HTTP date) as milliseconds. */
export function parseRetryAfter(value: unknown): number | undefined {
	if (typeof value !== 'string' && typeof value !== 'number') return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
	const date = Date.parse(String(value));
	return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Waits out a backoff; ends early (throwing) when the execution is stopped. */
export async function waitBeforeRetry(
	attempt: number,
	signal: AbortSignal | undefined,
	retryAfterMs?: number,
): Promise<void> {
	await cancellableSleep(backoffDelay(attempt, retryAfterMs), signal);
}
