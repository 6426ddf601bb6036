import type { IExecuteFunctions, IHttpRequestOptions, IN8nHttpFullResponse } from 'n8n-workflow';

import {
	DOWNLOAD_TIMEOUT_MS,
	UPLOAD_IDLE_TIMEOUT_MS,
	UPLOAD_MIN_BYTES_PER_SECOND,
} from '../helpers/constants';
import { connectionError, type FailureContext, s3Error } from './errors';
import { parseRetryAfter, RETRY_POLICIES } from './retry';
import { cancelSignal, networkCode, pauseBeforeRetry, stopped } from './shared';

type BinaryStream = Awaited<ReturnType<IExecuteFunctions['helpers']['getBinaryStream']>>;

/** A file to upload: its size, and a way to open it afresh for each attempt. */
export interface UploadSource {
	size: number;
	open: () => Promise<BinaryStream | Buffer>;
}

/** The path of a signed URL, without its query string: safe to show. */
export function redactUrl(url: string): string {
	try {
		const parsed = new URL(url);
		return `${parsed.origin}${parsed.pathname}`;
	} catch {
		return '(not a URL)';
	}
}

/**
 * How long one upload attempt may take. n8n's HTTP client counts a request's timeout from its
 * start until the answer, not while data flows, so a fixed timeout would cut off every upload
 * slower than it: the allowance grows with the file, as if sent at UPLOAD_MIN_BYTES_PER_SECOND.
 */
export function uploadTimeoutMs(size: number): number {
	return UPLOAD_IDLE_TIMEOUT_MS + Math.ceil((size / UPLOAD_MIN_BYTES_PER_SECOND) * 1000);
}

/**
 * PUTs a file to a pre-signed S3 URL. No credential goes with it: S3 refuses a second auth
 * mechanism, and the Terros key must never leave for another host.
 */
export async function uploadToSignedUrl(
	this: IExecuteFunctions,
	url: string,
	source: UploadSource,
	ctx: FailureContext,
): Promise<{ etag?: string; attempts: number }> {
	const policy = RETRY_POLICIES.upload;
	const signal = cancelSignal(this);
	for (let attempt = 1; ; attempt++) {
		const canRetry = attempt < policy.maxAttempts;
		const body = await source.open();
		let response: IN8nHttpFullResponse;
		try {
			response = (await this.helpers.httpRequest({
				method: 'PUT',
				url,
				// A stream is sent as it is read; n8n's helper accepts it though the type does not say so.
				body: body as unknown as Buffer,
				headers: { 'Content-Type': 'text/csv', 'Content-Length': String(source.size) },
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
				disableFollowRedirect: true,
				encoding: 'text',
				timeout: uploadTimeoutMs(source.size),
				abortSignal: signal,
			} as IHttpRequestOptions)) as IN8nHttpFullResponse;
		} catch (error) {
			destroyQuietly(body);
			if (signal?.aborted) throw stopped(this, ctx.itemIndex, ctx.importId);
			const code = networkCode(error);
			if (canRetry && policy.retryConnectionErrors) {
				await pauseBeforeRetry(this, attempt, ctx.itemIndex, ctx.importId);
				continue;
			}
			throw connectionError(this.getNode(), ctx, `PUT ${redactUrl(url)}`, code, 'storage');
		}
		const { statusCode } = response;
		if (statusCode >= 200 && statusCode < 300) {
			const etag = response.headers?.etag;
			return { etag: typeof etag === 'string' ? etag : undefined, attempts: attempt };
		}
		const text = typeof response.body === 'string' ? response.body : String(response.body ?? '');
		const transient =
			policy.retryStatuses.includes(statusCode) || /<Code>RequestTimeout<\/Code>/.test(text);
		if (canRetry && transient) {
			await pauseBeforeRetry(this, attempt, ctx.itemIndex, ctx.importId);
			continue;
		}
		throw s3Error(this.getNode(), ctx, statusCode, text);
	}
}

function destroyQuietly(body: unknown) {
	if (body && typeof (body as { destroy?: unknown }).destroy === 'function') {
		(body as { destroy: () => void }).destroy();
	}
}

/** GETs a pre-signed file (an error file), without the credential, retrying transient failures. */
export async function downloadSignedFile(
	this: IExecuteFunctions,
	url: string,
	ctx: FailureContext,
): Promise<{ body: Buffer; contentType: string }> {
	const policy = RETRY_POLICIES.read;
	const signal = cancelSignal(this);
	for (let attempt = 1; ; attempt++) {
		const canRetry = attempt < policy.maxAttempts;
		let response: IN8nHttpFullResponse;
		try {
			response = (await this.helpers.httpRequest({
				method: 'GET',
				url,
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
				encoding: 'arraybuffer',
				timeout: DOWNLOAD_TIMEOUT_MS,
				abortSignal: signal,
			})) as IN8nHttpFullResponse;
		} catch (error) {
			if (signal?.aborted) throw stopped(this, ctx.itemIndex, ctx.importId);
			if (canRetry && policy.retryConnectionErrors) {
				await pauseBeforeRetry(this, attempt, ctx.itemIndex, ctx.importId);
				continue;
			}
			throw connectionError(
				this.getNode(),
				ctx,
				`GET ${redactUrl(url)}`,
				networkCode(error),
				'storage',
			);
		}
		const body = Buffer.isBuffer(response.body)
			? response.body
			: Buffer.from((response.body as string) ?? '');
		if (response.statusCode >= 200 && response.statusCode < 300) {
			const type = response.headers?.['content-type'];
			return { body, contentType: typeof type === 'string' ? type : 'application/octet-stream' };
		}
		if (canRetry && policy.retryStatuses.includes(response.statusCode)) {
			const retryAfter = parseRetryAfter(response.headers?.['retry-after']);
			await pauseBeforeRetry(this, attempt, ctx.itemIndex, ctx.importId, retryAfter);
			continue;
		}
		throw s3Error(this.getNode(), ctx, response.statusCode, body.toString('utf8'), 'download');
	}
}
