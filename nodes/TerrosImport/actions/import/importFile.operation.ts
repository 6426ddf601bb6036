import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';

import { DEFAULT_DOWNLOAD_CONCURRENCY } from '../../helpers/constants';
import { downloadErrorRows, fetchErrorRecords } from '../../helpers/errorDetails';
import { getColumnMapping } from '../../helpers/importBody';
import { getWaitSettings, waitForImport } from '../../helpers/wait';
import { uploadToSignedUrl } from '../../transport';
import {
	binaryPropertyField,
	importDefinitionFields,
	uploadOptionFields,
	waitFields,
} from './common';
import { createImport } from './create.operation';
import { prepareCsvFile } from './upload.operation';
import { failedImportError, timeoutError, waitOutput } from './waitForCompletion.operation';

const OPERATION = ['importFile'];
const displayOptions = { show: { resource: ['import'], operation: OPERATION } };

export const description: INodeProperties[] = [
	binaryPropertyField(OPERATION),
	...importDefinitionFields(OPERATION),
	uploadOptionFields(OPERATION),
	{
		displayName: 'Wait for Completion',
		name: 'waitForCompletion',
		type: 'boolean',
		default: true,
		description: 'Whether to wait until Terros has processed the file, and output the result',
		displayOptions,
	},
	...waitFields(OPERATION, { waitForCompletion: [true] }),
	{
		displayName: 'Include Failed Rows',
		name: 'includeErrorRows',
		type: 'boolean',
		default: false,
		description:
			'Whether to download the error file of every failed row and add them to the output as failedRows',
		displayOptions: { show: { ...displayOptions.show, waitForCompletion: [true] } },
	},
	{
		displayName: 'Failed Import as Item',
		name: 'failedAsItem',
		type: 'boolean',
		default: false,
		description: 'Whether to output a failed import as an item instead of stopping with an error',
		displayOptions: { show: { ...displayOptions.show, waitForCompletion: [true] } },
	},
];

/** Names the import that was already created in an error from a later step. */
function tagWithImport(error: unknown, importId: string, status: string): unknown {
	if (error && typeof error === 'object' && 'context' in error) {
		const tagged = error as { message: string; context: IDataObject; description?: string | null };
		if (tagged.context.importId === undefined || !tagged.message.includes(importId)) {
			tagged.message = `${tagged.message} [import ${importId} was created; last status ${status}]`;
		}
		tagged.context.importId = importId;
		tagged.context.importStatus = status;
	}
	return error;
}

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const mapping = getColumnMapping.call(this, itemIndex, options);
	// Every check that can fail runs before the import exists.
	const file = await prepareCsvFile.call(this, itemIndex, mapping);
	const wait = this.getNodeParameter('waitForCompletion', itemIndex, true) as boolean;
	const settings = wait ? getWaitSettings.call(this, itemIndex) : undefined;
	const created = await createImport.call(this, itemIndex);
	const importId = created.importId as string;
	let status = String(created.importStatus);
	try {
		const upload = await uploadToSignedUrl.call(this, created.uploadUrl as string, file, {
			action: 'Upload file',
			itemIndex,
			importId,
		});
		// S3 took the file: Terros moves the import to Uploaded, whatever the next step meets.
		status = 'Uploaded';
		const base: IDataObject = {
			importId,
			entity: created.entity,
			name: created.name,
			bytes: file.size,
			uploadAttempts: upload.attempts,
		};
		if (!settings) return [{ json: { ...base, importStatus: 'Uploaded' } }];
		const result = await waitForImport.call(this, importId, itemIndex, settings, (s) => {
			status = s;
		});
		if (result.timedOut) throw timeoutError.call(this, importId, result, itemIndex);
		const failedAsItem = this.getNodeParameter('failedAsItem', itemIndex, false) as boolean;
		if (result.log.importStatus === 'Failed' && !failedAsItem) {
			throw failedImportError.call(this, importId, result.log, itemIndex);
		}
		const json: IDataObject = { ...base, ...waitOutput(importId, result) };
		const includeRows = this.getNodeParameter('includeErrorRows', itemIndex, false) as boolean;
		if (includeRows && Number(result.log.errors ?? 0) > 0) {
			const rows = await downloadErrorRows.call(
				this,
				importId,
				await fetchErrorRecords.call(this, importId, itemIndex),
				DEFAULT_DOWNLOAD_CONCURRENCY,
				itemIndex,
				false,
			);
			json.failedRows = rows.map(({ json: row }) => ({
				row: row.row,
				reason: row.reason,
				...(row.details ? { details: row.details } : {}),
			}));
		}
		return [{ json }];
	} catch (error) {
		throw tagWithImport(error, importId, status);
	}
}
