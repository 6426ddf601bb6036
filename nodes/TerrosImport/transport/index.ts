import type { IDataObject, IExecuteFunctions, IN8nHttpFullResponse } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { CREDENTIAL_TYPE, REQUEST_TIMEOUT_MS } from '../helpers/constants';
import {
	connectionError,
	type FailureContext,
	terrosEnvelopeError,
	terrosHttpError,
} from './errors';
import { parseRetryAfter, RETRY_POLICIES, type RetryPolicy } from './retry';
import { cancelSignal, networkCode, pauseBeforeRetry, stopped } from './shared';

export * from './storage';

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
				await pauseBeforeRetry(this, attempt, itemIndex, importId);
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
				await pauseBeforeRetry(this, attempt, itemIndex, importId);
				continue;
			}
			throw terrosEnvelopeError(this.getNode(), ctx, parsed);
		}
		if (canRetry && policy.retryStatuses.includes(statusCode)) {
			const retryAfter = parseRetryAfter(response.headers?.['retry-after']);
			await pauseBeforeRetry(this, attempt, itemIndex, importId, retryAfter);
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
