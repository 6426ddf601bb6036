import type {
	IDataObject,
	IExecuteFunctions,
	IHttpRequestOptions,
	IN8nHttpFullResponse,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import {
	CREDENTIAL_TYPE,
	DOWNLOAD_TIMEOUT_MS,
	REQUEST_TIMEOUT_MS,
	UPLOAD_IDLE_TIMEOUT_MS,
	UPLOAD_MIN_BYTES_PER_SECOND,
} from '../helpers/constants';
import {
	connectionError,
	type FailureContext,
	s3Error,
	terrosEnvelopeError,
	terrosHttpError,
} from './errors';
import { parseRetryAfter, RETRY_POLICIES, type RetryPolicy, waitBeforeRetry } from './retry';

export type TerrosRoute =
	| '/import/add'
	| '/import/get'
	| '/import/errors'
	| '/import/list'
	| '/import/cleanup'
	| '/user/get';

const ROUTES: Record<TerrosRoute, { action: string; policy: RetryPolicy }> = {
	'/import/add': { action: 'Create import', policy: RETRY_POLICIES.create },
	'/import/get': { action: 'Get import', policy: RETRY_POLICIES.read },
	'/import/errors': { action: 'Get import errors', policy: RETRY_POLICIES.read },
	'/import/list': { action: 'List imports', policy: RETRY_POLICIES.read },
	'/import/cleanup': { action: 'Clean up import', policy: RETRY_POLICIES.cleanup },
	'/user/get': { action: 'Get user', policy: RETRY_POLICIES.read },
};

/** Said when Add Import failed in a way that does not tell whether Terros created the import. */
const CHECK_LIST_IMPORTS =
	'Look for it with the Get Many operation (List Imports) before running this node again, or you may create a duplicate.';
const ADD_MAY_HAVE_CREATED = `The request may have reached Terros before the connection failed, so the import may exist. ${CHECK_LIST_IMPORTS}`;
const ADD_ANSWER_AMBIGUOUS = `Terros may have created the import before this answer came. ${CHECK_LIST_IMPORTS}`;

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

type BinaryStream = Awaited<ReturnType<IExecuteFunctions['helpers']['getBinaryStream']>>;

/** A file to upload: its size, and a way to open it afresh for each attempt. */
export interface UploadSource {
	size: number;
	open: () => Promise<BinaryStream | Buffer>;
}

function cancelSignal(ctx: IExecuteFunctions): AbortSignal | undefined {
	return typeof ctx.getExecutionCancelSignal === 'function'
		? ctx.getExecutionCancelSignal()
		: undefined;
}

function stopped(ctx: IExecuteFunctions, itemIndex: number, importId?: string): NodeOperationError {
	const error = new NodeOperationError(ctx.getNode(), 'The execution was stopped', { itemIndex });
	if (importId) error.context.importId = importId;
	return error;
}

/** The network error code behind a failed request (ECONNRESET, ETIMEDOUT, …), if any. */
function networkCode(error: unknown): string | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
		const code = (current as { code?: unknown }).code;
		if (typeof code === 'string' && /^(E[A-Z_]+|ERR_[A-Z_]+)$/.test(code)) return code;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

function parseJsonBody(body: unknown): unknown {
	if (typeof body !== 'string') return body;
	try {
		return JSON.parse(body);
	} catch {
		return body;
	}
}

function isObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The credential's base URL, checked: HTTPS, or plain HTTP to this machine only. */
async function getBaseUrl(this: IExecuteFunctions, itemIndex: number): Promise<string> {
	const credentials = await this.getCredentials(CREDENTIAL_TYPE, itemIndex);
	const raw = String(credentials.baseUrl ?? '').trim() || 'https://api.terros.com';
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new NodeOperationError(this.getNode(), `The Terros base URL "${raw}" is not a URL`, {
			itemIndex,
			description: 'Set the Base URL of the Terros API credential to https://api.terros.com.',
		});
	}
	const loopback = LOOPBACK_HOSTS.test(url.hostname);
	if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
		throw new NodeOperationError(
			this.getNode(),
			`The Terros base URL must start with https:// (got ${url.protocol}//${url.host})`,
			{
				itemIndex,
				description:
					'Terros accepts only HTTPS, and the API key must never travel unencrypted. Plain http:// is allowed only for a simulator on this machine (localhost or 127.0.0.1).',
			},
		);
	}
	return raw.replace(/\/+$/, '');
}

