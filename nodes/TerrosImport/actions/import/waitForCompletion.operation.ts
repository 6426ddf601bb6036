import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { getImportId } from '../../helpers/importBody';
import type { Halt } from '../../helpers/sleep';
import {
	formatDuration,
	getWaitSettings,
	type WaitResult,
	waitForImport,
} from '../../helpers/wait';
import { importIdField, waitFields } from './common';

export const description: INodeProperties[] = [
	importIdField(['waitForCompletion']),
	...waitFields(['waitForCompletion']),
	{
		displayName: 'Options',
		name: 'waitOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { resource: ['import'], operation: ['waitForCompletion'] } },
		options: [
			{
				displayName: 'Failed Import as Item',
				name: 'failedAsItem',
				type: 'boolean',
				default: false,
				description:
					'Whether to output a failed import as an item instead of stopping with an error',
			},
			{
				displayName: 'Timeout as Item',
				name: 'timeoutAsItem',
				type: 'boolean',
				default: false,
				description:
					'Whether to output an import still running at the timeout as an item (with timedOut true) instead of an error',
			},
		],
	},
];

/** The output of a finished wait: the final log plus how long it took. */
export function waitOutput(importId: string, result: WaitResult): IDataObject {
	const { log } = result;
	return {
		importId,
		entity: log.entity ?? null,
		importStatus: log.importStatus ?? null,
		successes: log.successes ?? 0,
		errors: log.errors ?? 0,
		totalMessages: log.totalMessages ?? 0,
		completedAt: log.completedAt ?? null,
		...(log.reason !== undefined ? { reason: log.reason } : {}),
		timedOut: result.timedOut,
		waitedSeconds: Math.round(result.waitedMs / 100) / 10,
		polls: result.polls,
	};
}

/** The error for an import that ended Failed. */
export function failedImportError(
	this: IExecuteFunctions,
	importId: string,
	log: IDataObject,
	itemIndex: number,
): NodeOperationError {
	const reason = typeof log.reason === 'string' && log.reason ? log.reason : 'no reason given';
	const error = new NodeOperationError(this.getNode(), `Import ${importId} failed: ${reason}`, {
		itemIndex,
		description:
			'Terros could not process the file. Fix what the reason names and import the file again; turn on "Failed Import as Item" to handle failures in the workflow instead.',
	});
	error.context.importId = importId;
	error.context.importStatus = 'Failed';
	return error;
}

/** The error for an import that was still running when the wait gave up. */
export function timeoutError(
	this: IExecuteFunctions,
	importId: string,
	result: WaitResult,
	itemIndex: number,
): NodeOperationError {
	const status = String(result.log.importStatus ?? 'unknown');
	const error = new NodeOperationError(
		this.getNode(),
		`Import ${importId} was still ${status} after ${formatDuration(result.waitedMs)}`,
		{
			itemIndex,
			description: `The import goes on in Terros. Raise "Timeout (Minutes)", or check on it later with the Get or Wait for Completion operation (${result.polls} status checks were made).`,
		},
	);
	error.context.importId = importId;
	error.context.importStatus = status;
	return error;
}

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
	halt?: Halt,
): Promise<INodeExecutionData[]> {
	const importId = getImportId.call(this, itemIndex);
	const settings = getWaitSettings.call(this, itemIndex);
	const options = this.getNodeParameter('waitOptions', itemIndex, {}) as IDataObject;
	const result = await waitForImport.call(this, importId, itemIndex, settings, undefined, halt);
	if (result.timedOut && options.timeoutAsItem !== true) {
		throw timeoutError.call(this, importId, result, itemIndex);
	}
	if (result.log.importStatus === 'Failed' && options.failedAsItem !== true) {
		throw failedImportError.call(this, importId, result.log, itemIndex);
	}
	return [{ json: waitOutput(importId, result) }];
}