/**
 * Calls a Terros route with the credential, retrying as the route's policy allows, and returns
 * the success body. Every failure becomes a NodeApiError that keeps the HTTP status.
 */
export async function terrosApiRequest(
	this: IExecuteFunctions,
	route: TerrosRoute,
	body: IDataObject,
	itemIndex: number,
	importId?: string,
): Promise<IDataObject> {
	const baseUrl = await getBaseUrl.call(this, itemIndex);
	const { action, policy } = ROUTES[route];
	const ctx: FailureContext = { action, itemIndex, importId };
	const signal = cancelSignal(this);
	for (let attempt = 1; ; attempt++) {
		const canRetry = attempt < policy.maxAttempts;
		let response: IN8nHttpFullResponse;
		try {
			response = (await this.helpers.httpRequestWithAuthentication.call(this, CREDENTIAL_TYPE, {
				method: 'POST',
				url: `${baseUrl}${route}`,
				body,
				json: true,
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
				timeout: REQUEST_TIMEOUT_MS,
			})) as IN8nHttpFullResponse;
		} catch (error) {
			if (signal?.aborted) throw stopped(this, itemIndex, importId);
			const code = networkCode(error);
			if (canRetry && (policy.retryConnectionErrors || code === 'ECONNREFUSED')) {
				await waitBeforeRetry(attempt, signal).catch(() => {
					throw stopped(this, itemIndex, importId);
				});
				continue;
			}
			const failure = connectionError(this.getNode(), ctx, `POST ${route}`, code);
			// A refused connection never reached Terros; any other may have created the import.
			if (route === '/import/add' && code !== 'ECONNREFUSED') {
				failure.description = ADD_MAY_HAVE_CREATED;
			}
			throw failure;
		}
		const { statusCode } = response;
		const parsed = parseJsonBody(response.body);
		if (statusCode >= 200 && statusCode < 300 && isObject(parsed)) {
			if (parsed.type !== 'error') return parsed;
			const type = String(parsed.error);
			const retry =
				(policy.honourRetryFlag && parsed.retry === true) ||
				(parsed.retry !== false && policy.retryTerrosErrors.includes(type));
			if (retry && canRetry) {
				await waitBeforeRetry(attempt, signal).catch(() => {
					throw stopped(this, itemIndex, importId);
				});
				continue;
			}
			throw terrosEnvelopeError(this.getNode(), ctx, parsed);
		}
		if (canRetry && policy.retryStatuses.includes(statusCode)) {
			const retryAfter = parseRetryAfter(response.headers?.['retry-after']);
			await waitBeforeRetry(attempt, signal, retryAfter).catch(() => {
				throw stopped(this, itemIndex, importId);
			});
			continue;
		}
		const failure = terrosHttpError(this.getNode(), ctx, statusCode, parsed);
		// A 5xx from a proxy, or an answer cut short, may come after Terros created the import.
		const ambiguous = statusCode >= 500 || (statusCode >= 200 && statusCode < 300);
		if (route === '/import/add' && ambiguous) {
			failure.description = `${failure.description} ${ADD_ANSWER_AMBIGUOUS}`;
		}
		throw failure;
	}
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
				await waitBeforeRetry(attempt, signal).catch(() => {
					throw stopped(this, ctx.itemIndex, ctx.importId);
				});
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
			await waitBeforeRetry(attempt, signal).catch(() => {
				throw stopped(this, ctx.itemIndex, ctx.importId);
			});
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
				await waitBeforeRetry(attempt, signal).catch(() => {
					throw stopped(this, ctx.itemIndex, ctx.importId);
				});
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
			await waitBeforeRetry(attempt, signal, retryAfter).catch(() => {
				throw stopped(this, ctx.itemIndex, ctx.importId);
			});
			continue;
		}
		throw s3Error(this.getNode(), ctx, response.statusCode, body.toString('utf8'), 'download');
	}
}
